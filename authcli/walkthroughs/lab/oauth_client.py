"""The lab's attacks on the client app's own checks (state, aud, nonce): each side is a client app
with an authorization server of its own, both on loopback. The victim is a@b.com, user 1."""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from authcli.events import BackChannel, SessionCreated
from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD, lab_users
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, oauth_policy, relying_policy
from authcli.server.policy import HARDENED_OAUTH, HARDENED_RELYING, OAuthPolicy, RelyingPolicy
from authcli.server.schemes.oauth import OAuthProvider
from authcli.server.schemes.oauth.relying import ClientApp, Registration
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.pkce import make_verifier, s256
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OTHER = "http://127.0.0.1:9/other-app/callback"  # the attacker's own app's redirect URI (never contacted)


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


def _logged_in_as(sub: str) -> Callable[[Any], bool]:
    """The app answered with a session for `sub` (the record it stored says whose)."""
    return lambda ex: ex.response.status == 302 and any(e.record.get("sub") == sub for e in ex.events(SessionCreated))


def _no_state_on(pair: Pair, server: AuthServer) -> Outcome:
    as_server = _setup(pair, server)
    start = pair.send(server, "GET", "/login")  # the attacker's own browser starts a login at the app...
    query = dict(parse_qsl(urlsplit(start.response.header("Location") or "").query))
    form = {**query, "email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD, "decision": "allow"}
    login = pair.send(as_server, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)
    callback = _path(login.response.header("Location") or "/callback")  # ...and stops before the callback
    finished = pair.send(server, "GET", callback)  # the victim's browser, sent there by the attacker's page
    result = outcome([("the attacker logs in as themselves and keeps the callback URL", login),
                      ("the victim's browser opens the attacker's callback URL", finished)], won_if=_logged_in_as("2"))
    if result.won:
        result.result = "302: victim logged in as user 2 (the attacker)"
    return result


def no_state(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _no_state_on(pair, pair.weak), _no_state_on(pair, pair.hard)
    weak.notes.append("The victim now uses the app as the attacker: whatever they save or upload there (a card, "
                      "a document) lands in the attacker's account [^rfc6749-10.12].")
    hard.notes.append("The hardened app ties each login to the browser that started it: a random state in that "
                      "browser's session [^rfc6749-10.12], and PKCE and nonce as well, either of which would "
                      "also refuse this callback [^rfc9700-2.1].")
    return weak, hard


def _victim_login(pair: Pair, as_server: AuthServer, query: dict[str, str]) -> Any:
    """The victim signs in at the authorization server and allows."""
    form = {**query, "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "decision": "allow"}
    return pair.send(as_server, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)


def _attacker_nonce(pair: Pair, server: AuthServer) -> tuple[Any, str]:
    """The attacker's own browser starts a login at the app: its client keeps that session (and nonce)."""
    attacker = pair.client(server)
    start = attacker.send("GET", "/login")
    return attacker, dict(parse_qsl(urlsplit(start.response.header("Location") or "").query)).get("nonce", "")


def _post_token(attacker: Any, id_token: str) -> Any:
    return attacker.send("POST", "/login/id-token", data=urlencode({"id_token": id_token}).encode(), headers=FORM)


def _basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _won(result: Outcome) -> Outcome:
    if result.won:
        result.result = "302: attacker logged in as user 1"
    return result


def _wrong_aud_on(pair: Pair, server: AuthServer) -> Outcome:
    as_server = _setup(pair, server)
    attacker, nonce = _attacker_nonce(pair, server)
    # The attacker's own app, registered at the same provider; the victim once signed in to it.
    other = pair.client(as_server)
    creds = json.loads(other.send("POST", "/register", json={"redirect_uris": [OTHER]}).response.body)
    verifier = make_verifier()
    query = {"response_type": "code", "client_id": creds["client_id"], "redirect_uri": OTHER, "scope": "openid",
             "state": "s1", "nonce": nonce, "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    login = _victim_login(pair, as_server, query)
    code = dict(parse_qsl(urlsplit(login.response.header("Location") or "").query)).get("code", "")
    tokens = other.send("POST", "/token", data=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": OTHER, "code_verifier": verifier}).encode(),
        headers={**FORM, "Authorization": _basic(creds["client_id"], creds["client_secret"])})
    used = _post_token(attacker, json.loads(tokens.response.body).get("id_token", ""))
    return _won(outcome([("the victim signs in to the attacker's own app", login),
                         ("the attacker's app gets an ID token for user 1 (aud: the attacker's app)", tokens),
                         ("the attacker posts that ID token to this app's login", used)], won_if=_logged_in_as("1")))


def wrong_aud(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _wrong_aud_on(pair, pair.weak), _wrong_aud_on(pair, pair.hard)
    weak.notes.append("The token is real: the same provider signed it, for user 1, with this login's nonce "
                      "(the attacker's app chose it). Only its aud says it was made for another app "
                      "[^oidc-core-3.1.3.7].")
    return weak, hard


def _no_nonce_on(pair: Pair, server: AuthServer) -> Outcome:
    as_server = _setup(pair, server)
    victim = pair.client(server)
    start = victim.send("GET", "/login")
    login = _victim_login(pair, as_server, dict(parse_qsl(urlsplit(start.response.header("Location") or "").query)))
    done = victim.send("GET", _path(login.response.header("Location") or "/callback"))
    sent = [e.exchange for e in done.events(BackChannel) if e.exchange.request.target.startswith("/token")]
    id_token = json.loads(sent[0].response.body).get("id_token", "") if sent else ""
    attacker, _ = _attacker_nonce(pair, server)
    used = _post_token(attacker, id_token)
    return _won(outcome([("the victim logs in; the app's token response (ID token and all) is logged", done),
                         ("the attacker posts the captured ID token into a login of their own", used)],
                        won_if=_logged_in_as("1")))


def no_nonce(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _no_nonce_on(pair, pair.weak), _no_nonce_on(pair, pair.hard)
    weak.notes.append("The token is real and made for this app: signature, iss, aud and exp all pass. Only its "
                      "nonce belongs to the victim's login, not to the attacker's [^oidc-core-15.5.2].")
    return weak, hard


CLIENT_ATTACKS = [
    Attack(WEAKNESSES["no-state"], "The attacker starts a login at the app as themselves, stops before the "
           "callback, and makes the victim's browser open that callback URL (a link, an img tag).",
           no_state, client_apps, "The victim's browser opens the callback URL with the attacker's code."),
    Attack(WEAKNESSES["wrong-aud"], "The attacker runs an app of their own at the same provider, which the "
           "victim once signed in to, and the app takes ID tokens a front end posts to /login/id-token.",
           wrong_aud, client_apps, "The attacker posts the ID token made for their own app to this app's login."),
    Attack(WEAKNESSES["no-nonce"], "The attacker holds an ID token from the victim's login at this app (from a "
           "log of its token responses), and the app takes ID tokens at /login/id-token.",
           no_nonce, client_apps, "The attacker posts the captured ID token into their own login."),
]
