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
class LoginLimits:
    """Failed logins allowed per window (OWASP Authentication, ASVS 2.2.1), before 429."""

    per_account: int = 5        # per account AND address: the attacker's failures never lock the user out elsewhere
    per_address: int = 50       # per address, whatever the accounts: one address spraying many
    window: int = 60            # seconds from the first failure; the longest wait a 429 asks for
    entries: int = 10_000       # counters kept at most; past that a new failing key gets 503


@dataclass(frozen=True)
class SessionPolicy:
    """How sessions are issued, carried, checked and ended."""

    ttl: int = 300                      # absolute timeout, seconds from createdAt
    idle: int | None = None             # idle timeout: seconds without a request (None: off)
    id_bytes: int = 32                  # from `secrets`: 256 bits (OWASP: at least 64)
    cookie: CookiePolicy = field(default_factory=CookiePolicy)
    adopt_client_id: bool = False       # True is session fixation
    logout_deletes_record: bool = True  # False: logout only clears the cookie
    read_id_from_query: bool = False    # ?sessionId= in URLs leaks into logs and Referer
    refuse_cross_site: bool = True      # /login and /logout answer only their own origin (CSRF)
    id_source: str = "secrets"          # "counter": 1001, 1002... anyone can compute a neighbour's
    server_expiry: bool = True          # False: only the cookie's Max-Age ends a session
    # JSON only: an HTML form on another site can post text/plain or urlencoded bodies, never JSON.
    login_content_types: tuple[str, ...] = ("application/json",)
    # None: unlimited password guesses against /login (the lab's no-rate-limit).
    login_limits: LoginLimits | None = field(default_factory=LoginLimits)
    # True: "No user with this email" without hashing, "Wrong password" with: accounts enumerable.
    name_unknown_email: bool = False

    @cached_property  # read on every request: built once per policy
    def id_pattern(self) -> re.Pattern[str]:
        """The shape of IDs this server issues: anything else is refused before the store."""
        if self.id_source == "counter":
            return re.compile(r"[0-9]{1,20}")
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
    # Where the verifying key comes from: "server" (its own SigningKey, the only safe answer),
    # or, for the attack lab, the token's own header: "jwk-header", "jku-header", "kid-path".
    key_source: str = "server"
    verify_signature: bool = True       # False: claims read after a decode, never verified
    accept_alg_none: bool = False       # True: an unsigned token passes
    check_exp: bool = True              # False: last year's token still works
    # True: an RS256 server also verifies HS256, with its public key's PEM as the HMAC secret.
    hmac_with_public_key: bool = False
    # None: the token travels in Authorization: Bearer (RFC 6750). A CookiePolicy: login sets the
    # token as this cookie, /profile reads only the cookie, logout clears it (demo jwt --cookie).
    cookie: CookiePolicy | None = None
    # Claims added to every token this server signs (never replacing sub, iat, exp...): how a
    # token grows past a cookie's 4 KB.
    extra_claims: tuple[tuple[str, object], ...] = ()

    @cached_property
    def lenient(self) -> bool:
        """Any of the attack lab's verification mistakes is on."""
        return (self.key_source != "server" or not self.verify_signature or self.accept_alg_none
                or not self.check_exp or self.hmac_with_public_key)


HARDENED_SESSIONS = SessionPolicy()
# Over HTTPS: Secure, and the __Host- prefix, which browsers accept only with Secure, Path=/ and
# no Domain, so no subdomain and no plain-HTTP page can set or overwrite the cookie.
HTTPS_SESSIONS = SessionPolicy(cookie=CookiePolicy(name="__Host-sessionId", secure=True))
HARDENED_JWT = JwtPolicy()


@dataclass(frozen=True)
class DpopPolicy:
    """DPoP (RFC 9449): which proofs a server accepts, and how long it remembers their jti."""

    algorithms: tuple[str, ...] = ("ES256",)  # asymmetric only: a proof's key travels in it
    max_age: int = 60                   # a proof's iat at most this old (seconds)...
    max_ahead: int = 5                  # ...or this far ahead of the server's clock
    # jti values seen within max_age + max_ahead; more live ones than this and proofs get 503
    # (forgetting one early would let its proof be replayed).
    replay_entries: int = 10_000


HARDENED_DPOP = DpopPolicy()
# The token in a cookie: the same hardened verifier, the token read from an HttpOnly cookie.
JWT_COOKIE = CookiePolicy(name="token")
COOKIE_JWT = JwtPolicy(cookie=JWT_COOKIE)
HTTPS_COOKIE_JWT = JwtPolicy(cookie=CookiePolicy(name="__Host-token", secure=True))


@dataclass(frozen=True)
class OAuthPolicy:
    """The authorization server's decisions (RFC 6749, RFC 7636, OpenID Connect Core 1.0, and
    RFC 9700, the security BCP). A lab's weak provider is this with other values."""

    code_ttl: int = 60                  # RFC 6749 4.1.2: short-lived, 10 minutes at most
    access_ttl: int = 300
    id_token_ttl: int = 300
    refresh_ttl: int = 86400
    # PKCE for every client: RFC 9700 2.1.1 requires it of public clients and recommends it for
    # confidential ones; S256 only (plain shows the verifier to whoever sees the authorization
    # request). False: the lab's stolen code redeemed.
    require_pkce: bool = True
    pkce_methods: tuple[str, ...] = ("S256",)
    # RFC 9700 2.1: redirect URIs compared as exact strings. "prefix": the lab's leak.
    redirect_match: str = "exact"
    # RFC 9700 2.1.2: no implicit flow (response_type=token). True: the lab's access token in the URL.
    allow_implicit: bool = False
    rotate_refresh: bool = True         # RFC 9700 4.14.2: a new refresh token on each use...
    refresh_reuse_revokes: bool = True  # ...and an old one used again revokes the whole family
    refuse_cross_site: bool = True      # the login and consent form answers only its own origin
    # OIDC Core 3.1.2.3: the AS remembers that this browser signed in, in its own cookie
    # (HttpOnly; SameSite=Lax; Secure and __Host- over HTTPS): a later /authorize asks for
    # consent only, unless prompt=login. Seconds it lasts; 0: a password every time.
    login_ttl: int = 600
    login_cookie: CookiePolicy = field(default_factory=lambda: CookiePolicy(name="as_session"))
    max_logins: int = 10_000
    # Bounds (SECURITY 22, 24): registered clients, live codes, refresh records. Past one, the
    # oldest of the client address keeping the most is dropped for the newcomer: refusing
    # everyone (503) let one student fill it and lock the class out (refresh tokens for a day).
    max_clients: int = 1000
    clients_per_address: int = 20       # clients one address may keep (then 429)
    max_codes: int = 10_000
    max_refresh: int = 10_000
    # The login form's failed passwords, counted as /login counts them (OWASP Authentication):
    # per account and address, then 429 with Retry-After before any hash. None: unlimited.
    login_limits: LoginLimits | None = field(default_factory=LoginLimits)
    alg: str = "RS256"                  # ID and access tokens; OIDC Core 15.1 requires RS256 support


HARDENED_OAUTH = OAuthPolicy()


@dataclass(frozen=True)
class RelyingPolicy:
    """The client app's own checks on what comes back from the authorization server: the AS cannot
    make them for it. A lab's weak client is this with other values."""

    check_state: bool = True            # RFC 6749 10.12: the callback's state is this browser's
    use_pkce: bool = True               # RFC 9700 2.1.1: a code_verifier kept in this browser's session
    check_nonce: bool = True            # OIDC Core 3.1.3.7: the ID token's nonce is this login's
    check_aud: bool = True              # OIDC Core 3.1.3.7: the ID token's aud names this client


HARDENED_RELYING = RelyingPolicy()
