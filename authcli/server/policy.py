"""Every security decision the server makes, as values: one frozen policy per auth scheme.

The defaults are the hardened server that OWASP's session and JWT cheat sheets and RFC 8725 ask
for. A deliberately weak server (for an attack lab) is the same server with other values here,
never a second copy of the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class CookiePolicy:
    """The session cookie's name and the attributes Set-Cookie gives it."""

    name: str = "sessionId"
    path: str = "/"
    http_only: bool = True
    same_site: str | None = "Lax"
    # Secure needs HTTPS: `requests` never sends a Secure cookie back over plain http.
    secure: bool = False

    def attributes(self) -> str:
        attrs = [f"Path={self.path}"]
        if self.http_only:
            attrs.append("HttpOnly")
        if self.same_site:
            attrs.append(f"SameSite={self.same_site}")
        if self.secure:
            attrs.append("Secure")
        return "; ".join(attrs)


@dataclass(frozen=True)
class SessionPolicy:
    """How sessions are issued, carried, checked and ended."""

    ttl: int = 300                      # absolute timeout, seconds from createdAt
    id_bytes: int = 32                  # from `secrets`: 256 bits (OWASP: at least 64)
    cookie: CookiePolicy = field(default_factory=CookiePolicy)
    adopt_client_id: bool = False       # True is session fixation
    logout_deletes_record: bool = True  # False: logout only clears the cookie
    read_id_from_query: bool = False    # ?sessionId= in URLs leaks into logs and Referer
    refuse_cross_site: bool = True      # /login and /logout answer only their own origin (CSRF)

    @cached_property  # read on every request: built once per policy
    def id_pattern(self) -> re.Pattern[str]:
        """The shape of IDs this server issues: anything else is refused before the store."""
        length = -(-self.id_bytes * 4 // 3)  # base64url characters, no padding
        return re.compile(r"[A-Za-z0-9_-]{%d}" % length)


@dataclass(frozen=True)
class JwtPolicy:
    """How tokens are issued and verified."""

    ttl: int = 300
    # The verifier's own list; None: exactly the algorithm of the server's key. Never the token's.
    algorithms: tuple[str, ...] | None = None
    required_claims: tuple[str, ...] = ("exp", "iat", "sub")
    leeway: float = 0                   # one server, one clock
    read_token_from_query: bool = False  # ?access_token= leaks into logs and history (RFC 6750 2.3)
    audience: str | None = None         # a token naming an aud is refused unless it names this
    refuse_cross_site: bool = True      # /login and /logout answer only their own origin
    # Keys always come from the server's side (JwtAuth's SigningKey): no field here lets a
    # token's kid, jku, jwk or x5u header choose one. An attack lab would add that field.


HARDENED_SESSIONS = SessionPolicy()
HARDENED_JWT = JwtPolicy()
