"""demo oauth --browser: the code flow with PKCE driven in a real Chromium, redirect by redirect.

The same three servers as demo oauth; the browser is a headless Chromium driven with Playwright.
Every cookie shown is read back from Chromium's own store, every request is the one the server
received; the tab's URL is Playwright's page.url and its back/forward history is Chromium's, read
through the DevTools protocol (Page.getNavigationHistory).
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from authcli.browser import Browser
from authcli.clock import now as clock_now
from authcli.errors import WalkthroughError
from authcli.events import IdTokenChecked
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.schemes.oauth.relying import Registration
from authcli.tokens.parse import split
from authcli.walkthroughs.browser import _page
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import (
    ChecksBlock, ClientStorage, ExchangeBlock, JarBlock, Step, StoreBlock, Table, TableBlock,
    WalkthroughInfo, step,
)
from authcli.walkthroughs.oauth import _servers, back

INFO = WalkthroughInfo("oauth", "OAuth 2.0 and OpenID Connect in a real Chromium: redirects, cookies, history",
                       6, command="demo oauth --browser")
PATHS = ("/login", "/authorize", "/callback", "/profile")
STORE = "Chromium's cookie store, every origin"


def oauth_browser_walkthrough(*, clock: Callable[[], float] = clock_now,
                              sleep: Callable[[float], None] = time.sleep,
                              browser: Callable[..., Browser] = Browser) -> Iterator[Step]:
    """Yield the steps; the servers and Chromium live exactly as long as the generator. The
    browsing runs as one burst before the first step is shown, so --step pauses change nothing."""
    with ExitStack() as stack:
        r = _servers(stack, clock)
        _register(r)
        chromium = stack.enter_context(browser(r.app_server))
        _burst(r, chromium, sleep)
        yield from _steps(r)
        yield _recap(r)


def _register(r: SimpleNamespace) -> None:
    """The app registers its callback under the name localhost: the browser then meets two sites."""
    r.app_url = r.app_server.url.replace("127.0.0.1", "localhost")
    r.metadata = json.loads(expect(r.app_to_as.send("GET", "/.well-known/openid-configuration"), 200,
                                   "discovery").response.body)
    redirect_uri = r.app_url + "/callback"
    r.register = expect(r.app_to_as.send("POST", "/register", json={
        "redirect_uris": [redirect_uri], "client_name": "authcli demo app",
        "grant_types": ["authorization_code", "refresh_token"]}), 201, "registration")
    creds = json.loads(r.register.response.body)
    r.app.reg = Registration(creds["client_id"], creds["client_secret"], redirect_uri, r.metadata["issuer"],
                             r.metadata["authorization_endpoint"])


def _history(chromium: Browser) -> list[str]:
    """The tab's session history, as Chromium keeps it (DevTools Page.getNavigationHistory)."""
    cdp = chromium.context.new_cdp_session(chromium.tab)
    try:
        return [entry["url"] for entry in cdp.send("Page.getNavigationHistory")["entries"]]
    finally:
        cdp.detach()


def _burst(r: SimpleNamespace, chromium: Browser, sleep: Callable[[float], None]) -> None:
    """Two logins in one browser profile: the first with the password, the second on the AS's sign-in."""
    servers = (r.app_server, r.as_server)

    def go(action: Callable[[], Any], count: int) -> list:
        return chromium.act(action, count, PATHS, servers)[1]

    r.version, r.executable = chromium.version, chromium.executable
    r.login, r.authorize = go(lambda: chromium.tab.goto(r.app_url + "/login"), 2)
    expect(r.login, 302, "the app's login link")
    expect(r.authorize, 200, "the authorization request")
    r.bar_authorize, r.jar_authorize, r.pending = chromium.tab.url, chromium.cookies(), r.app.sessions.snapshot()
    chromium.tab.fill("input[name=email]", DEMO_EMAIL)
    chromium.tab.fill("input[name=password]", DEMO_PASSWORD)
    # Tokens issued at the start of a second (NumericDates are whole seconds): the checks then
    # say the same on every run.
    if r.clock() % 1 > 0.05:
        sleep(1 - r.clock() % 1)
    r.consent, r.callback, r.profile = go(lambda: chromium.tab.click("button[value=allow]"), 3)
    expect(r.consent, 302, "login and consent")
    expect(r.callback, 302, "the callback")
    expect(r.profile, 200, "the profile page")
    r.bar_profile, r.page_text = chromium.tab.url, (chromium.tab.text_content("body") or "").strip()
    r.jar = chromium.cookies()
    r.history = _history(chromium)
    r.codes, r.logins, r.sessions = r.provider.codes.snapshot(), r.provider.logins.snapshot(), r.app.sessions.snapshot()
    r.token, r.api_call = back(r.callback, "/token"), back(r.profile, "/api")
    r.tokens = json.loads(r.token.response.body)
    # The same browser, a second later: another login at the app (its tokens' iat then moves on,
    # while auth_time stays the password's).
    sleep(1.0)
    r.login2, r.authorize2 = go(lambda: chromium.tab.goto(r.app_url + "/login"), 2)
    expect(r.authorize2, 200, "the second authorization request")
    r.shown2 = (chromium.tab.text_content("#signed-in") or "").strip()
    r.asked_password2 = chromium.tab.locator("input[name=password]").count() > 0
    r.consent2, r.callback2, r.profile2 = go(lambda: chromium.tab.click("button[value=allow]"), 3)
    expect(r.consent2, 302, "the consent, signed in")
    expect(r.profile2, 200, "the second profile page")
    r.tokens2 = json.loads(back(r.callback2, "/token").response.body)
    r.jar2 = chromium.cookies()
    held = json.dumps([c.value for c in r.jar2]) + r.page_text
    if any(r.tokens[k] in held for k in ("access_token", "id_token", "refresh_token")):
        raise WalkthroughError("a token reached Chromium: this walkthrough says it never does")


def _cookie(jar, name: str):
    found = next((c for c in jar if c.name == name), None)
    if found is None:
        raise WalkthroughError(f"Chromium holds no {name} cookie")
    return found


def _flags(cookie) -> str:
    return ", ".join(f for f, on in (("HttpOnly", cookie.http_only), (f"SameSite={cookie.same_site}", cookie.same_site),
                                     ("Secure", cookie.secure)) if on) or "no flags"


def _steps(r: SimpleNamespace) -> list[Step]:
    return [*_to_the_as(r), *_back_at_the_app(r)]


def _to_the_as(r: SimpleNamespace) -> list[Step]:
    """Steps 1 to 3: the servers, the redirect to the AS, the password there."""
    as_url, app_url, api_url = r.as_server.url, r.app_url, r.api_server.url
    code = r.consent.response.header("Location") or ""
    as_cookie = _cookie(r.jar, r.provider.login_cookie.name)
    return [
        step(1, "A real Chromium, and three servers on two host names", [
            f"authcli started a headless Chromium {r.version} ({r.executable}), driven by Playwright, and "
            f"three servers: the authorization server (AS) on {as_url}, the API on {api_url}, and the "
            f"client app, reached as {app_url}. 127.0.0.1 and localhost are different hosts, so the app's "
            "cookies and the AS's never meet, and different sites [^html-obtain-site]. The AS and the API share the host "
            "127.0.0.1: cookies are not isolated by port [^rfc6265-8.5], so a cookie the AS sets would also "
            "go to the API if the browser ever went there (it does not: only the app's server calls the API). "
            "The app registered its callback on localhost [^rfc7591-3].",
        ], ExchangeBlock(r.register), predict="The app registers http://localhost:PORT/callback at the AS."),
        step(2, "The user opens the app's /login: Chromium is sent on to the AS", [
            "The app answered 302 with a new session cookie of its own (state, nonce and code_verifier stay in "
            "its store) and the authorization request in the Location. Chromium followed it to another site; "
            "the request carried no cookie, as this browser has never been to the AS. The tab's URL is now "
            "the AS's page with client_id, redirect_uri, state, nonce and code_challenge in the query, and "
            "history keeps that URL: the challenge is only a hash of the verifier [^rfc7636-4.2], but state "
            "must not reach an attacker before the callback spends it [^rfc9700-4.2].",
        ], ExchangeBlock(r.login), ExchangeBlock(_page(r.authorize)), StoreBlock(r.pending, "after the redirect"),
            JarBlock(r.jar_authorize, STORE),
            ClientStorage({"the tab's URL": r.bar_authorize}, "Chromium's tab, after the redirect"),
            predict="Chromium opens the app's /login."),
        step(3, "The password at the AS: its sign-in cookie and a code", [
            "The form posts to the AS's own origin (the AS refuses it from anywhere else). The AS checked "
            "the password, stored a one-time code, and answered 302 to the callback with code, state and "
            f"iss, and with its own cookie, {as_cookie.name} ({_flags(as_cookie)}): this browser is now "
            f"signed in at the AS for {r.provider.policy.login_ttl} s [^oidc-core-3.1.2.3]. "
            f"Location: {code[:code.find('?')]}?code=...",
        ], ExchangeBlock(r.consent), StoreBlock(r.codes, "after the whole login"),
            StoreBlock(r.logins, "after the answer"),
            predict=f"The user types {DEMO_EMAIL} / {DEMO_PASSWORD} at the AS and clicks Allow."),
    ]


def _back_at_the_app(r: SimpleNamespace) -> list[Step]:
    """Steps 4 to 6: the callback, the profile with the API call, and a second login."""
    referer = r.callback.request.header("Referer") or "none"
    site = r.callback.request.header("Sec-Fetch-Site") or "none"
    as_cookie, app_cookie = _cookie(r.jar, r.provider.login_cookie.name), _cookie(r.jar, "app_session")
    auth_time = [split(t["id_token"]).payload.get("auth_time") for t in (r.tokens, r.tokens2)]
    iat2 = split(r.tokens2["id_token"]).payload.get("iat")
    same = "the same" if auth_time[0] == auth_time[1] else "different"
    return [
        step(4, "GET /callback: the code in a URL the tab never showed", [
            f"Chromium sent the app's pending-login cookie with the callback although Sec-Fetch-Site says "
            f"{site} [^fetch-metadata]: SameSite=Lax lets a cookie ride on a top-level GET navigation "
            "[^rfc6265bis-samesite] (Strict would have lost this login). The app compared state, redeemed the "
            "code server to server with its secret and code_verifier, and checked the ID token. "
            f"Referer: {referer}: only the AS's origin: Chromium's default policy, strict-origin-when-cross-origin, "
            "which this AS does not override, cuts the path and query [^mdn-referrer-policy].",
            "The callback answered 302 to /profile, so Chromium never showed the URL with the code, and the "
            f"tab's back/forward history (below) holds {len(r.history)} entries, none with a code. A browser's "
            "history database may still keep the URLs of a redirect chain, so the code can end up there "
            "[^rfc9700-4.3.1]. Had the callback answered with a page, the code would sit in the tab's URL and "
            "in its history; it would still be spent (one use) and, without the "
            "code_verifier that never left the app's server, useless to whoever copied it [^rfc7636-4.6].",
        ], ExchangeBlock(r.callback), ClientStorage({str(i): url for i, url in enumerate(r.history, 1)},
                                                    "Chromium's back/forward history for this tab (DevTools protocol)"),
            ExchangeBlock(r.token, events=False),
            ChecksBlock(list(r.callback.event(IdTokenChecked).checks), "The app's checks of the ID token:"),
            predict="Chromium follows the Location to the app's /callback."),
        step(5, "GET /profile: the app's server calls the API", [
            f"The tab's URL: {r.bar_profile}. The app logged the user in under a new session ID and its server "
            "called the API with the access token; the page showed " + json.dumps(r.page_text[:120]) + ". "
            f"Chromium holds {app_cookie.name} for {app_cookie.domain} and {as_cookie.name} for "
            f"{as_cookie.domain}, both HttpOnly: random IDs that mean something only to their own server. "
            "No token ever reached the browser.",
        ], ExchangeBlock(r.profile), ExchangeBlock(r.api_call, events=False), JarBlock(r.jar, STORE),
            _app_store(r.sessions), predict="Chromium follows the Location to /profile."),
        step(6, "Log in again in the same browser: consent, but no password", [
            f"Chromium sent {as_cookie.name} with the new authorization request, and the AS answered the "
            f"consent page alone ({json.dumps(r.shown2)}, password field: "
            f"{'shown' if r.asked_password2 else 'none'}). The user still chose Allow: this AS asks consent on "
            "every login [^oidc-core-3.1.2.4]. A client that needs the password typed again sends "
            "prompt=login [^oidc-core-prompt]; prompt=none asks for no page at all and gets an error "
            "instead: for this signed-in browser, consent_required [^oidc-core-3.1.2.6]. The two ID tokens "
            f"carry {same} auth_time ({auth_time[0]}, {auth_time[1]}): when the user typed the password "
            f"[^oidc-core-2]; iat is when each token was made (the second's: {iat2}).",
        ], ExchangeBlock(_page(r.authorize2)), ExchangeBlock(r.consent2), JarBlock(r.jar2, STORE),
            predict="The user opens the app's /login again in the same browser."),
    ]


def _app_store(snapshot) -> ClientStorage:
    return ClientStorage({f'sessions["{row.key[:8]}..."]': json.dumps(row.value) for row in snapshot.rows},
                         "The client app's sessions (its memory), after the callback")


def _where(url: str) -> str:
    """A history entry without its query: the recap says where, step 4 shows the whole URL."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}" + ("?..." if parts.query else "") if parts.netloc else url


def _recap(r: SimpleNamespace) -> Step:
    rows = [[c.name, c.domain, _flags(c), "the AS: the user signed in there" if c.domain == "127.0.0.1"
             else "the app: its logged-in session"] for c in r.jar2]
    rows.append(["(history)", "", "", ", ".join(_where(url) for url in r.history)])
    return step(None, "Recap: what Chromium held", [
        "Two cookies on two sites and a back/forward history with the authorization request, never the code or a "
        "token. "
        "PKCE makes a copied code useless, state ties the callback to this browser, SameSite=Lax lets the "
        "callback's top-level GET carry the app's cookie. None of them stops script injected into the app's "
        "pages (XSS) from acting as the user, or a user who allows a client they should not trust.",
    ], TableBlock(Table("Chromium's cookies and history", ["name", "host", "flags", "what it means"], rows)))
