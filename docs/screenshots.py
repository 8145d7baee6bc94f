"""Screenshots of the browser pages for the README, taken by the headless Chromium the tests use.

    python docs/screenshots.py        # writes docs/session-page.png, jwt-page.png, attacker-page.png
                                      # and handout-page.png

Each page is opened on a real authcli server (port 0), logged in through its own form, and shot
after the answers arrived. The handout is `demo session -f html` printed to an A4 PDF by the same
Chromium, its first page made a PNG by pdftoppm (poppler-utils), or, without it, the page as
print shows it. Needs Chromium and Playwright (pip install '.[browser]').
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from authcli.browser import find_chromium
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key

HERE = Path(__file__).resolve().parent
A4_PX = (round(210 / 25.4 * 96), round(297 / 25.4 * 96))  # an A4 sheet at CSS's 96 pixels an inch


def handout_page(browser, path: Path) -> None:
    """The first printed page of `authcli demo session -f html`, as a teacher's printer has it."""
    from authcli.render.html import HtmlRenderer
    from authcli.walkthroughs.session import INFO, session_walkthrough

    out = io.StringIO()
    renderer = HtmlRenderer(out)
    renderer.start(INFO)
    for step in session_walkthrough(2):
        renderer.step(step)
    renderer.end()
    page = browser.new_page()
    page.set_content(out.getvalue())
    if shutil.which("pdftoppm"):
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "handout.pdf"
            page.pdf(path=str(pdf), format="A4")
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                            str(pdf), str(path.with_suffix(""))], check=True)
    else:  # the print stylesheet on a sheet's width, cut at a sheet's height (no page margins)
        page.set_viewport_size({"width": A4_PX[0], "height": A4_PX[1]})
        page.emulate_media(media="print")
        page.screenshot(path=str(path))
    page.close()


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
        handout_page(browser, HERE / "handout-page.png")
        browser.close()
    print(f"wrote session-page.png, jwt-page.png, attacker-page.png and handout-page.png in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
