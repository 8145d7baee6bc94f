"""The client-side OAuth labs' exercise servers (no-state, wrong-aud, no-nonce), and user 1 (the
victim, played by the exercise) on each: the weak and the hardened client app, both registered at
one authorization server (the weakness is the app's own check), and user 1's browser at each app.

The app's journal decides: a session the app created because it skipped its check. User 1's
password is random each run and only the exercise's user 1 signs in, so a session for sub 1 came
from a token the exercise made for user 1; a token or code from another run was signed by, or
made at, another run's authorization server.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authcli.client import ScriptedClient
from authcli.events import BackChannel, IdTokenChecked, SessionCreated
from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, ATTACKER_USER_ID
from authcli.server.journal import Request, RequestRecord, Response
from authcli.server.lab.admin import ADMIN_PATH
from authcli.server.lab.answer import WithLink
from authcli.server.schemes.oauth.relying import COOKIE, ClientApp, Registration
from authcli.tokens.idtoken import claims_of
from authcli.walkthroughs.lab.practice_oauth import FORM, LEAKED_TTL, MAX_LINKS, form_of, logs_in, send_once

CLIENT_LABS = ("no-state", "wrong-aud", "no-nonce")
MINE = "http://127.0.0.1:9/my-app/callback"  # wrong-aud: the student's own app's redirect URI (never contacted)


def client_apps(w: Any, users: Any) -> tuple[ClientApp, ClientApp, Any]:
    """The weak and the hardened client app, and the authorization server both use."""
    from dataclasses import replace

    from authcli.clock import now
    from authcli.server.lab.weaknesses import oauth_policy, relying_policy
    from authcli.server.policy import HARDENED_RELYING
    from authcli.server.schemes.oauth import OAuthProvider

    weak = ClientApp(None, None, None, clock=now, policy=relying_policy([w]), weak=(w.name,))
    hard = ClientApp(None, None, None, clock=now, policy=HARDENED_RELYING)
    # no-state's weak app sends no PKCE: its provider must not require it (the hardened app still sends it).
    # no-nonce: the captured ID token must outlast a student's working on it (5 min would not).
    policy = replace(oauth_policy([w]), id_token_ttl=LEAKED_TTL)
    return weak, hard, OAuthProvider(policy=policy, users=users, weak=(w.name,))


class AppWithLink(WithLink):
    """The client app plus /victim (the link user 1 opens); no /admin: the app has no admins, and
    what counts is a session, in the app's journal."""

    def handle(self, request: Request) -> Response:
        if request.path == ADMIN_PATH:
            return self.app.handle(request)
        return super().handle(request)

    def slow(self, request: Request) -> Any:
        return self.app.slow(request) if request.path == ADMIN_PATH else super().slow(request)


def inner(server: Any) -> ClientApp:
    """The client app behind an exercise's wrapper (WithLink), if any."""
    app = server.app
    return getattr(app, "app", app) if not isinstance(app, ClientApp) else app


def _location(exchange: Any) -> str:
    return exchange.response.header("Location") or ""


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def _cookie(headers: Any) -> str | None:
    from authcli.server.schemes.cookies import read_cookie

    return read_cookie([v for n, v in headers if n.lower() == "cookie"], COOKIE.cookie.name)


class ClientStory:
    """What happened at both apps this run: their registrations, user 1's browser at each (logged in
    at the start, but in wrong-aud), what user 1's login left in a log (no-nonce), the student's own
    app (wrong-aud), and the hardened story's copy of each value the replay sends."""

    def __init__(self, name: str, servers: tuple[Any, Any], provider: Any, password: str):
        self.name, self.servers, self.provider, self._password = name, servers, provider, password
        self.swaps: dict[str, str] = {}          # a weak value -> the hardened story's copy
        self.hard_answer = None                  # no-state: the hardened app and the same move
        self.what = {"no-state": "User 1's browser opening a callback URL from a login eve started there, sent",
                     "wrong-aud": "The same request, its cookie a login started there, sent",
                     "no-nonce": "The same request, with user 1's token captured there and its cookie a login "
                                 "started there, sent"}[name]
        self.links = 0
        self.captured: set[str] = set()          # no-nonce: user 1's ID tokens from the log
        self._clients: list[ScriptedClient] = []  # the apps' own, to the authorization server
        for server in servers:
            self._register(server)
        self.browsers = tuple(ScriptedClient(s) for s in servers)  # user 1's browser at each app
        self.leaked: str | dict[str, str] = ""  # two values or more (a dict) are handed out labelled
        if name == "wrong-aud":
            mine = send_once(provider, "POST", "/register", json={"redirect_uris": [MINE]})
            creds = json.loads(mine.response.body)
            self.leaked = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        else:
            tokens = [self._user_1_logs_in(i) for i in (0, 1)]
            if name == "no-nonce":
                self.captured.add(tokens[0])
                self.swaps[tokens[0]] = tokens[1]
                self.leaked = tokens[0]

    def close(self) -> None:
        for client in [*self.browsers, *self._clients]:
            client.close()

    def _register(self, server: Any) -> None:
        """A confidential client (its secret stays on the app's server), like the lab's."""
        app = inner(server)
        to_as = ScriptedClient(self.provider)
        self._clients.append(to_as)
        reg = to_as.send("POST", "/register", json={"redirect_uris": [server.url + "/callback"],
                                                    "grant_types": ["authorization_code", "refresh_token"]})
        creds = json.loads(reg.response.body)
        app.to_as = to_as.send
        # The app's /profile calls "its API" with the access token: here the provider's /userinfo.
        app.to_api = lambda method, path, **kw: to_as.send(method, "/userinfo", **kw)
        app.reg = Registration(creds["client_id"], creds["client_secret"], server.url + "/callback",
                               self.provider.url, self.provider.url + "/authorize")

    def _user_1_logs_in(self, side: int) -> str:
        """User 1 logs in at app `side` in their browser; the ID token the app's token response carried."""
        browser = self.browsers[side]
        start = browser.send("GET", "/login")
        login = logs_in(self.provider, _query(_location(start)), self._password)
        done = browser.send("GET", _path(_location(login)))
        sent = [e.exchange for e in done.events(BackChannel) if e.exchange.request.target.startswith("/token")]
        return json.loads(sent[0].response.body).get("id_token", "") if sent else ""

    def _eve_callback(self, side: int) -> str:
        """no-state at the hardened app: eve starts a login there and keeps the callback URL."""
        eve = ScriptedClient(self.servers[side])
        try:
            start = eve.send("GET", "/login")
        finally:
            eve.close()
        form = {**_query(_location(start)), "email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD, "decision": "allow"}
        from urllib.parse import urlencode

        login = send_once(self.provider, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)
        return _path(_location(login))

    def follow(self, link: str) -> tuple[RequestRecord | None, str]:
        """User 1 opens the student's link: no-state, a callback URL of the app, in their browser
        there; wrong-aud, an authorization link, signing in at the authorization server. The weak
        app's record of user 1's callback, if any, and what the terminal says."""
        if self.links >= MAX_LINKS:
            return None, f"not followed: {MAX_LINKS} links per run"
        parts = urlsplit(link)
        target = self.servers[0].url + "/callback" if self.name == "no-state" else self.provider.url + "/authorize"
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != target:
            return None, f"not followed: user 1 opens only links to {target}?..."
        self.links += 1
        if self.name == "no-state":
            return self._opens_callback(parts.path + "?" + parts.query)
        query = dict(parse_qsl(parts.query, max_num_fields=50))
        ex = logs_in(self.provider, query, self._password)
        if ex.response.status != 302:
            return None, f"user 1 opened it: {ex.response.status}, the authorization server refused the request"
        if query.get("redirect_uri") != MINE:  # where the code went is not yours to see
            return None, (f"user 1 signed in; their browser went back to {query.get('redirect_uri', '?')[:100]}, "
                          "not your app's redirect URI: no code for you")
        return None, f"user 1 signed in to your app; their browser went to your app's redirect URI: {_location(ex)}"

    def _opens_callback(self, target: str) -> tuple[RequestRecord | None, str]:
        weak, hard = self.servers
        mark = weak.mark()
        ex = self.browsers[0].send("GET", target)
        record = next((r for r in weak.records_since(mark) if r.request.path == "/callback"), None)
        subs = [e.record.get("sub") for e in ex.events(SessionCreated)]
        if ex.response.status == 302 and subs:
            if subs[0] == str(ATTACKER_USER_ID) and self.hard_answer is None:  # the replay: the same at the hardened app
                self.hard_answer = self.browsers[1].send("GET", self._eve_callback(1))
            return record, f"user 1's browser opened it: the app logged it in as user {subs[0]}"
        return record, f"user 1's browser opened it: {ex.response.status} {ex.response.body.strip()[:120]}"

    def hard_request(self, record: RequestRecord) -> None:
        """wrong-aud, no-nonce: the cookie the solving request carried (eve's login at the weak app)
        becomes a login of the same kind started at the hardened app."""
        sid = _cookie(record.request.headers)
        if sid and sid not in self.swaps:
            eve = ScriptedClient(self.servers[1])
            try:
                eve.send("GET", "/login")
                fresh = next((c.value for c in eve.jar() if c.name == COOKIE.cookie.name), None)
            finally:
                eve.close()
            if fresh:
                self.swaps[sid] = fresh

    def replayed_as(self) -> str:
        return self.what

    def client_id(self) -> str:
        return inner(self.servers[0]).reg.client_id


def session_for(record: RequestRecord, sub: str) -> bool:
    return record.status == 302 and any(e.record.get("sub") == sub for e in record.events
                                         if isinstance(e, SessionCreated))


def _skipped(record: RequestRecord, name: str) -> bool:
    return any(c.name == name and c.ok is None for e in record.events if isinstance(e, IdTokenChecked)
               for c in e.checks)


def _posted(record: RequestRecord) -> dict[str, Any]:
    try:
        return claims_of(form_of(record.request.body).get("id_token", ""))
    except Exception:  # a malformed token never made a session: nothing to judge
        return {}


def no_state(record: RequestRecord, run: Any) -> bool:
    """User 1's browser, which started no login, now holds a session for eve (user 2): a callback
    finished with no state check."""
    return session_for(record, str(ATTACKER_USER_ID)) and _cookie(record.request.headers) is not None


def wrong_aud(record: RequestRecord, run: Any) -> bool:
    """A session for user 1 from an ID token whose aud is not this app's client_id, aud unchecked."""
    aud = _posted(record).get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    return session_for(record, "1") and _skipped(record, "aud") and run.oauth.client_id() not in auds


def no_nonce(record: RequestRecord, run: Any) -> bool:
    """A session for user 1 from user 1's captured ID token (a nonce from their own login, not
    this one's), nonce unchecked."""
    token = form_of(record.request.body).get("id_token", "")
    return session_for(record, "1") and _skipped(record, "nonce") and token in run.oauth.captured
