"""demo browser --dpop: the JWT half with a DPoP-bound token in a real Chromium; the data from one
run, rendered in every format and through --step."""

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
from authcli.tokens.parse import split
from authcli.tokens.signing import thumbprint
from authcli.walkthroughs.browser_dpop import INFO, browser_dpop_walkthrough
from authcli.walkthroughs.model import ExchangeBlock, Script, TableBlock
from conftest import require_browser


@pytest.fixture(scope="module")
def steps():
    require_browser()
    return list(browser_dpop_walkthrough(60))


def number(steps, n):
    return next(s for s in steps if s.number == n)


def exchanges(step):
    return [b.exchange for b in step.blocks if isinstance(b, ExchangeBlock)]


def test_twelve_steps_the_session_half_unchanged(steps):
    assert [s.number for s in steps if s.number is not None] == list(range(1, 13))
    assert number(steps, 4).exchange.request.header("Cookie").startswith("sessionId=")


def test_the_page_key_is_not_extractable_and_the_token_names_it(steps):
    key = next(b for b in number(steps, 8).blocks if isinstance(b, Script)).result
    assert key["extractable"] is False and key["exportKey"] == "InvalidAccessError"
    [login] = exchanges(number(steps, 9))
    assert login.request.header("DPoP") and login.response.status == 200
    token = json.loads(login.response.body)["token"]
    assert split(token).payload["cnf"] == {"jkt": thumbprint(key["jwk"])}
    proof = split(login.request.header("DPoP"))
    assert proof.header["jwk"] == key["jwk"] and proof.payload["htm"] == "POST"
    [profile] = exchanges(number(steps, 10))
    assert profile.response.status == 200 and profile.request.header("Authorization") == f"DPoP {token}"


def test_the_copied_token_replayed_from_python_gets_401(steps):
    bare, bearer = exchanges(number(steps, 11))
    assert bare.response.status == 401 and bare.request.header("DPoP") is None
    assert bare.request.header("Authorization").startswith("DPoP ") and "Sec-Fetch-Site" not in dict(bare.request.headers)
    assert bearer.response.status == 401 and bearer.request.header("Authorization").startswith("Bearer ")


def test_script_in_the_page_still_signs_proofs(steps):
    step = number(steps, 12)
    assert next(b for b in step.blocks if isinstance(b, Script)).result == "200 Welcome user 1"
    assert "[^rfc9449-11.4]" in " ".join(step.text)
    table = next(b for b in steps[-1].blocks if isinstance(b, TableBlock)).table
    assert [row[1] for row in table.rows] == ["200", "401", "401", "200", "InvalidAccessError"]


def test_every_format_renders_the_dpop_run(steps):
    console = Console(file=io.StringIO(), width=100, record=True)
    outs = {"md": io.StringIO(), "json": io.StringIO(), "html": io.StringIO()}
    for renderer in [TerminalRenderer(console), MarkdownRenderer(outs["md"]), JsonRenderer(outs["json"]),
                     HtmlRenderer(outs["html"])]:
        renderer.start(INFO)
        for step in steps:
            renderer.step(step)
        renderer.end()
    assert "Step 11 · The token copied out of the page, replayed from Python: 401" in console.export_text()
    assert "## Step 12. What DPoP does not stop" in outs["md"].getvalue()
    doc = json.loads(outs["json"].getvalue())
    assert doc["walkthrough"] == "browser" and doc["steps"][-1]["title"].startswith("Recap")
    assert "Who can use the DPoP token" in outs["html"].getvalue()


def test_cookie_and_dpop_together_are_refused_in_one_line():
    result = CliRunner().invoke(app, ["demo", "browser", "--cookie", "--dpop"])
    assert result.exit_code == 2 and "pick one" in result.stderr and "Traceback" not in result.output


def stepped(info, steps) -> str:
    """The run's steps through --step's player, Enter at each pause and a prediction asked before
    each step that has one; the terminal text it printed."""
    from authcli.cli.stepper import play_steps

    console = Console(file=io.StringIO(), width=100, record=True)
    asked: list[str] = []
    play_steps(TerminalRenderer(console), info, (s for s in steps), ask=lambda prompt: asked.append(prompt) or "",
               say=lambda line: None, predict=True, pauses=True)
    return console.export_text() + "\n".join(asked)


def test_step_mode_pauses_through_the_dpop_half(steps):
    out = stepped(INFO, steps)
    assert "Step 12 · What DPoP does not stop" in out and "Recap: a token bound to a key" in out
    assert "An injected script copies the token" in out  # step 11's prediction was asked
