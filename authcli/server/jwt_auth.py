"""JWT bearer authentication: /login signs a token, /profile verifies it, nothing is stored."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any, Callable

from authcli.passwords import UserDirectory, demo_users
from authcli.server.journal import Event, Request, Response
from authcli.server.routes import Router, read_credentials, text
from authcli.tokens import MalformedToken, SigningKey, issue, split, utc, verify

NO_STORE = ("Cache-Control", "no-store")
JWT_USER_ID = 123  # the handout's jwt.sign({ userId: 123 }, ...)
REQUIRED = ("exp", "iat", "sub")
REALM = 'Bearer realm="authcli"'

INDEX = """<!doctype html>
<meta charset="utf-8"><title>authcli JWT server</title>
<h1>authcli: JWT bearer tokens</h1>
<p>POST /login with JSON {"email": "a@b.com", "password": "123"} returns a token; send it as
<code>Authorization: Bearer &lt;token&gt;</code> to GET /profile. Browsers do not attach it by
themselves: use curl (see the README).</p>
"""


def _quoted(text: str) -> str:
    """A value safe inside a WWW-Authenticate quoted-string (RFC 6750 3: no `"` or `\\`)."""
    return re.sub(r'[^\x20-\x7e]|["\\]', "'", text)[:200]


def invalid_token(description: str, events: list[Event]) -> Response:
    challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(description)}"'
    return text(401, f"Invalid token: {description}", events, [("WWW-Authenticate", challenge), NO_STORE])


class JwtAuth:
    """The handout's jwt.sign / jwt.verify, with the algorithm pinned and exp required."""

    mode = "jwt"
    store = None

    def __init__(self, key: SigningKey, ttl: int, *, users: UserDirectory | None = None,
                 clock: Callable[[], float] = time.time, leeway: float = 0):
        self.key = key
        self.ttl = ttl
        self.users = users or demo_users(JWT_USER_ID)
        self.clock = clock
        self.leeway = leeway
        table: dict[str, dict[str, Any]] = {
            "/login": {"POST": self.login},
            "/profile": {"GET": self.profile},
            "/logout": {"POST": self.logout},
        }
        if key.jwks is not None:
            table["/.well-known/jwks.json"] = {"GET": self.jwks}
        self.router = Router(table, INDEX)

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def login(self, request: Request) -> Response:
        email, password = read_credentials(request)
        user = self.users.check(email, password)
        if user is None:
            return text(401, "Wrong credentials", [Event("credentials", "no user with this email and "
                        "password (checked against a salted scrypt hash, in constant time)")], [NO_STORE])
        now = self.clock()
        # NumericDates are whole seconds. exp is rounded to the nearest one, so a token lives
        # ttl +/- 0.5 s: rounding down could leave a 1-second token a few milliseconds, and
        # rounding up would make every demo wait half a second more on average.
        claims = {"sub": str(user.user_id), "userId": user.user_id, "iat": int(now),
                  "exp": round(now + self.ttl), "jti": secrets.token_urlsafe(16)}
        token = issue(self.key, claims)
        events = [
            Event("credentials", f"{email}: password matches the stored scrypt hash", {"userId": user.user_id}),
            Event("sign", f"signed {json.dumps(claims)} with {self.key.alg}: a {len(token)}-character "
                  "token. Nothing was stored on the server.", {"claims": claims, "token": token}),
        ]
        body = json.dumps({"token": token, "token_type": "Bearer", "expires_in": self.ttl})
        return Response(200, body + "\n", [("Content-Type", "application/json"), NO_STORE], events)

    def _bearer(self, request: Request) -> tuple[str | None, Response | None, list[Event]]:
        events = []
        if re.search(r"[?&]access_token=", request.target):
            events.append(Event("query", "?access_token= in the URL is ignored: tokens are read only "
                                "from the Authorization header (URLs leak into logs and history)"))
        values = request.header_values("Authorization")
        if not values:
            events.append(Event("header", "no Authorization header -> 401"))
            return None, text(401, "Not logged in: send Authorization: Bearer <token>", events,
                              [("WWW-Authenticate", REALM), NO_STORE]), events
        if len(values) > 1:
            events.append(Event("header", f"{len(values)} Authorization headers: ambiguous -> 400"))
            return None, text(400, "Send exactly one Authorization header", events,
                              [("WWW-Authenticate", f'{REALM}, error="invalid_request"'), NO_STORE]), events
        scheme, _, token = values[0].strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            events.append(Event("header", "Authorization is not 'Bearer <token>' -> 401"))
            return None, text(401, "Not logged in: send Authorization: Bearer <token>", events,
                              [("WWW-Authenticate", REALM), NO_STORE]), events
        return token.strip(), None, events

    def profile(self, request: Request) -> Response:
        token, refusal, events = self._bearer(request)
        if refusal is not None:
            return refusal
        try:
            parts = split(token)
        except MalformedToken as err:
            events.append(Event("verify", f"malformed token: {err} -> 401"))
            return invalid_token(f"malformed token: {err}", events)
        verdict = verify(parts, self.key.verify, now=self.clock(), leeway=self.leeway, require=REQUIRED)
        data = {"checks": verdict.checks, "header": parts.header, "payload": parts.payload}
        failed = verdict.failed
        if failed is not None:
            events.append(Event("verify", f"refused, {failed.name}: {failed.detail} -> 401", data))
            return invalid_token(f"{failed.name}: {failed.detail}", events)
        sub = parts.payload["sub"]
        events.append(Event("verify", f"{', '.join(c.name for c in verdict.checks)} all pass; "
                            f"sub={sub}. No store was read: the token carried everything.", data))
        return text(200, f"Welcome user {sub}", events, [NO_STORE])

    def logout(self, request: Request) -> Response:
        token, _, _ = self._bearer(request)
        until = ""
        if token:
            try:
                exp = split(token).payload.get("exp")
                until = f" (exp {utc(exp)})" if isinstance(exp, (int, float)) else ""
            except MalformedToken:
                pass
        events = [Event("logout", "nothing to delete: the server keeps no record of tokens, so "
                        f"this token stays valid until it expires{until}")]
        return text(200, "Logged out on this client only. This server stores no sessions, so it "
                    f"cannot forget your token: it stays valid until it expires{until}. Delete it "
                    "on the client; revoking it early needs a server-side denylist of jti.",
                    events, [NO_STORE])

    def jwks(self, request: Request) -> Response:
        return Response(200, json.dumps(self.key.jwks, indent=2) + "\n",
                        [("Content-Type", "application/json")],
                        [Event("jwks", "served the public key set: any service can verify tokens with it")])
