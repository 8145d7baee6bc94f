"""demo browser --cookie: the JWT half with the token in an HttpOnly cookie, in a real Chromium.

The same burst as the localStorage half (log in, use, inject, attack, log out), then a login whose
claims grew past a cookie's 4096 bytes. Every cookie and answer shown is read back from Chromium.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Callable, Iterator

from authcli.browser import Browser
from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.events import TokenCookieSet
from authcli.server.policy import COOKIE_JWT, HARDENED_SESSIONS, HTTPS_COOKIE_JWT, HTTPS_SESSIONS
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.stores.memory import MemoryStore
from authcli.tokens.keys import SigningKey
from authcli.tokens.signing import make_signing_key
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.server.transport.httpd import AuthServer
from authcli.tls import TlsFiles
from authcli.walkthroughs.browser import (
    DEFAULT_TTL, DOCUMENT_COOKIE, LOGIN, LOGOUT, PROFILE, _attack_table, _session_burst, _session_intro,
    _session_use, cross_site,
)
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.jwt_cookie import BFF, PERMISSIONS
from authcli.walkthroughs.model import (
    ClientStorage, Defences, ExchangeBlock, JarBlock, Script, Step, Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("browser", "The browser half: a session cookie and a JWT in a cookie, in a real Chromium", 13)
STORE = "Chromium's cookie store"
INJECTED = """async () => {  // what an XSS payload would run
  const stolen = {cookie: document.cookie, storage: localStorage.getItem("token")};
  const r = await fetch("/profile");
  return {stolen, profile: `${r.status} ${(await r.text()).trim()}`};
}"""
STORAGE = "() => Object.fromEntries(Object.entries(localStorage))"
# The session half's page scripts name no credentials, so they serve this half unchanged.
SCRIPTS = SimpleNamespace(LOGIN=LOGIN, PROFILE=PROFILE, LOGOUT=LOGOUT, DOCUMENT_COOKIE=DOCUMENT_COOKIE)


def browser_cookie_walkthrough(ttl: int = DEFAULT_TTL, key: SigningKey | None = None,
                               browser: Callable[..., Browser] = Browser,
                               tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield demo browser --cookie's steps: the session half as in demo browser, then the JWT half
    with the token in an HttpOnly cookie, then the recap. Servers and the browser live exactly as
    long as the generator."""
    sessions, context = MemoryStore(), tls.server_context() if tls else None
    with AuthServer(SessionAuth(sessions, ttl, policy=HTTPS_SESSIONS if tls else HARDENED_SESSIONS),
                    tls=context) as server, browser(server, tls=tls) as chromium:
        cookies = _session_burst(chromium, server, sessions)
        yield from _session_intro(chromium, server, cookies)
        yield from _session_use(cookies)
        jwt_auth = JwtAuth(key or make_signing_key("HS256"), ttl, policy=HTTPS_COOKIE_JWT if tls else COOKIE_JWT)
        with AuthServer(jwt_auth, tls=context) as jwt_server:
            chromium.server = jwt_server
            chromium.fresh_profile()
            tokens = cookie_burst(chromium, jwt_server, tls)
            grown_burst(chromium, jwt_server, tokens, tls)
            yield from cookie_steps(tokens)
    yield cookie_recap(cookies, tokens)


def cookie_burst(chromium: Browser, server: AuthServer, tls: TlsFiles | None = None) -> SimpleNamespace:
    """The whole cookie half at once, with the session half's page scripts (SCRIPTS)."""
    scripts = SCRIPTS
    name = server.app.policy.cookie.name
    r = SimpleNamespace(where=f"{server.url}/", url=server.url, alg=server.app.key.alg, name=name, scripts=scripts)
    chromium.act(lambda: chromium.tab.goto(r.where), 1, ("/",))
    chromium.tab.wait_for_load_state("networkidle")
    r.said, [r.login] = chromium.act(lambda: chromium.run(scripts.LOGIN), 1)
    expect(r.login, 200, "logging in from page script")
    r.jar, r.storage, r.seen = chromium.cookies(), chromium.run(STORAGE), chromium.run(scripts.DOCUMENT_COOKIE)
    r.cookie = next((c for c in r.jar if c.name == name), None)
    if r.cookie is None:
        raise WalkthroughError(f"Chromium did not keep the {name} cookie")
    r.got, [r.profile] = chromium.act(lambda: chromium.run(scripts.PROFILE), 1)
    expect(r.profile, 200, "GET /profile from page script")
    r.injected, [r.used] = chromium.act(lambda: chromium.run(INJECTED), 1)
    expect(r.used, 200, "GET /profile from injected script")
    cross_site(chromium, server, r)
    r.bye, [r.logout] = chromium.act(lambda: chromium.run(scripts.LOGOUT), 1)
    expect(r.logout, 200, "logging out from page script")
    r.jar_after = chromium.cookies()
    thief = ScriptedClient(server, ca=str(tls.ca) if tls else None)
    try:  # a copy taken from the profile's cookie store, as malware or an extension could
        r.replay = expect(thief.send("GET", "/profile", headers={"Cookie": f"{name}={r.cookie.value}"}, fresh=True),
                          200, "the copied token after logout")
    finally:
        thief.close()
    return r


def grown_burst(chromium: Browser, server: AuthServer, r: SimpleNamespace, tls: TlsFiles | None) -> None:
    """Log in on a server (same key) whose tokens carry the user's permissions: past 4096 bytes."""
    policy = replace(server.app.policy, extra_claims=(("permissions", PERMISSIONS),))
    with AuthServer(JwtAuth(server.app.key, server.app.ttl, policy=policy),
                    tls=tls.server_context() if tls else None) as grown:
        chromium.server = grown
        r.grown_where = f"{grown.url}/"
        chromium.act(lambda: chromium.tab.goto(r.grown_where), 1, ("/",))
        chromium.tab.wait_for_load_state("networkidle")
        r.grown_said, [r.grown_login] = chromium.act(lambda: chromium.run(r.scripts.LOGIN), 1)
        expect(r.grown_login, 200, "logging in with permissions in the token")
        r.grown_jar = chromium.cookies()
        r.grown_got, [r.grown_profile] = chromium.act(lambda: chromium.run(r.scripts.PROFILE), 1)
        expect(r.grown_profile, 401, "GET /profile after the oversized cookie")
        chromium.server = server
    r.grown_size = r.grown_login.event(TokenCookieSet).size
    if r.grown_size <= COOKIE_LIMIT or any(c.name == r.name for c in r.grown_jar):
        raise WalkthroughError("expected Chromium to drop a cookie over 4096 bytes")


def cookie_steps(r: SimpleNamespace) -> list[Step]:
    where, s = r.where, r.scripts
    return [
        step(8, "A JWT server: the token comes back as an HttpOnly cookie", [
            f"A second server signs {r.alg} tokens, stores nothing, and sets each token as the "
            f"{r.name} cookie. In a fresh profile on {where}, the same login script as in step 2: "
            "Chromium keeps the cookie; the body names the cookie, never the token, so localStorage "
            "stays empty and document.cookie gave " + (repr(r.seen) if r.seen else "an empty string") + ".",
        ], Script(s.LOGIN, r.said, where), ExchangeBlock(r.login), JarBlock(r.jar, STORE),
            ClientStorage(r.storage, f"Chromium's localStorage for {r.url}" + ("" if r.storage else ": empty")),
            predict="Page script posts the login as JSON."),
        step(9, "fetch('/profile'): Chromium adds the token by itself", [
            "No Authorization header: page script names no credentials and Chromium attached the "
            "cookie, as for the session in step 4.",
        ], Script(s.PROFILE, r.got, where), ExchangeBlock(r.profile),
            predict="Page script fetches /profile, naming no credentials."),
        step(10, "Injected script: nothing to steal, but it can act", [
            f"The payload got {json.dumps(r.injected['stolen'])}: HttpOnly hides the cookie and "
            "localStorage holds nothing. Chromium still attached the cookie to the payload's own "
            "request: it acts as the user while the page is open, as in step 5.",
        ], Script(INJECTED, r.injected, where), ExchangeBlock(r.used), Defences(["httponly"]),
            predict="An injected script reads document.cookie and localStorage, and fetches /profile."),
        step(11, "Another site: CSRF is back, exactly as for sessions", [
            f"The attacker's page on {r.attacker} fires the same attacks as in step 6, with the same "
            "answers: the forged POST /logout carried no cookie (SameSite=Lax [^rfc6265bis-samesite]) "
            "and the Origin check refused it; the followed link carried the token, and the new tab "
            f"showed {r.tab_text!r}. A bearer token never rode along (step 11 without --cookie); "
            "a cookie does.",
        ], ExchangeBlock(r.forged), ExchangeBlock(r.linked), _attacks(r),
            Defences(["samesite-lax", "origin-check"]),
            predict="The attacker's page submits a hidden form to /logout, then the user follows its link."),
        step(12, "Logout clears the cookie; a copied token still works", [
            f"The server answered Set-Cookie {r.name} with Max-Age=0 and Chromium dropped it. A copy "
            "taken from the profile's cookie store before logout (Playwright read it, as malware or "
            "an extension could) still gets 200 from outside the browser until exp.",
        ], Script(s.LOGOUT, r.bye, where), ExchangeBlock(r.logout), JarBlock(r.jar_after, STORE),
            ExchangeBlock(r.replay), predict="Page script logs out; then the copied token is replayed."),
        step(13, f"The claims grow: Chromium drops a cookie past {COOKIE_LIMIT} bytes", [
            f"A server with the same key puts the user's {len(PERMISSIONS)} permissions in the token: "
            f"its cookie is {r.grown_size} bytes of name and value. Chromium ignores a Set-Cookie "
            f"whose name plus value is longer than {COOKIE_LIMIT} bytes [^rfc6265bis-5.6]: the login "
            "answered 200, Chromium's cookie store stayed empty, and /profile got 401: the user is "
            "silently not logged in.",
        ], Script(s.LOGIN, r.grown_said, r.grown_where), ExchangeBlock(r.grown_login, events=False),
            JarBlock(r.grown_jar, STORE), ExchangeBlock(r.grown_profile),
            predict=f"Page script logs in on a server whose tokens carry {len(PERMISSIONS)} permissions."),
    ]


def _attacks(r: SimpleNamespace) -> TableBlock:
    return TableBlock(_attack_table([("form: POST /logout", r.forged), ("frame: GET /profile", r.framed),
                                     ("link: GET /profile", r.linked), ("fetch /profile", r.fetched)], "Cookie"))


def cookie_recap(c: SimpleNamespace, t: SimpleNamespace) -> Step:
    """The browser's rows, session cookie beside JWT in a cookie, each from what the halves saw."""
    rows = [
        ["Kept in", "the cookie store (HttpOnly)", f"the cookie store (HttpOnly), up to {COOKIE_LIMIT} bytes "
                                                   f"(step 13: {t.grown_size} dropped)"],
        ["Attached by", "Chromium (step 4)", "Chromium (step 9)"],
        ["Injected script", f"read nothing; fetch got {c.injected['profile'].split(' ')[0]} (step 5)",
         f"read nothing; fetch got {t.injected['profile'].split(' ')[0]} (step 10)"],
        ["Other site's link", f"cookie sent: {c.linked.response.status} (step 6)",
         f"cookie sent: {t.linked.response.status} (step 11)"],
        ["Other site's form POST", f"no cookie, Origin: {c.forged.response.status}",
         f"no cookie, Origin: {t.forged.response.status}"],
        ["Logout", f"{len(c.after_logout.rows)} records: the old cookie is dead (step 7)",
         f"cookie cleared; a copy still works: {t.replay.response.status} (step 12)"],
    ]
    return step(None, "Recap: the browser's side of the comparison table", [
        "Moved into an HttpOnly cookie, the token behaves like a session cookie in the browser: out "
        "of page script's reach (not of malware or an extension), sent by itself, so CSRF defences "
        "matter again; and unlike a session ID, logout cannot end a copy, and the claims must stay "
        f"under {COOKIE_LIMIT} bytes. " + BFF,
    ], TableBlock(Table("The browser's view", ["", "session cookie", "JWT in a cookie"], rows)))
