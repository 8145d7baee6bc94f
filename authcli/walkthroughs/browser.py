"""The browser walkthrough: the handout's browser half, from a real headless Chromium.

Each half runs as one burst (log in, use, attack, log out) and is shown afterwards, so --step
pauses cannot race anything. Every script shown ran inside the page; every cookie and
localStorage row is read back from Chromium itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, Callable, Iterator

from authcli.browser import Browser
from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.stores.memory import MemoryStore
from authcli.tokens.keys import SigningKey
from authcli.tokens.signing import make_signing_key
from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS
from authcli.tls import TlsFiles
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import (
    ClientStorage, Defences, ExchangeBlock, JarBlock, Note, NotesBlock, Script, Step, StoreBlock,
    Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("browser", "The browser half: a session cookie and a JWT in a real Chromium", 12)
DEFAULT_TTL = 300
STORE = "Chromium's cookie store"

# The page scripts, exactly as they run (and are shown). Each reads the body it fetched: a
# browser counts a request finished only once its body has been read.
LOGIN = """async () => {
  const r = await fetch("/login", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: "%s", password: "%s"})});
  return `${r.status} ${(await r.text()).trim()}`;
}""" % (DEMO_EMAIL, DEMO_PASSWORD)
DOCUMENT_COOKIE = "() => document.cookie"
PROFILE = """async () => {
  const r = await fetch("/profile");  // no credentials named
  return `${r.status} ${(await r.text()).trim()}`;
}"""
INJECTED = """async () => {  // what an XSS payload would run
  const stolen = document.cookie;
  const r = await fetch("/profile");
  return {stolen, profile: `${r.status} ${(await r.text()).trim()}`};
}"""
LOGOUT = """async () => {
  const r = await fetch("/logout", {method: "POST"});
  return `${r.status} ${(await r.text()).trim()}`;
}"""
JWT_LOGIN = """async () => {
  const r = await fetch("/login", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: "%s", password: "%s"})});
  const {token} = await r.json();
  localStorage.setItem("token", token);
  return r.status;
}""" % (DEMO_EMAIL, DEMO_PASSWORD)
BEARER = """async () => {  // the handout's axios line, with fetch
  const token = localStorage.getItem("token");
  const r = await fetch("/profile", {headers: {Authorization: `Bearer ${token}`}});
  return `${r.status} ${(await r.text()).trim()}`;
}"""
STEAL = """() => localStorage.getItem("token")  // what an XSS payload would run"""
JWT_LOGOUT = """async () => {
  const token = localStorage.getItem("token");
  const r = await fetch("/logout", {method: "POST",
    headers: {Authorization: `Bearer ${token}`}});
  localStorage.removeItem("token");
  return `${r.status} ${(await r.text()).trim()}`;
}"""
STORAGE = "() => Object.fromEntries(Object.entries(localStorage))"


class _Attack:
    """The attacker's page, opened in a second tab under the server's other name."""

    def __init__(self, browser: Browser, server: AuthServer):
        self.browser = browser
        self.url = server.url.replace("127.0.0.1", "localhost") + "/attacker"
        self.tab = browser.new_tab()
        self.tab.goto(self.url)

    def form(self, form: str) -> Exchange:
        _, [exchange] = self.browser.act(lambda: self.tab.click(f"#{form} button"), 1)
        return exchange

    def link(self) -> tuple[Exchange, str]:
        """Follow the attacker's link to /profile: a new tab, a top-level navigation."""
        def follow() -> Any:
            with self.browser.context.expect_page() as opened:
                self.tab.click("#csrf-link")
            return opened.value

        tab, [exchange] = self.browser.act(follow, 1)
        shown = tab.text_content("body") or ""
        tab.close()
        return exchange, shown.strip()

    def fetch(self) -> Exchange:
        _, [exchange] = self.browser.act(lambda: self.tab.click("#csrf-fetch"), 1)
        return exchange

    def close(self) -> None:
        self.tab.close()


def _carried(exchange: Exchange, header: str) -> str:
    return f"{header} header" if exchange.request.header(header) else "nothing"


def _page(exchange: Exchange) -> Exchange:
    """The exchange with the page's markup summed up in one marked line: the headers are the
    lesson, 2,500 bytes of HTML are not."""
    body = exchange.response.body
    kind = (exchange.response.header("Content-Type") or "").split(";")[0]
    summary = f"({len(body.encode())} bytes of {kind or 'body'}: the page itself, not shown here)"
    return replace(exchange, response=replace(exchange.response, body=summary))


def _how(exchange: Exchange) -> str:
    from authcli.server.lab.crosssite import how_sent

    return how_sent(exchange.request.header)


def _attack_table(rows: list[tuple[str, Exchange]], header: str) -> Table:
    return Table("What the attacker's page made the browser send", ["attack", "sent by", "carried", "answer"],
                 [[what, _how(ex), _carried(ex, header), f"{ex.response.status} {ex.response.reason}"]
                  for what, ex in rows])


def browser_walkthrough(ttl: int = DEFAULT_TTL, key: SigningKey | None = None,
                        browser: Callable[..., Browser] = Browser, tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield the browser demo's steps: the session half, then the JWT half, then the recap.
    Servers and the browser live exactly as long as the generator. `tls`: both servers speak
    HTTPS, and the session cookie is __Host-sessionId with Secure."""
    sessions = MemoryStore()
    context = tls.server_context() if tls else None
    policy = HTTPS_SESSIONS if tls else HARDENED_SESSIONS
    with AuthServer(SessionAuth(sessions, ttl, policy=policy), tls=context) as server, \
            browser(server, tls=tls) as chromium:
        cookies = _session_burst(chromium, server, sessions)
        yield from _session_intro(chromium, server, cookies)
        yield from _session_use(cookies)
        with AuthServer(JwtAuth(key or make_signing_key("HS256"), ttl), tls=context) as jwt_server:
            chromium.server = jwt_server
            chromium.fresh_profile()
            tokens = _jwt_burst(chromium, jwt_server, tls)
            yield from _jwt_steps(tokens)
    yield _recap(cookies, tokens)


def cross_site(chromium: Browser, server: AuthServer, r: SimpleNamespace) -> None:
    """The attacker's site against a cookie the browser sends by itself: a hidden form POST, a
    framed GET, a top-level link and a fetch, each kept in `r` with the status it must get."""
    attack = _Attack(chromium, server)
    r.attacker = attack.url
    r.forged = expect(attack.form("csrf-logout"), 403, "the attacker's hidden POST /logout")
    r.framed = expect(attack.form("csrf-frame"), 401, "the attacker's framed GET /profile")
    r.linked, r.tab_text = attack.link()
    expect(r.linked, 200, "the attacker's link to /profile")
    r.fetched = expect(attack.fetch(), 401, "the attacker's fetch of /profile")
    attack.close()


def _session_burst(chromium: Browser, server: AuthServer, sessions: MemoryStore) -> SimpleNamespace:
    """The whole session half, at once: what each step will show."""
    r = SimpleNamespace(where=f"{server.url}/")
    mark = server.mark()
    _, [r.page] = chromium.act(lambda: chromium.tab.goto(r.where), 1, ("/",))
    expect(r.page, 200, "opening the login page")
    chromium.tab.wait_for_load_state("networkidle")
    r.on_load = server.records_since(mark)[1:]  # what the page's own files and script asked for
    r.said, [r.login] = chromium.act(lambda: chromium.run(LOGIN), 1)
    expect(r.login, 200, "logging in from page script")
    r.after_login, r.jar = sessions.snapshot(), chromium.cookies()
    r.cookie = next((c for c in r.jar if c.name == server.app.policy.cookie.name), None)
    if r.cookie is None:
        raise WalkthroughError("Chromium did not keep the session cookie")
    r.seen = chromium.run(DOCUMENT_COOKIE)
    r.got, [r.profile] = chromium.act(lambda: chromium.run(PROFILE), 1)
    expect(r.profile, 200, "GET /profile from page script")
    r.injected, [r.used] = chromium.act(lambda: chromium.run(INJECTED), 1)
    expect(r.used, 200, "GET /profile from injected script")

    cross_site(chromium, server, r)
    r.after_attack = sessions.snapshot()

    r.bye, [r.logout] = chromium.act(lambda: chromium.run(LOGOUT), 1)
    expect(r.logout, 200, "logging out from page script")
    r.jar_after, r.after_logout = chromium.cookies(), sessions.snapshot()
    r.ttl = server.app.ttl
    return r


def _session_intro(chromium: Browser, server: AuthServer, r: SimpleNamespace) -> list[Step]:
    files = sorted(rec.request.path for rec in r.on_load if rec.request.path.endswith((".css", ".js")))
    asked = [f"GET {rec.request.path} -> {rec.status}" for rec in r.on_load
             if not rec.request.path.endswith((".css", ".js", ".ico"))]
    loaded = (f"The page then loaded {', '.join(files)}, and its script asked {', '.join(asked) or 'nothing'} "
              "(nobody is logged in yet).")
    where = r.where
    return [
        step(None, f"A real Chromium and a session server on {server.url}", [
            f"authcli started a headless Chromium {chromium.version} ({chromium.executable}), driven "
            f"by Playwright, and a session-cookie server on {server.url} with an in-memory store. "
            "Nothing below is simulated (response headers in the alphabetical order Playwright reports). Later "
            f"steps open a second site, {r.attacker}: the same server under its other name; to a "
            "browser, 127.0.0.1 and localhost are different sites [^html-obtain-site].",
            *([f"HTTPS: both servers use a throwaway certificate for localhost, 127.0.0.1 and ::1. "
               "Chromium was told to trust exactly that certificate's key (its SPKI pin, "
               "--ignore-certificate-errors-spki-list); any other certificate error would still stop "
               f"it. The session cookie is {r.cookie.name}, Secure."] if r.where.startswith("https") else []),
        ]),
        step(1, "The browser opens the login page", [
            f"Chromium loads {where}; Sec-Fetch-Site: none says no site started it, as when the user "
            "types the address [^fetch-metadata]. " + loaded,
        ], ExchangeBlock(_page(r.page), events=False), Defences(["csp-self", "frame-ancestors"]),
            predict="Chromium opens the login page."),
        step(2, "Page script logs in with fetch", [
            "The login form's script posts JSON; Chromium receives Set-Cookie and keeps the cookie "
            "itself: the script sees only the status and the body.",
        ], Script(LOGIN, r.said, where), ExchangeBlock(r.login), StoreBlock(r.after_login),
            predict="Page script posts the login as JSON."),
        step(3, "Chromium kept the cookie; page script cannot see it", [
            "Chromium's own cookie store, with the flags it applied. HttpOnly keeps this cookie out "
            "of document.cookie: the script below got " + (repr(r.seen) if r.seen else "an empty string")
            + ".",
        ], JarBlock(r.jar, STORE), Script(DOCUMENT_COOKIE, r.seen, where), NotesBlock([
                Note("no Expires", "a session cookie; the server's record decides when the session "
                     f"ends ({r.ttl} s)."),
            ])),
    ]


def _session_use(r: SimpleNamespace) -> list[Step]:
    where = r.where
    return [
        step(4, "fetch('/profile'): the browser adds the cookie by itself", [
            "The script names no credentials: Chromium added the Cookie header itself.",
        ], Script(PROFILE, r.got, where), ExchangeBlock(r.profile),
            predict="Page script fetches /profile, naming no credentials."),
        step(5, "Injected script: nothing to steal, but it can act", [
            "An XSS payload runs with the page's rights. HttpOnly hides the ID from it, but the "
            "browser still attaches the cookie to the payload's own requests: it can act as the "
            "user while the page is open, not take the ID away. (The test driver runs this payload; "
            "a real one would first need a way past the page's CSP.)",
        ], Script(INJECTED, r.injected, where), ExchangeBlock(r.used), Defences(["httponly"]),
            predict="An injected script reads document.cookie and fetches /profile."),
        step(6, "Another site: which requests carry the cookie", [
            f"A second tab opens the attacker's page on {r.attacker} and fires its attacks at "
            f"{r.where[:-1]}. The forged POST /logout carried no cookie (SameSite=Lax "
            "[^rfc6265bis-samesite]) and its Origin names another site: 403, the session survives. "
            f"A link the user follows is a top-level GET, and Lax sends the cookie with it: the new "
            f"tab showed {r.tab_text!r}, to the user, not to the attacker. That is why a GET must "
            "never change anything.",
        ], ExchangeBlock(r.forged), ExchangeBlock(r.linked),
            TableBlock(_attack_table([("form: POST /logout", r.forged), ("frame: GET /profile", r.framed),
                                      ("link: GET /profile", r.linked),
                                      ("fetch /profile", r.fetched)], "Cookie")),
            StoreBlock(r.after_attack, "after the attacks"), Defences(["samesite-lax", "origin-check"]),
            predict="The attacker's page submits a hidden form to /logout, then the user follows its link to /profile."),
        step(7, "Logout: the server deletes the record, Chromium drops the cookie", [
            "The server deleted the record and answered Set-Cookie with Max-Age=0; Chromium "
            "removed the cookie from its store.",
        ], Script(LOGOUT, r.bye, where), ExchangeBlock(r.logout), StoreBlock(r.after_logout),
            JarBlock(r.jar_after, STORE), predict="Page script posts /logout."),
    ]


def _jwt_burst(chromium: Browser, server: AuthServer, tls: TlsFiles | None = None) -> SimpleNamespace:
    """The whole JWT half, at once; the thief is a client outside the browser (Python's requests)."""
    r = SimpleNamespace(where=f"{server.url}/", url=server.url, alg=server.app.key.alg)
    chromium.act(lambda: chromium.tab.goto(r.where), 1, ("/",))
    chromium.tab.wait_for_load_state("networkidle")
    r.status, [r.login] = chromium.act(lambda: chromium.run(JWT_LOGIN), 1)
    expect(r.login, 200, "logging in from page script")
    r.storage, r.jar = chromium.run(STORAGE), chromium.cookies()
    r.token = r.storage.get("token")
    if not r.token:
        raise WalkthroughError("page script did not keep the token in localStorage")
    r.got, [r.profile] = chromium.act(lambda: chromium.run(BEARER), 1)
    expect(r.profile, 200, "GET /profile with the Bearer header")
    r.stolen = chromium.run(STEAL)
    thief = ScriptedClient(server, ca=str(tls.ca) if tls else None)
    bearer = {"Authorization": f"Bearer {r.stolen}"}
    try:
        r.elsewhere = expect(thief.send("GET", "/profile", headers=bearer, fresh=True), 200,
                             "the stolen token, replayed from outside the browser")
        attack = _Attack(chromium, server)
        r.attacker = attack.url
        r.forged = expect(attack.form("csrf-logout"), 403, "the attacker's hidden POST /logout")
        r.linked, r.tab_text = attack.link()
        expect(r.linked, 401, "the attacker's link to /profile")
        attack.close()
        r.bye, [r.logout] = chromium.act(lambda: chromium.run(JWT_LOGOUT), 1)
        expect(r.logout, 200, "logging out from page script")
        r.storage_after = chromium.run(STORAGE)
        r.replay = expect(thief.send("GET", "/profile", headers=bearer, fresh=True), 200,
                          "the copied token after logout")
    finally:
        thief.close()
    return r


def _jwt_steps(r: SimpleNamespace) -> list[Step]:
    where = r.where
    title = f"Chromium's localStorage for {r.url}"
    title_after = title + ("" if r.storage_after else ": empty")
    return [
        step(8, "A JWT server: page script keeps the token in localStorage", [
            f"A second server signs {r.alg} tokens and stores nothing. In a fresh profile on {where}, "
            "page script keeps the token from the response body in localStorage (this origin's, "
            "kept across reloads); the cookie store stays empty.",
        ], Script(JWT_LOGIN, r.status, where), ExchangeBlock(r.login), ClientStorage(r.storage, title),
            JarBlock(r.jar, STORE),
            predict="Page script posts the login as JSON and keeps what comes back."),
        step(9, "Page script adds Authorization: Bearer itself", [
            "The handout's axios line: every call must name the token.",
        ], Script(BEARER, r.got, where), ExchangeBlock(r.profile),
            predict="Page script fetches /profile with the token from localStorage."),
        step(10, "Injected script: it reads the token and takes it away", [
            f"Any script on the page can read localStorage: the payload got all {len(r.stolen)} "
            "characters, replayed below from outside the browser (Python's requests): 200 there too, "
            "until exp. In step 5 the cookie could be used but not taken. A token bound to the "
            "client's key is refused there: authcli demo jwt --dpop.",
        ], Script(STEAL, r.stolen, where), ExchangeBlock(r.elsewhere),
            predict="An injected script reads localStorage; the token is replayed from outside the browser."),
        step(11, "Another site: the token is never sent by itself", [
            f"The attacker's page on {r.attacker} tries again: a browser attaches cookies, never a "
            "bearer token, so neither request carries one and CSRF has nothing to ride on. The "
            f"link's tab showed {r.tab_text!r}.",
        ], ExchangeBlock(r.linked), TableBlock(_attack_table(
            [("form: POST /logout", r.forged), ("link: GET /profile", r.linked)],
            "Authorization")),
            predict="The attacker's page submits its hidden form, then the user follows its link."),
        step(12, "Logout forgets the client's copy; a stolen copy still works", [
            "Page script deleted the token and told the server, which has nothing to delete; the "
            "copy stolen in step 10 works until exp (revoking it needs a jti denylist).",
        ], Script(JWT_LOGOUT, r.bye, where), ExchangeBlock(r.logout), ClientStorage(r.storage_after, title_after),
            ExchangeBlock(r.replay), predict="Page script logs out; then the stolen copy is replayed."),
    ]


def _recap(c: SimpleNamespace, t: SimpleNamespace) -> Step:
    """The browser's rows of the handout's table, each filled from what the two halves saw."""
    cookie = c.cookie
    flags = ", ".join(name for name, on in (("HttpOnly", cookie.http_only), (f"SameSite={cookie.same_site}",
                                            cookie.same_site), ("Secure", cookie.secure)) if on)
    rows = [
        ["Kept in", f"the cookie store ({flags})", "localStorage, its origin's"],
        ["Attached by", "Chromium, where SameSite allows (step 4)", "page script, each call (step 9)"],
        ["Injected script", f"document.cookie gave {json.dumps(c.injected['stolen'])}; fetch got "
         f"{c.injected['profile'].split(' ')[0]} (step 5)",
         f"took it; replayed: {t.elsewhere.response.status} (step 10)"],
        ["Other site's link", f"cookie sent: {c.linked.response.status} (step 6)",
         f"nothing sent: {t.linked.response.status} (step 11)"],
        ["Other site's form POST", f"no cookie, Origin: {c.forged.response.status}",
         f"no token, Origin: {t.forged.response.status}"],
        ["Logout", f"{len(c.after_logout.rows)} records, {len(c.jar_after)} cookies (step 7)",
         f"the copy still works: {t.replay.response.status} (step 12)"],
    ]
    return step(None, "Recap: the browser's side of the comparison table", [
        "An HttpOnly cookie is out of page script's reach (not of malware or an extension) but "
        "rides along on requests, which SameSite and an Origin check limit (a top-level link still carries it). A bearer token never "
        "rides along, but any script on the page can take it.",
    ], TableBlock(Table("The browser's view", ["", "session cookie", "JWT in localStorage"], rows)))
