"""Screenshots of the browser pages for the README, taken by the headless Chromium the tests use.

    python docs/screenshots.py        # writes docs/session-page.png, jwt-page.png, attacker-page.png

Each page is opened on a real authcli server (port 0), logged in through its own form, and shot
after the answers arrived. Needs Chromium and Playwright (pip install '.[browser]').
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from authcli.browser import find_chromium
from authcli.server import AuthServer, JwtAuth, SessionAuth
from authcli.stores import MemoryStore
from authcli.tokens import make_signing_key

HERE = Path(__file__).resolve().parent


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("screenshots need Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 900, "height": 1100}).new_page()
        with AuthServer(SessionAuth(MemoryStore(), 300)) as server:
            page.goto(server.url + "/")
            page.click("#login-button")
            expect(page.locator("#record")).to_contain_text("sessionStore")
            page.click("#inject")
            expect(page.locator("#inject-answer")).to_contain_text("fetch")
            page.screenshot(path=str(HERE / "session-page.png"), full_page=True)
            # The attacker's site: the same server under its other name, every attack fired.
            attacker = page.context.new_page()
            attacker.goto(page.get_attribute("a.attacker-link", "href"))
            for n, form in enumerate(["csrf-logout", "csrf-login", "csrf-frame"], 1):
                attacker.click(f"#{form} button")
                expect(attacker.locator("#log li")).to_have_count(n)
            with page.context.expect_page() as opened:
                attacker.click("#csrf-link")
            opened.value.wait_for_load_state()
            opened.value.close()
            attacker.click("#csrf-fetch")
            expect(attacker.locator("#log li")).to_have_count(5)
            attacker.screenshot(path=str(HERE / "attacker-page.png"), full_page=True)
        page = browser.new_page(viewport={"width": 900, "height": 1100})
        with AuthServer(JwtAuth(make_signing_key("HS256"), 300)) as server:
            page.goto(server.url + "/")
            page.click("#login button")
            expect(page.locator("#payload")).to_contain_text("userId")
            page.click("#profile-button")
            expect(page.locator("#profile")).to_contain_text("200 OK")
            page.click("#inject")
            page.screenshot(path=str(HERE / "jwt-page.png"), full_page=True)
        browser.close()
    print(f"wrote session-page.png, jwt-page.png and attacker-page.png in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
