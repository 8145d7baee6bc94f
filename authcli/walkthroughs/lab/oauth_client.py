"""The lab's attacks on the client app's own checks (state, aud, nonce): each side is a client app
with an authorization server of its own, both on loopback. The victim is a@b.com, user 1."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, lab_users
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, oauth_policy, relying_policy
from authcli.server.policy import HARDENED_OAUTH, HARDENED_RELYING, OAuthPolicy, RelyingPolicy
from authcli.server.schemes.oauth import OAuthProvider
from authcli.server.schemes.oauth.relying import ClientApp, Registration
from authcli.server.transport.httpd import AuthServer
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def client_app(policy: RelyingPolicy, oauth: OAuthPolicy, weak: tuple[str, ...] = ()) -> ClientApp:
    """A client app (not yet registered) and the authorization server it will use, not yet started."""
    from authcli.clock import now

    app = ClientApp(None, None, None, clock=now, policy=policy, weak=weak)
    app.provider = OAuthProvider(policy=oauth, users=lab_users(), weak=weak)
    return app


def client_apps(w: Weakness) -> tuple[ClientApp, ClientApp]:
    return (client_app(relying_policy([w]), oauth_policy([w]), (w.name,)),
            client_app(HARDENED_RELYING, HARDENED_OAUTH))


def _setup(pair: Pair, server: AuthServer) -> AuthServer:
    """The app's authorization server started; the app registered there (a confidential client)."""
    app = server.app
    as_server = pair.stack.enter_context(AuthServer(app.provider))
    app.provider.bind(as_server.url)
    app.to_as = pair.client(as_server).send
    reg = app.to_as("POST", "/register", json={"redirect_uris": [server.url + "/callback"],
                                                  "grant_types": ["authorization_code", "refresh_token"]})
    creds = json.loads(reg.response.body)
    app.reg = Registration(creds["client_id"], creds["client_secret"], server.url + "/callback", as_server.url,
                           as_server.url + "/authorize")
    return as_server


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _logged_in(ex: Any) -> bool:
    return ex.response.status == 302 and ex.response.header("Location") == "/profile"


def _no_state_on(pair: Pair, server: AuthServer) -> Outcome:
    as_server = _setup(pair, server)
    start = pair.send(server, "GET", "/login")  # the attacker's own browser starts a login at the app...
    query = dict(parse_qsl(urlsplit(start.response.header("Location") or "").query))
    form = {**query, "email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD, "decision": "allow"}
    login = pair.send(as_server, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)
    callback = _path(login.response.header("Location") or "/callback")  # ...and stops before the callback
    finished = pair.send(server, "GET", callback)  # the victim's browser, sent there by the attacker's page
    result = outcome([("the attacker logs in as themselves and keeps the callback URL", login),
                      ("the victim's browser opens the attacker's callback URL", finished)], won_if=_logged_in)
    if result.won:
        result.result = "302: the victim's browser is logged in as user 2 (the attacker)"
    return result


def no_state(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _no_state_on(pair, pair.weak), _no_state_on(pair, pair.hard)
    weak.notes.append("The victim now uses the app as the attacker: whatever they save or upload there (a card, "
                      "a document) lands in the attacker's account [^rfc6749-10.12].")
    hard.notes.append("The hardened app ties each login to the browser that started it: a random state in that "
                      "browser's session [^rfc6749-10.12], and PKCE and nonce as well, either of which would "
                      "also refuse this callback [^rfc9700-2.1].")
    return weak, hard


CLIENT_ATTACKS = [
    Attack(WEAKNESSES["no-state"], "The attacker starts a login at the app as themselves, stops before the "
           "callback, and makes the victim's browser open that callback URL (a link, an img tag).",
           no_state, client_apps, "The victim's browser opens the callback URL with the attacker's code."),
]
