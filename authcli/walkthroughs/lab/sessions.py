"""The lab's session attacks, one function each.

A session attack is a story with a victim: each runs once per server (the victim logs in on
each), and where the attacker guesses or plants something, the very same bytes go to both.
"""

from __future__ import annotations

import json
import secrets
import time

from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD, lab_users
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, session_policy
from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome, welcomed

VICTIM = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
ATTACKER = {"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD}
SHORT_TTL = 1  # no-server-expiry waits this out once, for both servers


def session_apps(w: Weakness) -> tuple[SessionAuth, SessionAuth]:
    ttl = SHORT_TTL if w.name == "no-server-expiry" else 300
    return (SessionAuth(MemoryStore(), ttl, policy=session_policy([w]), users=lab_users(), weak=(w.name,)),
            SessionAuth(MemoryStore(), ttl, users=lab_users()))


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"sessionId={value}"}


def _issued(exchange) -> str:
    header = exchange.response.header("Set-Cookie") or ""
    return header.split(";", 1)[0].partition("=")[2]


def predictable_id(pair: Pair):
    guess = None
    out = []
    for server in (pair.weak, pair.hard):
        pair.send(server, "POST", "/login", json=VICTIM)
        mine = pair.send(server, "POST", "/login", json=ATTACKER)
        if guess is None:  # worked out on the weak server; the same bytes go to the hardened one
            guess = str(int(_issued(mine)) - 1)
        tried = pair.send(server, "GET", "/profile", headers=_cookie(guess))
        out.append(outcome([("the attacker's own login", mine), ("the neighbour's ID", tried)], won_if=welcomed(1)))
    out[0].notes.append(f"The victim logged in just before. The attacker's own ID is {_issued(out[0].exchanges[0][1])}, "
                        f"so the victim's is {guess}.")
    out[1].notes.append(f"Here the attacker's own ID is {_issued(out[1].exchanges[0][1])[:12]}... (256 random "
                        "bits): it says nothing about anyone else's. The guess from before is no ID at all.")
    return out[0], out[1]


def fixation(pair: Pair):
    planted = secrets.token_urlsafe(32)  # the same shape as a real ID
    out = []
    for server in (pair.weak, pair.hard):
        victim = pair.send(server, "POST", "/login", json=VICTIM, headers=_cookie(planted))
        used = pair.send(server, "GET", "/profile", headers=_cookie(planted))
        out.append(outcome([("the victim logs in, carrying the planted ID", victim), ("the attacker uses it", used)],
                           won_if=welcomed(1)))
    return out[0], out[1]


def logout_cookie_only(pair: Pair):
    out = []
    for server in (pair.weak, pair.hard):
        victim = pair.client(server)
        copied = _issued(victim.send("POST", "/login", json=VICTIM))
        bye = victim.send("POST", "/logout")
        replay = pair.send(server, "GET", "/profile", headers=_cookie(copied))
        out.append(outcome([("the victim logs out", bye), ("the copied cookie, replayed", replay)], won_if=welcomed(1)))
    return out[0], out[1]


def no_server_expiry(pair: Pair):
    logins = [pair.send(server, "POST", "/login", json=VICTIM) for server in (pair.weak, pair.hard)]
    time.sleep(SHORT_TTL + 0.2)  # one wait for both servers: the session's lifetime, really passing
    out = []
    for server, login in zip((pair.weak, pair.hard), logins):
        replay = pair.send(server, "GET", "/profile", headers=_cookie(_issued(login)))
        out.append(outcome([("the victim logs in", login), (f"the cookie, {SHORT_TTL + 0.2:.1f} s later", replay)],
                           won_if=welcomed(1)))
    out[0].notes.append(f"The cookie says Max-Age={SHORT_TTL}: a browser drops it after {SHORT_TTL} s. A stolen "
                        "copy, or a client that ignores Max-Age, still sends it, and the record never expires.")
    return out[0], out[1]


def no_httponly(pair: Pair):
    from authcli.browser import check
    from authcli.errors import BrowserMissing

    try:
        check()
    except BrowserMissing:
        return _httponly_by_rule(pair)
    return _httponly_in_chromium(pair)


def _httponly_in_chromium(pair: Pair):
    from authcli.browser import Browser
    from authcli.walkthroughs.browser import DOCUMENT_COOKIE, LOGIN

    out = []
    with Browser(pair.weak) as chromium:
        for server in (pair.weak, pair.hard):
            chromium.server = server
            chromium.fresh_profile()
            chromium.act(lambda: chromium.tab.goto(f"{server.url}/"), 1, ("/",))
            chromium.tab.wait_for_load_state("networkidle")
            _, [login] = chromium.act(lambda: chromium.run(LOGIN), 1)
            seen = chromium.run(DOCUMENT_COOKIE)
            out.append(Outcome([("the victim logs in, in Chromium", login)], "sessionId=" in seen,
                               "document.cookie shows the session ID" if seen else 'document.cookie gave ""',
                               [f"Injected script ran document.cookie in Chromium on {server.url} and got "
                                f"{json.dumps(seen)[:60]}" + (": the whole session ID, to send anywhere."
                                                              if seen else ".")]))
    return out[0], out[1]


def _httponly_by_rule(pair: Pair):
    out = []
    for server in (pair.weak, pair.hard):
        client = pair.client(server)
        login = client.send("POST", "/login", json=VICTIM)
        visible = "; ".join(f"{c.name}={c.value}" for c in client.jar() if not c.http_only)
        out.append(Outcome([("the victim logs in", login)], bool(visible),
                           "document.cookie would show the session ID" if visible else 'document.cookie would give ""',
                           ["No Chromium here, so this is the browser's rule applied to the jar: "
                            "document.cookie shows every cookie without HttpOnly."]))
    return out[0], out[1]


LOGIN_CSRF_BODY = (b'{"email":"' + ATTACKER_EMAIL.encode() + b'","password":"' + ATTACKER_PASSWORD.encode()
                   + b'","pad":"="}\r\n')


def login_csrf(pair: Pair):
    out = []
    for server in (pair.weak, pair.hard):
        victim = pair.client(server)
        # What the attacker's page makes the victim's browser send: a form with enctype text/plain.
        forged = victim.send("POST", "/login", data=LOGIN_CSRF_BODY, headers={
            "Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
        later = victim.send("GET", "/profile")
        out.append(outcome([("the attacker's form, sent by the victim's browser", forged),
                            ("the victim, later", later)], won_if=welcomed(2)))
        out[-1].result = f"login {forged.response.status}, then {out[-1].result}"
    out[0].notes.append("The victim is now logged in to the attacker's account (user 2): what they type "
                        "next (a card number, a search) lands where the attacker can read it.")
    return out[0], out[1]


def _session(name: str, run, knows: str, predict: str) -> Attack:
    return Attack(WEAKNESSES[name], knows, run, session_apps, predict)


SESSION_ATTACKS = [
    _session("predictable-id", predictable_id, "The attacker has an account of their own (eve@example.com) "
             "and logs in right after the victim.", "The attacker logs in, then tries the ID before theirs."),
    _session("fixation", fixation, "The attacker picks a session ID and plants it in the victim's browser "
             "(from a subdomain that can set cookies for the site, or on a shared computer); then "
             "the victim logs in.",
             "The victim logs in carrying the attacker's ID; the attacker uses it."),
    _session("logout-cookie-only", logout_cookie_only, "The attacker copied the victim's cookie (a shared "
             "computer, a proxy log). The victim logs out, feeling safe.",
             "The victim logs out; the attacker replays the copied cookie."),
    _session("no-server-expiry", no_server_expiry, f"Sessions should end {SHORT_TTL} s after login. The "
             "attacker holds a copy of the cookie and waits.", "The cookie is replayed after its Max-Age."),
    _session("no-httponly", no_httponly, "An XSS bug lets the attacker run script in the victim's page: "
             "it reads document.cookie.", "Injected script reads document.cookie."),
    _session("login-csrf", login_csrf, "The victim visits the attacker's page, which submits a hidden "
             "form to /login with the attacker's own email and password.",
             "Another site's form posts the attacker's credentials to /login."),
]
