"""The browser pages in a real headless Chromium (Playwright pointed at the system's browser):
log in through each page, and see what the browser held and sent. AUTHCLI_REQUIRE_BROWSER
turns a skip (no Chromium, no Playwright) into a failure, as CI sets it."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the hint
    expect = None

from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key

# Chromium logs every 4xx a page's request gets as a console error; the pages ask for those
# 401s and 403s on purpose.
EXPECTED = re.compile(r"Failed to load resource: the server responded with a status of 40[13]")


def watch(tab, problems: list[str]) -> None:
    """Collect console errors (a CSP violation is one) and uncaught exceptions into `problems`."""
    tab.on("console", lambda m: problems.append(m.text)
           if m.type == "error" and not EXPECTED.match(m.text) else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))


@pytest.fixture
def page(browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.problems = []
    watch(tab, tab.problems)
    yield tab
    context.close()


def test_session_page_the_browser_keeps_an_httponly_cookie_page_script_cannot_see(page):
    with AuthServer(SessionAuth(MemoryStore(), 60)) as server:
        page.goto(server.url + "/")
        page.click("#login-button")
        expect(page.locator("#record")).to_contain_text("sessionStore")
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["sessionId"]["httpOnly"] and cookies["sessionId"]["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""
        assert page.text_content("#cookie").startswith('"" (empty: HttpOnly')
        assert page.text_content("#profile").startswith("200 OK: Welcome user 1")
        assert cookies["sessionId"]["value"] not in page.content()  # the teaching view shortens it
        expect(page.locator("#left")).to_have_text(re.compile(r"^\d+ s$"))

        page.click("#inject")
        expect(page.locator("#inject-answer")).to_contain_text("fetch")
        injected = page.text_content("#inject-answer")
        assert 'document.cookie gave the script: ""' in injected and "200 OK" in injected

        page.click("#logout")
        expect(page.locator("#profile")).to_have_text(re.compile(r"^401"))
        expect(page.locator("#record")).to_contain_text(re.compile("no such record|no session"))  # updated after #profile
        assert "sessionId" not in {c["name"] for c in page.context.cookies()}
        assert server.app.store.snapshot().rows == []
    assert page.problems == []


@pytest.mark.parametrize("ahead", [3600, -3600])
def test_time_left_is_counted_on_the_servers_clock(page, monkeypatch, ahead):
    """A student's laptop and the teacher's server disagree on the time: the page counts a
    deadline the server set on the server's clock (its Date header), not the laptop's."""
    from authcli import clock

    monkeypatch.setattr(clock, "SHIFT", clock.SHIFT + ahead)  # the server runs an hour apart
    for auth, login in ((SessionAuth(MemoryStore(), 60), "#login-button"),
                        (JwtAuth(make_signing_key("HS256"), 60), "#login button")):
        with AuthServer(auth) as server:
            page.goto(server.url + "/")
            page.click(login)
            left = page.locator("#left") if isinstance(auth, SessionAuth) else page.locator("#claims")
            expect(left).to_contain_text(re.compile(r"\b(5[89]|60) s\b"))
    assert page.problems == []


def test_jwt_page_keeps_the_token_in_localstorage_and_adds_the_bearer_header(page):
    with AuthServer(JwtAuth(make_signing_key("HS256"), 60)) as server:
        page.goto(server.url + "/")
        page.click("#login button")
        expect(page.locator("#payload")).to_contain_text("userId")
        token = page.evaluate("localStorage.getItem('token')")
        assert token and token.count(".") == 2 and page.text_content("#token") == token
        assert page.locator("#token span.sig").text_content() == token.split(".")[2]
        assert "exp " in page.text_content("#claims") and "time left" in page.text_content("#claims")
        assert page.context.cookies() == []  # nothing in the cookie jar: nothing goes by itself

        page.click("#profile-button")
        expect(page.locator("#profile")).to_contain_text("200 OK")
        sent = [r for r in server.records_since(0) if r.request.path == "/profile"]
        assert sent[-1].request.header_values("Authorization") == [f"Bearer {token}"]

        page.click("#inject")
        expect(page.locator("#inject-answer")).to_contain_text("gave the script the whole token")

        page.click("#logout")
        expect(page.locator("#profile")).to_contain_text("nothing to revoke")
        assert page.evaluate("localStorage.getItem('token')") is None
        page.click("#replay")
        expect(page.locator("#profile")).to_have_text(re.compile(r"^The copied"))
        assert "200 OK" in page.text_content("#profile")  # still valid until exp
    assert page.problems == []


def _attack(page, server):
    """Open the attacker's page under the server's other name and fire every attack; returns
    the server's journal records of the targeted routes, in order, and the page's log text."""
    page.goto(server.url + "/")
    link = page.get_attribute("a.attacker-link", "href")
    assert link.startswith(server.url.replace("127.0.0.1", "localhost") + "/attacker?victim=")
    attacker = page.context.new_page()
    watch(attacker, page.problems)
    attacker.goto(link)
    mark = server.mark()
    for n, form in enumerate(["#csrf-logout", "#csrf-login", "#csrf-frame"], 1):
        attacker.click(f"{form} button")
        expect(attacker.locator("#log li")).to_have_count(n)
    with page.context.expect_page() as opened:
        attacker.click("#csrf-link")
    opened.value.wait_for_load_state()
    tab_text = opened.value.text_content("body")
    opened.value.close()
    attacker.click("#csrf-fetch")
    expect(attacker.locator("#fetch-answer")).to_contain_text('type "opaque"')
    expect(attacker.locator("#log li")).to_have_count(5)
    records = [r for r in server.records_since(mark) if r.request.path in ("/login", "/profile", "/logout")]
    return records, attacker.text_content("#log"), tab_text


def test_the_attacker_site_gets_the_cookie_sent_only_on_a_top_level_link(page):
    with AuthServer(SessionAuth(MemoryStore(), 60)) as server:
        page.goto(server.url + "/")
        page.click("#login-button")
        expect(page.locator("#record")).to_contain_text("sessionStore")
        records, log, tab = _attack(page, server)
        sent = [(r.request.method, r.request.path, bool(r.request.header_values("Cookie")), r.status)
                for r in records]
        assert sent == [("POST", "/logout", False, 403), ("POST", "/login", False, 403),
                        ("GET", "/profile", False, 401), ("GET", "/profile", True, 200),
                        ("GET", "/profile", False, 401)]
        assert all(r.request.header_values("Origin") == [server.url.replace("127.0.0.1", "localhost")]
                   for r in records[:2])
        assert tab.startswith("Welcome user 1")  # shown to the user in their tab, not to the attacker
        assert len(server.app.store.snapshot().rows) == 1  # the forged logout changed nothing
        cookie = page.context.cookies(server.url)[0]["value"]
        assert cookie not in log and cookie[:8] + "..." in log
        assert "top-level navigation" in log and "refused it as cross-site (its Origin or Sec-Fetch-Site)" in log
    assert page.problems == []


def test_the_attacker_site_never_gets_a_bearer_token_sent(page):
    with AuthServer(JwtAuth(make_signing_key("HS256"), 60)) as server:
        page.goto(server.url + "/")
        page.click("#login button")
        expect(page.locator("#payload")).to_contain_text("userId")
        records, log, tab = _attack(page, server)
        assert [(r.request.path, r.status) for r in records] == [
            ("/logout", 403), ("/login", 403), ("/profile", 401), ("/profile", 401), ("/profile", 401)]
        assert not any(r.request.header_values("Authorization") for r in records)
        assert tab.startswith("Not logged in")
        assert "the browser never adds a bearer token by itself" in log
    assert page.problems == []


def _visible_empty_boxes(tab) -> list[str]:
    """Answer boxes (output elements) that are on screen with nothing in them."""
    return tab.evaluate("""[...document.querySelectorAll('output')]
        .filter((o) => o.offsetParent !== null && o.textContent.trim() === '').map((o) => o.id)""")


@pytest.mark.parametrize("scheme", ["session", "jwt"])
def test_before_login_no_empty_boxes_and_a_readable_attacker_link(page, scheme):
    app = SessionAuth(MemoryStore(), 60) if scheme == "session" else JwtAuth(make_signing_key("HS256"), 60)
    with AuthServer(app) as server:
        page.goto(server.url + "/")
        if scheme == "jwt":
            expect(page.locator("#token")).to_contain_text("Not logged in")
            assert not page.is_visible("#decoded")  # the Header/Payload/Claims table waits for a token
        else:
            expect(page.locator("#record")).not_to_be_empty()
        assert _visible_empty_boxes(page) == []
        link = page.locator("a.attacker-link")
        other = server.url.replace("http://127.0.0.1", "localhost")
        assert link.text_content() == other + "/attacker"  # host and path, no %3A%2F%2F
        assert link.get_attribute("href").startswith(f"http://{other}/attacker?victim=http%3A%2F%2F127.0.0.1")
        if scheme == "jwt":
            page.click("#login button")
            expect(page.locator("#payload")).to_contain_text("userId")
            assert page.is_visible("#decoded")
    assert page.problems == []


def test_the_attacker_journal_is_coloured_by_what_it_means_to_the_victim(page):
    with AuthServer(SessionAuth(MemoryStore(), 60)) as server:
        page.goto(server.url + "/")
        page.click("#login-button")
        expect(page.locator("#record")).to_contain_text("sessionStore")
        _attack(page, server)
        attacker = page.context.pages[1]
        legend = attacker.text_content(".legend")
        assert "what each request means to you, the victim" in " ".join(legend.split())
        heads = attacker.eval_on_selector_all("#log li strong", "els => els.map(e => [e.className, e.textContent])")
        # Refused (403, 401 without a cookie) is good for the victim; the link that carried the
        # cookie got through (200), which is what a GET that changed anything would cost them.
        assert [kind for kind, _ in heads] == ["ok", "ok", "ok", "bad", "ok"]
        assert heads[0][1] == "POST /logout -> 403: refused: good for you"
        assert heads[3][1] == "GET /profile -> 200: got through with your credentials: bad for you"
        assert _visible_empty_boxes(attacker) == []  # the fetch answer box appears once it has text
    assert page.problems == []
