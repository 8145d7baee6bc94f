"""What the server did while answering, as types: a step asks for the event it needs by type.

Every event has a one-line `message` (what the log and the narration show) and, when it ran
behind the load balancer, the `backend` that did it. `as_data()` is the plain form JSON shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


@dataclass(frozen=True)
class Event:
    """One thing the server did: a credential check, a store read, a verdict, a refusal."""

    message: str
    backend: str | None = field(default=None, kw_only=True)
    kind: ClassVar[str] = "event"

    def as_data(self) -> dict[str, Any]:
        """{"kind", "message", "data"}: the typed fields under data, named as the handout does."""
        data = {_camel(f.name): getattr(self, f.name) for f in fields(self)
                if f.name not in ("message", "backend")}
        if self.backend is not None:
            data["backend"] = self.backend
        return {"kind": self.kind, "message": self.message, "data": data}


@dataclass(frozen=True)
class CredentialsChecked(Event):
    """/login compared the password with the stored hash; `user_id` is None when it failed."""

    user_id: int | None = None
    kind: ClassVar[str] = "credentials"


@dataclass(frozen=True)
class FixationChecked(Event):
    """/login was brought a session ID: what the server did with it (never adopted, unless a
    deliberately weak policy says so)."""

    kind: ClassVar[str] = "fixation"


@dataclass(frozen=True)
class SessionCreated(Event):
    """A new record was written to the store under a new session ID."""

    session_id: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    ttl: int = 0
    kind: ClassVar[str] = "store.write"


@dataclass(frozen=True)
class SessionLookedUp(Event):
    """The store was asked for a session ID; `record` is None when nothing was found."""

    session_id: str = ""
    found: bool = False
    record: dict[str, Any] | None = None
    kind: ClassVar[str] = "store.read"


@dataclass(frozen=True)
class SessionDeleted(Event):
    """Logout asked the store to delete a record; `deleted` says whether there was one."""

    session_id: str | None = None
    deleted: bool = False
    kind: ClassVar[str] = "store.delete"


@dataclass(frozen=True)
class CookieRefused(Event):
    """The request's Cookie header carried no usable session ID."""

    kind: ClassVar[str] = "cookie"


@dataclass(frozen=True)
class CookieCleared(Event):
    """The response tells the client to drop its session cookie."""

    kind: ClassVar[str] = "cookie"


@dataclass(frozen=True)
class QueryIgnored(Event):
    """A credential in the URL's query string was ignored."""

    kind: ClassVar[str] = "query"


@dataclass(frozen=True)
class TokenSigned(Event):
    """/login signed these claims into this token; nothing was stored."""

    claims: dict[str, Any] = field(default_factory=dict)
    token: str = ""
    kind: ClassVar[str] = "sign"


@dataclass(frozen=True)
class TokenChecked(Event):
    """A bearer token was verified; `checks` is empty when it could not even be parsed."""

    checks: list[Any] = field(default_factory=list)
    header: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    kind: ClassVar[str] = "verify"

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.ok is False]


@dataclass(frozen=True)
class AuthorizationRefused(Event):
    """The Authorization header was missing, doubled, or not `Bearer <token>`."""

    kind: ClassVar[str] = "header"


@dataclass(frozen=True)
class TokenLogout(Event):
    """JWT logout: nothing on the server to delete."""

    kind: ClassVar[str] = "logout"


@dataclass(frozen=True)
class JwksServed(Event):
    """The public key set was served."""

    kind: ClassVar[str] = "jwks"


@dataclass(frozen=True)
class Refused(Event):
    """The request was refused before any route ran, or a route refused its input (4xx)."""

    kind: ClassVar[str] = "refused"


@dataclass(frozen=True)
class StoreFailed(Event):
    """The session store did not answer: 503."""

    kind: ClassVar[str] = "store.error"


@dataclass(frozen=True)
class Bug(Event):
    """An exception authcli did not expect: 500, recorded, never hidden."""

    kind: ClassVar[str] = "bug"


@dataclass(frozen=True)
class Balanced(Event):
    """The load balancer chose, skipped or pinned a backend."""

    kind: ClassVar[str] = "balance"


@dataclass(frozen=True)
class Forwarded(Event):
    """The load balancer forwarded the request to `backend`, which answered."""

    kind: ClassVar[str] = "balance"


@dataclass(frozen=True)
class KeyChosen(Event):
    """Where a weak server took its verifying key from (the hardened one: only its own)."""

    kind: ClassVar[str] = "token.key"


@dataclass(frozen=True)
class RefreshChecked(Event):
    """/refresh or /logout looked a refresh token up: rotated, reused (family revoked) or refused."""

    family: str | None = None
    outcome: str = ""  # "rotated", "reused", "revoked", "unknown", "logged out"
    kind: ClassVar[str] = "refresh"


@dataclass(frozen=True)
class DenylistChecked(Event):
    """An access token's jti was looked up in (or added to) the denylist."""

    jti: str = ""
    listed: bool = False
    kind: ClassVar[str] = "denylist"


@dataclass(frozen=True)
class JwksFetched(Event):
    """A verifier fetched the issuer's key set over HTTP: what it sent, what came back (or the
    error), the kids the set holds and the max-age it was kept for."""

    url: str = ""
    request_headers: list[Any] = field(default_factory=list)
    status: int = 0
    reason: str = ""
    response_headers: list[Any] = field(default_factory=list)
    body: str = ""
    kids: list[str] = field(default_factory=list)
    max_age: float | None = None
    error: str = ""
    kind: ClassVar[str] = "jwks.fetch"


@dataclass(frozen=True)
class KeySetCached(Event):
    """A verifier's cache decision for one token's kid: "hit" (the set it holds), "fetch" (none
    yet, stale, or an unknown kid), "cooldown" (a fetch was due, the rate limit said no)."""

    kid: Any = None
    decision: str = ""
    age: float | None = None
    max_age: float | None = None
    wait: float | None = None  # cooldown: seconds until the next fetch is allowed
    kind: ClassVar[str] = "jwks.cache"


@dataclass(frozen=True)
class ProofChecked(Event):
    """A DPoP proof (RFC 9449) was checked: `checks` as for a token, the proof's key thumbprint."""

    checks: list[Any] = field(default_factory=list)
    jkt: str | None = None
    kind: ClassVar[str] = "dpop"

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.ok is False]


@dataclass(frozen=True)
class TokenCookieSet(Event):
    """Login set the token as a cookie; `size` is its name plus value, what browsers limit."""

    size: int = 0
    fits: bool = True
    kind: ClassVar[str] = "cookie"


@dataclass(frozen=True)
class ClientRegistered(Event):
    """RFC 7591 dynamic registration: a client was given a client_id (and a secret if confidential)."""

    client_id: str = ""
    kind: ClassVar[str] = "oauth.register"


@dataclass(frozen=True)
class AuthorizationChecked(Event):
    """The authorization server checked an authorization request; `error` is the RFC 6749 code
    it answered with ("" when the request was good)."""

    client_id: str = ""
    error: str = ""
    kind: ClassVar[str] = "oauth.authorize"


@dataclass(frozen=True)
class CodeIssued(Event):
    """A one-time authorization code was stored, bound to the client, redirect URI and PKCE challenge."""

    record: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "oauth.code"


@dataclass(frozen=True)
class GrantChecked(Event):
    """The token endpoint checked a grant: `error` is the RFC 6749 5.2 code ("" when tokens were issued)."""

    grant: str = ""
    error: str = ""
    checks: list[Any] = field(default_factory=list)
    kind: ClassVar[str] = "oauth.grant"


@dataclass(frozen=True)
class BackChannel(Event):
    """A server made a request of another server (the client app of the authorization server or
    the API): the exchange as that server received and answered it."""

    exchange: Any = None
    kind: ClassVar[str] = "oauth.backchannel"


@dataclass(frozen=True)
class IdTokenChecked(Event):
    """The client verified an ID token claim by claim (OIDC Core 3.1.3.7)."""

    checks: list[Any] = field(default_factory=list)
    kind: ClassVar[str] = "oauth.idtoken"

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.ok is False]
