"""The OAuth labs' exercise servers, and user 1 (the victim, played by the exercise) on each: the
victim's app is a public client registered at the start; user 1 logs in through it (no-pkce, and
implicit's token-in-the-URL flow) or through the link the student sends to /victim (redirect-prefix).

The journal decides: a /token answer of 200 that redeemed a code made for user 1 (only the
exercise's user 1 logs in: their password is random each run, and user 1 never calls /token
here), by the lab's weakness; implicit's, a /userinfo answer of 200 for the access token the
implicit grant put in user 1's URL. The hardened server's user 1 does the same, so the replay
shows it refusing the same move.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authcli.client import ScriptedClient
from authcli.events import GrantChecked
from authcli.passwords import DEMO_EMAIL
from authcli.server.journal import RequestRecord
from authcli.tokens.pkce import make_verifier, s256

APP = "http://127.0.0.1:9/callback"  # the victim app's registered redirect URI (never contacted)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MAX_LINKS = 20  # redirect-prefix: user 1 follows at most this many links per run
LEAKED_TTL = 3600  # what an OAuth exercise hands out (a token, a code) lasts an hour; the handout says so


def oauth_apps(w: Any, users: Any) -> tuple[Any, Any]:
    from authcli.server.lab.weaknesses import oauth_policy
    from authcli.server.schemes.oauth import OAuthProvider

    from dataclasses import replace

    from authcli.server.policy import HARDENED_OAUTH

    # What the student is handed must outlast their working on it by hand: implicit's token in user
    # 1's history (5 min would not), and the codes of no-pkce and redirect-prefix (60 s would not).
    ttl = {"access_ttl": LEAKED_TTL} if w.name == "implicit" else {"code_ttl": LEAKED_TTL}
    return (OAuthProvider(policy=replace(oauth_policy([w]), **ttl), users=users, weak=(w.name,)),
            OAuthProvider(policy=replace(HARDENED_OAUTH, **ttl), users=users))


def form_of(body: bytes | None) -> dict[str, str]:
    try:
        return {k: v[0] for k, v in parse_qs((body or b"").decode("utf-8"), max_num_fields=50).items()}
    except (UnicodeDecodeError, ValueError):
        return {}


def send_once(server: Any, method: str, path: str, **kw: Any):
    """One request from a client of its own (a new cookie jar), closed after."""
    client = ScriptedClient(server)
    try:
        return client.send(method, path, **kw)
    finally:
        client.close()


def register(server: Any) -> str:
    """The victim's app: a public client (no secret to keep), one registered redirect URI."""
    ex = send_once(server, "POST", "/register", json={"redirect_uris": [APP], "token_endpoint_auth_method": "none"})
    return json.loads(ex.response.body)["client_id"]


def logs_in(server: Any, query: dict[str, str], password: str):
    """User 1 at the authorization server: the consent form posted with their password, allowed."""
    form = {**query, "email": DEMO_EMAIL, "password": password, "decision": "allow"}
    return send_once(server, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)


def code_in(exchange) -> str | None:
    location = exchange.response.header("Location") or "" if exchange.response.status == 302 else ""
    return parse_qs(urlsplit(location).query).get("code", [None])[0]


class OAuthStory:
    """What user 1 did on both servers this run: the app's client IDs, the codes made for user 1
    on the weak server, what the hardened server's copy of each is, and its refusal of a link."""

    def __init__(self, name: str, servers: tuple[Any, Any], password: str):
        self.name, self.servers, self._password = name, servers, password
        self.clients = tuple(register(s) for s in servers)
        self.codes: set[str] = set()             # made for user 1 on the weak server
        self.swaps: dict[str, str] = {self.clients[0]: self.clients[1]}  # weak -> hardened copy
        self.hard_answer = None                  # redirect-prefix: the hardened server and user 1's link
        self.links = 0
        self.leaked: str | dict[str, str] = self.clients[0]  # two values (a dict) are handed out labelled
        self.what = "User 1 opening your last link, with the hardened server's client_id,"
        self.tokens: set[str] = set()            # implicit: access tokens the implicit grant put in a URL
        if name == "no-pkce":
            self.leaked = {"client_id": self.clients[0], "url": self._app_login()}
        elif name == "implicit":
            self.leaked = {"client_id": self.clients[0], "url": self._implicit_login()}

    def _app_login(self) -> str:
        """no-pkce: user 1 logs in through the app, which sends no code_challenge (on the hardened
        server it must: its request without one is refused). The redirect, as a proxy logged it."""
        found = []
        for server, client in zip(self.servers, self.clients):
            query = {"response_type": "code", "client_id": client, "redirect_uri": APP, "scope": "openid",
                     "state": secrets.token_urlsafe(8)}
            if server is self.servers[1]:
                query.update(code_challenge=s256(make_verifier()), code_challenge_method="S256")
            ex = logs_in(server, query, self._password)
            found.append((ex.response.header("Location") or "", code_in(ex)))
        (location, code), (_, hard_code) = found
        self.codes.add(code)
        self.swaps[code] = hard_code
        return location

    def _implicit_login(self) -> str:
        """implicit: user 1 logs in through the app's implicit-flow link; the URL their browser went
        to, fragment and all, as its history keeps it. The hardened server refuses the same link."""
        # email in the scope: /userinfo answers user 1's email too (OIDC Core 5.4), the claims the goal names
        query = {"response_type": "token", "client_id": self.clients[0], "redirect_uri": APP, "scope": "openid email",
                 "state": secrets.token_urlsafe(8)}
        ex = logs_in(self.servers[0], query, self._password)
        self.hard_answer = logs_in(self.servers[1], {**query, "client_id": self.clients[1]}, self._password)
        self.what = "User 1's same implicit-flow login, sent"
        location = ex.response.header("Location") or ""
        self.tokens.update(parse_qs(urlsplit(location).fragment).get("access_token", []))
        return location

    def replayed_as(self) -> str:
        """What the hardened server was sent instead of the solving request ('': that request)."""
        return self.what if self.hard_answer is not None else ""

    def follow(self, link: str, weak_url: str) -> str:
        """redirect-prefix: user 1 opens the student's link on both servers and allows; where user 1's
        browser went on the weak server, in the terminal's words."""
        if self.links >= MAX_LINKS:
            return f"not followed: {MAX_LINKS} links per run"
        parts = urlsplit(link)
        if f"{parts.scheme}://{parts.netloc}" != weak_url or parts.path != "/authorize":
            return f"not followed: user 1 opens only links to {weak_url}/authorize?..."
        self.links += 1
        query = {k: v[0] for k, v in parse_qs(parts.query, max_num_fields=50).items()}
        ex = logs_in(self.servers[0], query, self._password)
        hard = {k: self.swaps.get(v, v) for k, v in query.items()}
        self.hard_answer = logs_in(self.servers[1], hard, self._password)
        code = code_in(ex)
        if code is None:
            return f"user 1 followed it and logged in: {ex.response.status}, no code"
        self.codes.add(code)
        where = ex.response.header("Location") or ""
        if query.get("redirect_uri") == APP:
            return f"user 1 logged in; their browser went back to the app ({APP}): the code is the app's, not yours"
        return f"user 1 logged in; their browser went to your page: {where}"

    def redeemed(self, record: RequestRecord) -> bool:
        """A /token answer of 200 for a code made for user 1: tokens for user 1."""
        form = form_of(record.request.body)
        return (record.status == 200 and form.get("grant_type") == "authorization_code"
                and form.get("code") in self.codes)


def no_pkce(record: RequestRecord, run: Any) -> bool:
    """User 1's code redeemed with no code_verifier checked: the server did not require PKCE."""
    checks = [c.name for e in record.events if isinstance(e, GrantChecked) for c in e.checks]
    return run.oauth.redeemed(record) and "code_verifier" not in checks


def redirect_prefix(record: RequestRecord, run: Any) -> bool:
    """User 1's code, redeemed with a redirect_uri that only starts like the app's registered one."""
    uri = form_of(record.request.body).get("redirect_uri", "")
    return run.oauth.redeemed(record) and uri != APP and uri.startswith(APP)


def implicit(record: RequestRecord, run: Any) -> bool:
    """User 1's claims, for the access token the implicit grant put in user 1's redirect URL."""
    values = [v for n, v in record.request.headers if n.lower() == "authorization"]
    token = values[0].partition(" ")[2].strip() if len(values) == 1 else ""
    return record.status == 200 and token in run.oauth.tokens
