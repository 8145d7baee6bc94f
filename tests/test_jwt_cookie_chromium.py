"""The token in an HttpOnly cookie in the real Chromium: the size limit the narration states
(RFC 6265bis 5.4) measured (name plus value of 4096 bytes kept, 4097 dropped, attributes not
counted), and the JWT page and the attacker's page of a cookie-JWT server."""

from __future__ import annotations

import http.server
import re
import threading

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the hint
    expect = None

from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.policy import COOKIE_JWT
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.tokens.signing import make_signing_key
from test_browser import page, watch  # noqa: F401 (page: the fixture, one definition)


class _SetsCookies(http.server.BaseHTTPRequestHandler):
    """GET /N answers Set-Cookie with a name plus value of exactly N bytes, and attributes."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        size = int(self.path.strip("/")) if self.path.strip("/").isdigit() else 0
        self.send_response(200)
        if size:
            name = f"c{size}"
            self.send_header("Set-Cookie", f"{name}={'a' * (size - len(name))}; Path=/; HttpOnly; SameSite=Lax")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_chromium_keeps_a_cookie_of_4096_bytes_of_name_and_value_and_drops_4097(browser):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SetsCookies)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    context = browser.new_context()
    try:
        tab = context.new_page()
        for size in (COOKIE_LIMIT - 1, COOKIE_LIMIT, COOKIE_LIMIT + 1, 4724):
            tab.goto(f"http://127.0.0.1:{server.server_port}/{size}")
        kept = sorted(len(c["name"]) + len(c["value"]) for c in context.cookies())
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join()
    # Attributes do not count: each Set-Cookie line was longer than its name plus value.
    assert kept == [COOKIE_LIMIT - 1, COOKIE_LIMIT]


def test_the_cookie_page_never_holds_the_token_and_the_browser_sends_it(page):
    with AuthServer(JwtAuth(make_signing_key("HS256"), 60, policy=COOKIE_JWT)) as server:
        page.goto(server.url + "/")
        page.click("#login button")
        expect(page.locator("#login-answer")).to_contain_text("200 OK")
        [cookie] = page.context.cookies()
        assert cookie["name"] == "token" and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert cookie["value"] not in page.content() and page.evaluate("document.cookie") == ""
        assert page.evaluate("localStorage.length") == 0
        page.click("#profile-button")
        expect(page.locator("#profile")).to_contain_text("200 OK: Welcome user 1")
        sent = [r for r in server.records_since(0) if r.request.path == "/profile"][-1].request
        assert sent.header_values("Authorization") == [] and sent.header_values("Cookie") == [f"token={cookie['value']}"]
        page.click("#inject")
        expect(page.locator("#inject-answer")).to_contain_text('document.cookie gave the script: ""')
        assert "200 OK" in page.text_content("#inject-answer")
        page.click("#logout")
        expect(page.locator("#profile")).to_contain_text("revoked nothing")
        assert page.context.cookies() == []
        attacker = page.context.new_page()
        watch(attacker, page.problems)
        attacker.goto(page.get_attribute("a.attacker-link", "href"))
        assert attacker.locator("#mode-jwt-cookie").is_visible() and not attacker.locator("#mode-jwt").is_visible()
    assert page.problems == []
