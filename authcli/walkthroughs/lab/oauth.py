"""The lab's OAuth attacks: a stolen code redeemed without PKCE, and a code sent where a
prefix-matched redirect URI lets the attacker's link say. The victim is a@b.com, user 1."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD, lab_users
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, oauth_policy
from authcli.server.schemes.oauth import OAuthProvider
from authcli.tokens.pkce import make_verifier, s256
from authcli.walkthroughs.lab.oauth_client import CLIENT_ATTACKS
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome

APP = "http://127.0.0.1:9/callback"  # the victim app's registered redirect URI (never contacted)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def oauth_apps(w: Weakness) -> tuple[OAuthProvider, OAuthProvider]:
    return (OAuthProvider(policy=oauth_policy([w]), users=lab_users(), weak=(w.name,)),
            OAuthProvider(users=lab_users()))


def _public_client(pair: Pair, server) -> str:
    """The victim's app: a public client (a native or single-page app: no secret to keep)."""
    ex = pair.send(server, "POST", "/register", json={"redirect_uris": [APP], "token_endpoint_auth_method": "none"})
    return json.loads(ex.response.body)["client_id"]


def _tokens_for_user_1(ex) -> bool:
    if ex.response.status != 200:
        return False
    from authcli.tokens.parse import split

    return split(json.loads(ex.response.body)["access_token"]).payload.get("sub") == "1"


def _said(result: Outcome) -> Outcome:
    """The result in the table's words: tokens for whom, or the RFC's error code."""
    ex = result.exchanges[-1][1]
    try:
        body = json.loads(ex.response.body)
    except ValueError:
        body = None
    if result.won:
        result.result = f"{ex.response.status}: tokens for user 1 (a@b.com)"
    elif isinstance(body, dict) and "error" in body:
        result.result = f"{ex.response.status} {body['error']}"
    else:  # the error page names its code in brackets: "Authorization request refused (invalid_request): ..."
        named = re.search(r"\((\w+)\)", ex.response.body)
        result.result = f"{ex.response.status} {named.group(1) if named else ex.response.reason}"
    return result


def _login(pair: Pair, server, query: dict[str, str]):
    """The victim logs in at the AS and allows: the form the page posts."""
    form = {**query, "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "decision": "allow"}
    return pair.send(server, "POST", "/authorize", data=urlencode(form).encode(), headers=FORM)


def _no_pkce_on(pair: Pair, server) -> Outcome:
    client_id = _public_client(pair, server)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": APP, "scope": "openid", "state": "s1"}
    plain = pair.send(server, "GET", "/authorize?" + urlencode(query))
    shown = [("the app's authorization request, without PKCE", plain)]
    if plain.response.status != 200:  # the hardened AS refused it: the app must use PKCE there
        query.update(code_challenge=s256(make_verifier()), code_challenge_method="S256")
    login = _login(pair, server, query)
    code = parse_qs(urlsplit(login.response.header("Location") or "").query).get("code", [""])[0]
    stolen = pair.send(server, "POST", "/token", data=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": APP, "client_id": client_id}).encode(),
        headers=FORM)
    return _said(outcome(shown + [("the user logs in; the code comes back in a URL", login),
                                  ("the attacker redeems the copied code", stolen)], won_if=_tokens_for_user_1))


def no_pkce(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _no_pkce_on(pair, pair.weak), _no_pkce_on(pair, pair.hard)
    hard.notes.append("Here the app had to send a code_challenge (its request without one was refused), so "
                      "the code is bound to a verifier the attacker never saw.")
    return weak, hard


def _prefix_on(pair: Pair, server) -> Outcome:
    client_id = _public_client(pair, server)
    verifier = make_verifier()  # the attacker's own: they start the flow
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": APP + "/../../attacker",
             "scope": "openid", "state": "s1", "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    login = _login(pair, server, query)
    if login.response.status != 302:
        return _said(outcome([("the victim logs in through the attacker's link", login)], won_if=_tokens_for_user_1))
    code = parse_qs(urlsplit(login.response.header("Location")).query)["code"][0]
    redeemed = pair.send(server, "POST", "/token", data=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": query["redirect_uri"],
        "client_id": client_id, "code_verifier": verifier}).encode(), headers=FORM)
    return _said(outcome([("the victim logs in through the attacker's link", login),
                          ("the attacker redeems the code with their own verifier", redeemed)],
                         won_if=_tokens_for_user_1))


def redirect_prefix(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _prefix_on(pair, pair.weak), _prefix_on(pair, pair.hard)
    weak.notes.append("A browser resolves /callback/../../attacker to /attacker: the code lands on a page the "
                      "attacker controls. PKCE did not help: the attacker started the flow, so the verifier is "
                      "theirs.")
    return weak, hard


def _user_1(ex) -> bool:
    return ex.response.status == 200 and json.loads(ex.response.body).get("sub") == "1"


def _implicit_on(pair: Pair, server) -> Outcome:
    client_id = _public_client(pair, server)
    query = {"response_type": "token", "client_id": client_id, "redirect_uri": APP, "scope": "openid", "state": "s1"}
    login = _login(pair, server, query)
    location = login.response.header("Location") or ""
    token = parse_qs(urlsplit(location).fragment).get("access_token", [""])[0]
    shown = [("the user logs in through the app's implicit-flow link", login)]
    if not token:  # no token in the URL: nothing for the attacker to read
        result = outcome(shown, won_if=lambda ex: False)
        error = parse_qs(urlsplit(location).query).get("error", [""])[0]
        result.result = f"{login.response.status} {error or login.response.reason}"
        return result
    used = pair.send(server, "GET", "/userinfo", headers={"Authorization": f"Bearer {token}"})
    result = outcome(shown + [("the attacker calls the API with the token read from the URL", used)], won_if=_user_1)
    result.result = f"{used.response.status}: " + ("user 1's claims" if result.won else result.result)
    return result


def implicit(pair: Pair) -> tuple[Outcome, Outcome]:
    weak, hard = _implicit_on(pair, pair.weak), _implicit_on(pair, pair.hard)
    weak.notes.append("The token sits in the redirect URL's fragment [^rfc6749-4.2.2]. Browsers send no fragment "
                      "in requests and strip it from Referer [^referrer-policy-strip], but it stays in the "
                      "browser's history, in location.hash for every script the page runs, and a redirect whose "
                      "Location has no fragment carries it on to the next page: the leakage and replay for which "
                      "RFC 9700 says clients SHOULD NOT use the implicit grant unless both are mitigated "
                      "[^rfc9700-2.1.2].")
    hard.notes.append("This server answers response_type=code only: the URL carries a one-use code, bound to "
                      "PKCE, never the token [^rfc9700-2.1.2].")
    return weak, hard


OAUTH_ATTACKS = [
    Attack(WEAKNESSES["no-pkce"], "The attacker copies the code from the redirect URL (browser history, a "
           "proxy log, a Referer) and redeems it for the public client, which has no secret.", no_pkce, oauth_apps,
           "The attacker sends the copied code to /token, without any verifier."),
    Attack(WEAKNESSES["redirect-prefix"], "The attacker sends the victim an authorization link for the real "
           "app whose redirect_uri only starts like the registered one, with a code_challenge of their own.",
           redirect_prefix, oauth_apps, "The victim logs in through the attacker's link."),
    *CLIENT_ATTACKS,
    Attack(WEAKNESSES["implicit"], "The attacker reads the victim's browser history, or runs a script on the "
           "app's page (an analytics tag, an XSS): either sees the redirect URL, fragment included.",
           implicit, oauth_apps, "The victim logs in with response_type=token; the token comes back in the URL."),
]
