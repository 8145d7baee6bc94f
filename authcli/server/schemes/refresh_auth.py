"""Short-lived access tokens, rotating refresh tokens, and a jti denylist: what real systems do
about "a logged-out token still works".

Login gives a JWT that lives seconds and an opaque refresh token the server keeps only as a
SHA-256 hash, with its family. /refresh trades a refresh token for a new pair and marks the old
one used; a used one coming back means it was copied, so the whole family is revoked (RFC 9700
4.14.2 asks only that the active refresh token be revoked). The family record lists the jti of
every access token it issued, so revoking the family (reuse, or logout) also denylists those
still alive, each until its exp: a revoked login leaves no working token behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from typing import Any, Callable

from authcli.encoding import is_text
from authcli.errors import HttpError, MalformedToken
from authcli.passwords import HashBound, UserDirectory
from authcli.events import CredentialsChecked, DenylistChecked, Event, RefreshChecked, TokenSigned
from authcli.server.journal import Request, Response
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.routes import NO_STORE, Router, page, read_credentials, refuse_cross_site, text
from authcli.stores.base import overwrite
from authcli.tokens.checks import verify
from authcli.tokens.claims import is_number
from authcli.tokens.keys import SigningKey
from authcli.tokens.parse import split
from authcli.tokens.signing import issue
from authcli.clock import now as clock_now

REFRESH_TTL = 3600  # a refresh token outlives many access tokens: an hour here, days in production


def digest(refresh_token: str) -> str:
    """What the server files a refresh token under: its SHA-256, so a copy of the store is no
    copy of the tokens."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _refresh_token(request: Request) -> str:
    try:
        data = json.loads(request.body.decode("utf-8")) if request.body else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, 'Body is not JSON: send {"refresh_token": "..."}') from None
    token = data.get("refresh_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not 1 <= len(token) <= 200:
        raise HttpError(400, 'Send {"refresh_token": "..."} as JSON')
    if not is_text(token):  # "\ud800" decodes to a lone surrogate, which SHA-256 cannot take
        raise HttpError(400, "refresh_token must be Unicode text (an escaped lone surrogate is not)")
    return token


def _ours(record: Any) -> bool:
    """A refresh record as this server writes it; anything else in a shared store is not one."""
    return (isinstance(record, dict) and isinstance(record.get("family"), str)
            and record.get("state") in ("active", "used") and isinstance(record.get("userId"), int)
            and not isinstance(record.get("userId"), bool))


def _access(fam: dict[str, Any]) -> dict[Any, Any]:
    """The family's access tokens (jti -> exp); a foreign value counts as none."""
    access = fam.get("access")
    return access if isinstance(access, dict) else {}


class RefreshAuth(JwtAuth):
    """JwtAuth with rotating refresh tokens and a denylist, both in `store` (any session store)."""

    mode = "refresh"

    def __init__(self, key: SigningKey, store: Any, access_ttl: int = 3, *, refresh_ttl: int = REFRESH_TTL,
                 users: UserDirectory | None = None, clock: Callable[[], float] = clock_now,
                 hashing: HashBound | None = None):
        super().__init__(key, access_ttl, users=users, clock=clock, denylist=store, hashing=hashing)
        self.store = store
        self.refresh_ttl = refresh_ttl
        self.router = Router({
            "/login": {"POST": self.login},
            "/refresh": {"POST": self.refresh},
            "/profile": {"GET": self.profile},
            "/logout": {"POST": self.logout},
        }, page("jwt.html"), {"/common.js": "common.js", "/jwt.js": "jwt.js", "/style.css": "style.css"},
            slow=frozenset({"/login"}))

    def _pair(self, user_id: int, family: str, events: list[Event]) -> Response:
        iat = int(self.clock())
        claims = {"sub": str(user_id), "userId": user_id, "iat": iat, "exp": iat + self.ttl,
                  "jti": secrets.token_urlsafe(16)}
        access = issue(self.key, claims)
        refresh = secrets.token_urlsafe(32)
        key = f"refresh:{digest(refresh)}"
        record = {"family": family, "userId": user_id, "state": "active"}
        self.store.create(key, record, self.refresh_ttl)
        # The family remembers its access tokens until they expire, so revoking it can reach them.
        fam = self._family(family) or {"userId": user_id, "state": "active"}
        alive = {j: e for j, e in _access(fam).items() if is_number(e) and e > iat}
        overwrite(self.store, f"family:{family}", {**fam, "access": {**alive, claims["jti"]: claims["exp"]}},
                  self.refresh_ttl)
        events.append(TokenSigned(f"signed an access token for {self.ttl} s (jti {claims['jti']})",
                                  claims=claims, token=access))
        events.append(RefreshChecked(self.store.describe("write", key, record, self.refresh_ttl),
                                     family=family, outcome="issued"))
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.ttl,
                "refresh_token": refresh}
        return Response(200, json.dumps(body) + "\n", [("Content-Type", "application/json"), NO_STORE], events)

    def login(self, request: Request) -> Response:
        refuse_cross_site(request)
        email, password = read_credentials(request)
        user = self.users.check(email, password, self.hashing)
        if user is None:
            return text(401, "Wrong credentials", [CredentialsChecked("no user with this email and password")], [NO_STORE])
        family = "fam-" + secrets.token_urlsafe(9)
        self.store.create(f"family:{family}", {"userId": user.user_id, "state": "active"}, self.refresh_ttl)
        return self._pair(user.user_id, family, [CredentialsChecked(f"{email}: password matches",
                                                                    user_id=user.user_id)])

    def refresh(self, request: Request) -> Response:
        refuse_cross_site(request)
        key = f"refresh:{digest(_refresh_token(request))}"
        record = self.store.get(key)
        if not _ours(record):
            why = ": never issued or expired" if record is None else ": not a record this server wrote"
            return text(401, "Unknown or expired refresh token: log in again",
                        [RefreshChecked(self.store.describe("read", key) + why,
                                        outcome="unknown")], [NO_STORE])
        family = record["family"]
        fam = self._family(family) or {"state": "revoked"}
        if fam.get("state") != "active" or not isinstance(fam.get("why", ""), str):
            return text(401, "This refresh token's family was revoked: log in again",
                        [RefreshChecked(f"family {family} was revoked -> 401",
                                        family=family, outcome="revoked")], [NO_STORE])
        if record["state"] == "used":
            # A rotated token came back: either the user or a thief holds a copy. The server
            # cannot tell which, so it ends the family: both must log in again.
            reused: list[Event] = [RefreshChecked(f"{key[:20]}... was already rotated: REUSE. Family "
                                                  f"{family} revoked, its newest refresh token and its "
                                                  "access tokens too -> 401",
                                                  family=family, outcome="reused")]
            self._revoke(family, fam, "a rotated refresh token was used again", reused)
            return text(401, "Refresh token reuse detected: this login is revoked", reused, [NO_STORE])
        overwrite(self.store, key, {**record, "state": "used"}, self.refresh_ttl)
        events: list[Event] = [RefreshChecked(f"{key[:20]}... is active: marked used, a new pair "
                                              "issued in the same family",
                                              family=family, outcome="rotated")]
        return self._pair(record["userId"], family, events)

    def _revoke(self, family: str, fam: dict[str, Any], why: str, events: list[Event]) -> set[str]:
        """Revoke the family, and denylist each access token it issued that has not expired yet,
        for exactly as long as it has left. Returns the jti values listed."""
        overwrite(self.store, f"family:{family}", {**fam, "state": "revoked", "why": why}, self.refresh_ttl)
        now, listed = self.clock(), set()
        for jti, exp in _access(fam).items():
            left = math.ceil(exp - now) if is_number(exp) else 0
            if isinstance(jti, str) and left > 0:
                self._deny(jti, exp, left, events)
                listed.add(jti)
        return listed

    def _family(self, family: str) -> dict[str, Any] | None:
        """The family record, or None when there is none or it is not shaped as this server writes it."""
        fam = self.store.get(f"family:{family}")
        return fam if isinstance(fam, dict) else None

    def _deny(self, jti: str, exp: float, left: int, events: list[Event]) -> None:
        record = {"exp": exp}
        overwrite(self.store, f"deny:{jti}", record, left)
        events.append(DenylistChecked(self.store.describe("write", f"deny:{jti}", record, left)
                                      + ": until the token's exp",
                                      jti=jti, listed=True))

    def _verified(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this server signed and that is still valid, else None: only
        such a token may put its jti on the denylist."""
        try:
            parts = split(token)
        except MalformedToken:
            return None
        verdict = verify(parts, self.verify_key, now=self.clock(), require=self.policy.required_claims)
        return parts.payload if verdict.ok else None

    def logout(self, request: Request) -> Response:
        refuse_cross_site(request)
        events: list[Event] = []
        listed: set[str] = set()
        problem: HttpError | None = None
        if request.body:
            try:
                key = f"refresh:{digest(_refresh_token(request))}"
            except HttpError as err:  # a bad body must not spare the access token: revoke, then say so
                problem = err
            else:
                record = self.store.get(key)
                if _ours(record):
                    family = record["family"]
                    fam = self._family(family)
                    events.append(RefreshChecked(f"family {family} revoked: its refresh tokens are dead, and "
                                                 "its unexpired access tokens go on the denylist",
                                                 family=family, outcome="logged out"))
                    listed = self._revoke(family, fam or {}, "logged out", events)
        token, _, _ = self._bearer(request)
        payload = self._verified(token) if token else None
        if payload is not None:
            jti, exp = payload.get("jti"), payload.get("exp")
            left = math.ceil(exp - self.clock()) if is_number(exp) else 0
            if isinstance(jti, str) and left > 0 and jti not in listed:
                self._deny(jti, exp, left, events)
        if problem is not None:
            done = ("; the access token was denylisted all the same"
                    if any(isinstance(e, DenylistChecked) for e in events) else "")
            return text(problem.status, problem.message + done, events, [NO_STORE])
        return text(200, "Logged out: this login's tokens are revoked", events, [NO_STORE])
