"""The client: a web app with its own session cookie that logs its users in at the authorization
server (the code flow with PKCE, state and nonce) and calls an API with the access token.

It reaches the other two servers through `send` callables given to it (the demo's scripted
client, which records each exchange as the receiving server saw it): what it sent and got back
are BackChannel events of the browser request that caused them."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from typing import Any, Callable
from urllib.parse import urlencode

from authcli.events import BackChannel, Event, IdTokenChecked, SessionCreated
from authcli.server.journal import Request, Response
from authcli.server.policy import HARDENED_RELYING, HARDENED_SESSIONS, CookiePolicy, RelyingPolicy
from authcli.server.routes import NO_STORE, Router, text
from authcli.server.schemes.cookies import read_cookie, set_cookie
from authcli.server.schemes.oauth.records import Records
from authcli.server.schemes.oauth.wire import form, query
from authcli.server.transport.limits import address_key
from authcli.errors import OAuthError
from authcli.tokens.checks import Check
from authcli.tokens.idtoken import check_id_token, claims_of
from authcli.tokens.pkce import make_verifier, s256

COOKIE = replace(HARDENED_SESSIONS, cookie=CookiePolicy(name="app_session"))
INDEX = ('<!doctype html><title>authcli client app</title><p><a href="/login">Log in with the authorization '
         'server</a> · <a href="/profile">profile</a></p>\n')


@dataclass(frozen=True)
class Registration:
    client_id: str
    client_secret: str
    redirect_uri: str
    issuer: str
    authorization_endpoint: str


class ClientApp:
    """A confidential client: its secret stays on this server, the browser only ever sees the
    code. `to_as(method, path, data, headers)` and `to_api(...)` return an Exchange."""

    mode = "oauth-client"
    store = None

    def __init__(self, reg: Registration | None, to_as: Callable[..., Any], to_api: Callable[..., Any], *,
                 clock: Callable[[], float], scope: str = "openid email", policy: RelyingPolicy = HARDENED_RELYING,
                 weak: tuple[str, ...] = ()):
        self.reg, self.to_as, self.to_api, self.clock, self.scope = reg, to_as, to_api, clock, scope
        self.policy, self.weak = policy, weak  # weak: the lab's mistakes (a weak app listens on loopback only)
        self.sessions = Records("sessions", "The client app's sessions (its memory)", 1000, clock)
        self.router = Router({"/login": {"GET": self.login}, "/callback": {"GET": self.callback},
                              "/profile": {"GET": self.profile}, "/refresh": {"POST": self.refresh},
                              "/login/id-token": {"POST": self.id_token_login}},
                             INDEX, slow=frozenset({"/callback", "/profile", "/refresh", "/login/id-token"}))

    def handle(self, request: Request) -> Response:
        if self.reg is None:  # registered at the AS once it listens (its redirect URI names its port)
            return Response(503, "Not registered with an authorization server yet\n", [("Retry-After", "1")])
        return self.router.handle(request)

    def slow(self, request: Request) -> bool:
        return self.router.slow(request)  # they wait on the other servers: never on the loop

    def _new_session(self, request: Request, record: dict[str, Any], events: list[Event]) -> str:
        sid = secrets.token_urlsafe(32)
        self.sessions.put(sid, record, COOKIE.ttl, address_key(request.peer))
        events.append(SessionCreated(f"session {sid[:8]}... stored", session_id=sid, record=record, ttl=COOKIE.ttl))
        return set_cookie(sid, COOKIE)

    def _session(self, request: Request) -> tuple[str | None, dict[str, Any] | None]:
        sid = read_cookie(request.header_values("Cookie"), COOKIE.cookie.name)
        return sid, (self.sessions.get(sid) if sid else None)

    def login(self, request: Request) -> Response:
        """A new state, nonce and code_verifier, kept in a session of their own; off to the AS."""
        verifier = make_verifier()
        record = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32), "code_verifier": verifier}
        events: list[Event] = []
        cookie = self._new_session(request, record, events)
        q = {"response_type": "code", "client_id": self.reg.client_id, "redirect_uri": self.reg.redirect_uri,
             "scope": self.scope, "state": record["state"], "nonce": record["nonce"]}
        if self.policy.use_pkce:
            q.update(code_challenge=s256(verifier), code_challenge_method="S256")
        return Response(302, "", [("Location", f"{self.reg.authorization_endpoint}?{urlencode(q)}"),
                                  ("Set-Cookie", cookie), NO_STORE], events)

    def _basic(self) -> str:
        pair = f"{self.reg.client_id}:{self.reg.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _token_request(self, form: dict[str, str], events: list[Event]) -> dict[str, Any] | None:
        ex = self.to_as("POST", "/token", data=urlencode(form).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": self._basic()})
        events.append(BackChannel(f"POST /token -> {ex.response.status}", exchange=ex))
        return json.loads(ex.response.body) if ex.response.status == 200 else None

    def callback(self, request: Request) -> Response:
        """The AS sent the browser back: check state, redeem the code, check the ID token, log in."""
        events: list[Event] = []
        sid, pending = self._session(request)
        try:
            p = query(request)
        except OAuthError as err:
            return text(400, f"Bad callback: {err.description}", events)
        refused = self._state_refused(p, pending)
        if refused:
            return text(400, refused, events, [NO_STORE])
        pending = pending or {}
        if "error" in p or "code" not in p or p.get("iss", self.reg.issuer) != self.reg.issuer:
            return text(400, f"The authorization server said no: {p.get('error', 'no code, or another issuer')}",
                        events, [NO_STORE])
        form = {"grant_type": "authorization_code", "code": p["code"], "redirect_uri": self.reg.redirect_uri}
        if self.policy.use_pkce:
            form["code_verifier"] = pending.get("code_verifier", "")
        tokens = self._token_request(form, events)
        if tokens is None or "id_token" not in tokens:
            return text(502, "The token request failed", events, [NO_STORE])
        jwks = self.to_as("GET", "/jwks")
        events.append(BackChannel(f"GET /jwks -> {jwks.response.status}", exchange=jwks))
        checks = self._checks(tokens["id_token"], jwks.response.body.encode(), pending, tokens["access_token"])
        failed = [c.name for c in checks if c.ok is False]
        skipped = "".join(f", {c.name} NOT CHECKED" for c in checks if c.ok is None)
        events.append(IdTokenChecked("ID token: " + (f"{', '.join(failed)} FAILED" if failed else
                                                     ", ".join(c.name for c in checks if c.ok) + " pass" + skipped),
                                     checks=checks))
        if failed:
            return text(401, f"ID token refused: {', '.join(failed)}", events, [NO_STORE])
        if pending:
            self.sessions.pop(sid)  # the login's own session ends; a new ID for the logged-in user
        claims = claims_of(tokens["id_token"])
        cookie = self._new_session(request, {"sub": claims["sub"], "access_token": tokens["access_token"],
                                    "refresh_token": tokens.get("refresh_token")}, events)
        return Response(302, "", [("Location", "/profile"), ("Set-Cookie", cookie), NO_STORE], events)

    def id_token_login(self, request: Request) -> Response:
        """POST /login/id-token (form id_token=...): an ID token the app's own front end obtained (a native
        or one-page app), checked as at the callback, nonce against this browser's login."""
        events: list[Event] = []
        sid, pending = self._session(request)
        try:
            id_token = form(request).get("id_token", "")
        except OAuthError as err:
            return text(400, f"Bad request: {err.description}", events, [NO_STORE])
        jwks = self.to_as("GET", "/jwks")
        events.append(BackChannel(f"GET /jwks -> {jwks.response.status}", exchange=jwks))
        checks = self._checks(id_token, jwks.response.body.encode(), pending or {}, None)
        failed = [c.name for c in checks if c.ok is False]
        events.append(IdTokenChecked("ID token: " + (f"{', '.join(failed)} FAILED" if failed else "accepted"),
                                     checks=checks))
        if failed:
            return text(401, f"ID token refused: {', '.join(failed)}", events, [NO_STORE])
        if pending:
            self.sessions.pop(sid)
        cookie = self._new_session(request, {"sub": claims_of(id_token)["sub"]}, events)
        return Response(302, "", [("Location", "/profile"), ("Set-Cookie", cookie), NO_STORE], events)

    def _state_refused(self, p: dict[str, str], pending: dict[str, Any] | None) -> str:
        """Why the callback is not this browser's login (RFC 6749 10.12), or '' (a weak app: never)."""
        if not self.policy.check_state:
            return ""
        if pending is None or "state" not in pending:
            return "No login in progress in this browser: start at /login"
        if not hmac.compare_digest(p.get("state", "").encode(), pending["state"].encode()):
            return "state does not match this browser's login: refused (CSRF)"
        return ""

    def _checks(self, id_token: str, jwks: bytes, pending: dict[str, Any], access_token: str | None) -> list:
        """The ID token's checks (OIDC Core 3.1.3.7); the ones a weak app skips say so."""
        nonce = pending.get("nonce", "") if self.policy.check_nonce else None
        checks = check_id_token(id_token, jwks, issuer=self.reg.issuer, client_id=self.reg.client_id, nonce=nonce,
                                now=self.clock(), access_token=access_token)
        if not self.policy.check_aud:
            checks = [replace(c, ok=None, detail="NOT CHECKED: this app never compares aud with its client_id")
                      if c.name == "aud" else c for c in checks]
        if nonce is None:
            checks.append(Check("nonce", None, "NOT CHECKED: this app never compares nonce with its login's"))
        return checks

    def profile(self, request: Request) -> Response:
        """The logged-in user's page: the API called with the access token."""
        events: list[Event] = []
        _, record = self._session(request)
        if record is None or "access_token" not in record:
            return text(401, "Not logged in here: start at /login", events, [NO_STORE])
        ex = self.to_api("GET", "/api", headers={"Authorization": f"Bearer {record['access_token']}"})
        events.append(BackChannel(f"GET /api -> {ex.response.status}", exchange=ex))
        return text(200 if ex.response.status == 200 else 502, f"User {record['sub']}. The API said: "
                    f"{ex.response.body.strip()[:200]}", events, [NO_STORE])

    def refresh(self, request: Request) -> Response:
        """New tokens for the refresh token (a real app does this when the access token nears exp)."""
        events: list[Event] = []
        sid, record = self._session(request)
        if record is None or "refresh_token" not in record:
            return text(401, "Not logged in here: start at /login", events, [NO_STORE])
        tokens = self._token_request({"grant_type": "refresh_token", "refresh_token": record["refresh_token"]}, events)
        if tokens is None:
            return text(502, "The refresh failed", events, [NO_STORE])
        self.sessions.update(sid, lambda r: bool(r.update(access_token=tokens["access_token"],
                                                          refresh_token=tokens["refresh_token"])) or True)
        return text(200, "Tokens refreshed", events, [NO_STORE])
