"""`authcli demo browser`: the walkthrough's data from one real Chromium run, rendered in every
format; and, without a browser, one line and exit 2."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.render.html import HtmlRenderer
from authcli.render.jsonout import JsonRenderer
from authcli.render.markdown import MarkdownRenderer
from authcli.render.terminal import TerminalRenderer
from authcli.walkthroughs.browser import INFO, browser_walkthrough
from authcli.walkthroughs.model import ClientStorage, ExchangeBlock, Script, TableBlock
from conftest import require_browser


@pytest.fixture(scope="module")
def steps():
    require_browser()
    return list(browser_walkthrough(60))


def number(steps, n):
    return next(s for s in steps if s.number == n)


def exchanges(step):
    return [b.exchange for b in step.all(ExchangeBlock)]


def scripts(step):
    return {b.code: b.result for b in step.all(Script)}


def test_twelve_steps_from_one_browser(steps):
    assert [s.number for s in steps] == [None, *range(1, 13), None]
    assert "Chromium" in steps[0].title and steps[-1].title.startswith("Recap")
    # Every request shown reached the server from Chromium, except the thief's replays.
    for step in steps:
        for ex in exchanges(step):
            agent = ex.request.header("User-Agent") or ""
            assert ("HeadlessChrome" in agent) != ("python-requests" in agent), (step.number, agent)


def test_the_browser_sends_the_cookie_page_script_cannot_read(steps):
    login = number(steps, 2).exchange
    assert "HttpOnly" in login.response.header("Set-Cookie") and login.request.header("Cookie") is None
    jar = number(steps, 3).cookie_jar
    assert [(c.name, c.http_only, c.same_site, c.expires) for c in jar] == [("sessionId", True, "Lax", None)]
    assert list(scripts(number(steps, 3)).values()) == [""]  # document.cookie
    sent = number(steps, 4).exchange.request
    assert sent.header("Cookie") == f"sessionId={jar[0].value}" and "Cookie" not in next(iter(scripts(number(steps, 4))))
    injected = list(scripts(number(steps, 5)).values())[0]
    assert injected == {"stolen": "", "profile": "200 Welcome user 1"}


def test_another_site_gets_the_cookie_sent_only_on_a_link(steps):
    forged, linked = exchanges(number(steps, 6))
    assert (forged.request.method, forged.response.status, forged.request.header("Cookie")) == ("POST", 403, None)
    assert forged.request.header("Origin").startswith("http://localhost:")
    assert forged.request.header("Sec-Fetch-Site") == "cross-site"
    assert linked.response.status == 200 and linked.request.header("Cookie", ).startswith("sessionId=")
    assert linked.request.header("Sec-Fetch-Dest") == "document"
    table = number(steps, 6).first(TableBlock).table
    assert [row[2] for row in table.rows] == ["nothing", "nothing", "Cookie header", "nothing"]
    assert [row[3] for row in table.rows] == ["403 Forbidden", "401 Unauthorized", "200 OK", "401 Unauthorized"]
    assert len(number(steps, 6).store.rows) == 1  # the forged logout changed nothing


def test_logout_empties_both_sides(steps):
    step = number(steps, 7)
    assert step.store.rows == [] and step.cookie_jar == []
    assert "Max-Age=0" in step.exchange.response.header("Set-Cookie")


def test_the_token_lives_in_localstorage_and_is_never_sent_by_itself(steps):
    step = number(steps, 8)
    storage = step.first(ClientStorage).items
    token = json.loads(step.exchange.response.body)["token"]
    assert storage == {"token": token} and step.cookie_jar == []
    assert number(steps, 9).exchange.request.header("Authorization") == f"Bearer {token}"
    assert list(scripts(number(steps, 10)).values()) == [token]
    replay = number(steps, 10).exchange
    assert replay.response.status == 200 and "python-requests" in replay.request.header("User-Agent")
    [linked] = exchanges(number(steps, 11))
    assert linked.response.status == 401 and linked.request.header("Authorization") is None
    assert [row[2] for row in number(steps, 11).first(TableBlock).table.rows] == ["nothing", "nothing"]
    logout, after = exchanges(number(steps, 12))
    assert logout.response.status == 200 and after.response.status == 200
    assert number(steps, 12).first(ClientStorage).items == {}


def test_the_recap_is_filled_from_what_happened(steps):
    rows = {row[0]: row[1:] for row in steps[-1].first(TableBlock).table.rows}
    assert rows["Other site's link"] == ["cookie sent: 200 (step 6)", "nothing sent: 401 (step 11)"]
    assert rows["Injected script"][0].startswith('document.cookie gave ""')


def test_every_format_renders_the_same_run(steps):
    console = Console(file=io.StringIO(), width=100, record=True)
    terminal = TerminalRenderer(console)
    outs = {"md": io.StringIO(), "json": io.StringIO(), "html": io.StringIO()}
    renderers = [terminal, MarkdownRenderer(outs["md"]), JsonRenderer(outs["json"]), HtmlRenderer(outs["html"])]
    for renderer in renderers:
        renderer.start(INFO)
        for step in steps:
            renderer.step(step)
        renderer.end()
    text = console.export_text()
    assert "Page script, run in Chromium on http://127.0.0.1:" in text and '=> ""' in text
    assert "Chromium's cookie store: 1 cookie" in text and "The browser's view" in text
    assert "```js" in outs["md"].getvalue() and "## Step 6. Another site" in outs["md"].getvalue()
    doc = json.loads(outs["json"].getvalue())
    assert doc["walkthrough"] == "browser" and doc["steps"][3]["scripts"][0]["result"] == ""
    assert doc["steps"][3]["cookie_jar_holder"] == "Chromium's cookie store"
    assert "Page script, run in Chromium" in outs["html"].getvalue()


def test_without_a_browser_one_line_and_exit_2(monkeypatch):
    monkeypatch.setenv("AUTHCLI_CHROMIUM", "/nonexistent/chromium")
    result = CliRunner().invoke(app, ["demo", "browser"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pip install 'authcli[browser]'" in result.stderr


def test_without_playwright_one_line_and_exit_2(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails as if not installed
    result = CliRunner().invoke(app, ["demo", "browser", "-f", "json"])
    assert result.exit_code == 2 and result.stdout == "" and "apt-get install chromium" in result.stderr
