"""demo oauth --browser: the code flow driven in a real Chromium (one launch for the module); the
redirects, each site's cookies as Chromium kept them, its history, and the AS's sign-in reused."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.console import Console
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.render.jsonout import JsonRenderer
from authcli.render.markdown import MarkdownRenderer
from authcli.render.terminal import TerminalRenderer
from authcli.walkthroughs.model import ClientStorage, ExchangeBlock, JarBlock, TableBlock
from authcli.walkthroughs.oauth_browser import INFO, oauth_browser_walkthrough
from conftest import require_browser


@pytest.fixture(scope="module")
def steps():
    require_browser()
    return list(oauth_browser_walkthrough())


def number(steps, n):
    return next(s for s in steps if s.number == n)


def exchanges(step):
    return [b.exchange for b in step.blocks if isinstance(b, ExchangeBlock)]


def jar(step):
    return {c.name: c for c in next(b for b in step.blocks if isinstance(b, JarBlock)).cookies}


def text(step) -> str:
    return " ".join(step.text)


def test_six_steps_and_a_recap(steps):
    assert [s.number for s in steps] == [1, 2, 3, 4, 5, 6, None]


def test_the_redirects_cross_two_sites_and_chromium_follows_them(steps):
    login, authorize = exchanges(number(steps, 2))
    assert login.request.url.startswith("http://localhost:") and login.response.status == 302
    assert authorize.request.url.startswith("http://127.0.0.1:") and authorize.response.status == 200
    assert authorize.request.header("Cookie") is None  # never been to the AS
    query = parse_qs(urlsplit(authorize.request.target).query)
    assert query["code_challenge_method"] == ["S256"] and "state" in query and "nonce" in query
    bar = next(b for b in number(steps, 2).blocks if isinstance(b, ClientStorage)).items["the tab's URL"]
    assert bar == authorize.request.url  # the URL bar, read from Chromium
    assert list(jar(number(steps, 2))) == ["app_session"]


def test_the_as_sets_its_own_sign_in_cookie_and_the_code_travels_in_a_location(steps):
    [consent] = exchanges(number(steps, 3))
    assert consent.request.header("Origin") == consent.request.url.split("/authorize")[0]
    assert consent.request.header("Sec-Fetch-Site") == "same-origin"
    location = consent.response.header("Location")
    assert location.startswith("http://localhost:") and "code=" in location and "state=" in location
    assert consent.response.header("Set-Cookie").startswith("as_session=")
    assert "signed in at the AS for 600 s" in text(number(steps, 3))


def test_the_callback_carries_the_app_cookie_cross_site_and_the_code_never_reaches_history(steps):
    step = number(steps, 4)
    callback, token = exchanges(step)
    assert callback.request.header("Sec-Fetch-Site") == "cross-site"
    assert callback.request.header("Cookie").startswith("app_session=")  # Lax: a top-level GET
    [consent] = exchanges(number(steps, 3))
    assert callback.request.header("Referer") == consent.request.url.split("/authorize")[0] + "/"  # origin only
    code = parse_qs(urlsplit(callback.request.target).query)["code"][0]
    assert f"code={code}" in token.request.body and "code_verifier=" in token.request.body
    history = next(b for b in step.blocks if isinstance(b, ClientStorage)).items
    assert list(history.values())[-1].endswith("/profile")
    assert not any("code=" in url for url in history.values())
    assert "[^rfc9700-4.3.1]" in text(step) and "cross-site" in text(step)


def test_the_profile_is_the_app_calling_the_api_and_chromium_holds_no_token(steps):
    step = number(steps, 5)
    profile, api = exchanges(step)
    assert profile.response.status == 200 and "Hello user 1" in profile.response.body
    assert api.request.target == "/api" and api.request.header("Authorization").startswith("Bearer ")
    cookies = jar(step)
    assert set(cookies) == {"app_session", "as_session"}
    assert cookies["as_session"].domain == "127.0.0.1" and cookies["app_session"].domain == "localhost"
    assert all(c.http_only and c.same_site == "Lax" and not c.secure for c in cookies.values())
    token = api.request.header("Authorization").split()[1]
    assert all(token not in c.value for c in cookies.values())


def test_a_second_login_in_the_same_browser_skips_the_password_not_the_consent(steps):
    step = number(steps, 6)
    authorize, consent = exchanges(step)
    first = jar(number(steps, 5))["as_session"].value
    assert authorize.request.header("Cookie") == f"as_session={first}"
    assert "password" not in consent.request.body and "decision=allow" in consent.request.body
    assert consent.response.status == 302 and consent.response.header("Set-Cookie") is None
    assert '"Signed in as a@b.com", password field: none' in text(step)
    assert "the same auth_time" in text(step)


def test_every_format_renders_it_in_plain_text(steps):
    console = Console(file=io.StringIO(), width=100, record=True)
    md, js = io.StringIO(), io.StringIO()
    for renderer in (TerminalRenderer(console), MarkdownRenderer(md), JsonRenderer(js)):
        renderer.start(INFO)
        for step in steps:
            renderer.step(step)
        renderer.end()
    out = console.export_text()
    assert "Step 4 · GET /callback: the code in a URL the tab never showed" in out
    assert "Chromium's cookie store, every origin: 2 cookies" in out and "[^" not in out
    assert "## Step 6. Log in again in the same browser" in md.getvalue()
    doc = json.loads(js.getvalue())
    assert doc["walkthrough"] == "oauth" and doc["steps"][-1]["title"] == "Recap: what Chromium held"
    table = next(b for b in steps[-1].blocks if isinstance(b, TableBlock)).table
    assert [row[0] for row in table.rows] == ["as_session", "app_session", "(history)"]


def test_without_a_browser_it_is_one_line_and_exit_2(monkeypatch):
    monkeypatch.setenv("AUTHCLI_CHROMIUM", "/nonexistent/chromium")
    result = CliRunner().invoke(app, ["demo", "oauth", "--browser"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Chromium" in result.stderr


def test_every_line_fits_80_columns(steps):
    """Rendered whole (every header: the CLI folds them, and printed 330 lines when written)."""
    console = Console(file=io.StringIO(), width=80, record=True)
    renderer = TerminalRenderer(console)
    renderer.start(INFO)
    for step in steps:
        renderer.step(step)
    renderer.end()
    lines = console.export_text().splitlines()
    assert len(lines) > 300 and all(len(line) <= 80 for line in lines)


def test_step_mode_asks_each_prediction(steps):
    from authcli.cli.stepper import play_steps

    console = Console(file=io.StringIO(), width=100, record=True)
    asked: list[str] = []
    play_steps(TerminalRenderer(console), INFO, (s for s in steps), ask=lambda prompt: asked.append(prompt) or "",
               say=lambda line: None, predict=True, pauses=True)
    out = console.export_text()
    assert "Recap: what Chromium held" in out and "The user opens the app's /login again" in out  # step 6's teaser
    assert any("/callback" in a for a in asked) and len(asked) >= 6  # questions on the real requests
