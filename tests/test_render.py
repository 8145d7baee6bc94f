"""Renderers on fixed-width consoles: checked as plain text, never as ANSI codes."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console

from authcli.render.markdown import MarkdownRenderer, step_markdown
from authcli.render.terminal import TerminalRenderer
from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.session import INFO, session_walkthrough
from authcli.events import SessionCreated


@pytest.fixture(scope="module")
def steps():
    from conftest import FakeClock
    clock = FakeClock()
    return list(session_walkthrough(3, make_store=lambda: MemoryStore(clock=clock), clock=clock, sleep=clock.advance))


def test_terminal_text(steps):
    console = Console(file=io.StringIO(), width=100, record=True, color_system=None)
    renderer = TerminalRenderer(console)
    renderer.start(INFO)
    for step in steps:
        renderer.step(step)
    text = console.export_text()
    sid = steps[2].exchange.event(SessionCreated).session_id
    assert "Step 2 · Log in with the right password" in text
    assert f"Set-Cookie: sessionId={sid}; Path=/; HttpOnly;" in text
    assert f"Cookie: sessionId={sid}" in text
    assert "> request as the server got it, < response as the client got it" in text
    assert "> POST /login HTTP/1.1" in text and "< HTTP/1.1 200 OK" in text  # curl -v's marks, no boxes
    assert "Session store (memory, on the server): 1 record" in text
    assert f'  sessionStore["{sid}"]  (expires in 3 s)\n' in text  # the handout's notation, unfolded
    assert '"expiresAt": "2027-01-15T08:00:03Z"}' in text
    assert "Client cookie jar: empty" in text
    assert "\x1b[" not in text


def test_colour_only_on_a_terminal(steps):
    out = io.StringIO()
    TerminalRenderer(Console(file=out, width=100)).step(steps[2])
    assert "\x1b[" not in out.getvalue()  # a file is not a terminal: plain text


def test_markdown_tables_escape_pipes(steps):
    out = io.StringIO()
    renderer = MarkdownRenderer(out)
    renderer.start(INFO)
    for step in steps:
        renderer.step(step)
    md = out.getvalue()
    assert md.count("```http") == 2 * sum(1 for s in steps if s.exchange)
    assert "## Recap" in md and "| Data stored in |" in md


def test_markdown_keeps_placeholders_visible(steps):
    """`<id>` raw in Markdown is an HTML tag to a renderer, and vanishes from the handout."""
    from authcli.walkthroughs.model import step

    md = step_markdown(step(None, "Recap", ["Each request carried Cookie: sessionId=<id>."]))
    assert "sessionId=&lt;id&gt;" in md and "sessionId=<id>" not in md


MERMAID_LINE = re.compile(
    r"sequenceDiagram"
    r"|    participant P\d+ as [^\n;#]+"
    r"|    P\d+(->>|-->>)P\d+: [^\n;#]+"
    r"|    Note over P\d+,P\d+: [^\n;#]+")


def test_the_handout_ends_with_a_mermaid_sequence_diagram_of_the_real_traffic(steps):
    from authcli.walkthroughs.model import ExchangeBlock, Sequence

    recap = steps[-1]
    diagram = recap.first(Sequence)
    exchanges = [b.exchange for s in steps for b in s.all(ExchangeBlock)]
    requests_drawn = [m for m in diagram.messages if m[:2] == ("Client", "Server")]
    answers_drawn = [m for m in diagram.messages if m[:2] == ("Server", "Client")]
    assert len(requests_drawn) == len(answers_drawn) == len(exchanges)
    assert [m[2].split(" (step")[0] for m in requests_drawn] == [
        f"{e.request.method} {e.request.target.split('?')[0]}" for e in exchanges]
    assert [m[2].split(" ")[0] for m in answers_drawn] == [str(e.response.status) for e in exchanges]
    md = step_markdown(recap)
    block = md.split("```mermaid\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert block[0] == "sequenceDiagram" and all(MERMAID_LINE.fullmatch(line) for line in block), block
    assert any("write session record" in line for line in block)
    # what happened between arrows: the wait before step 7's 401, the restart before step 12's
    notes = [line for line in block if line.startswith("    Note over")]
    assert [n.split(": ", 1)[1] for n in notes] == [
        f"{s.title} (step 6)" for s in steps if s.number == 6] + [
        "Server restarted: a new process, a new empty memory store (step 12)"]
    assert block.index(notes[0]) + 1 == next(i for i, line in enumerate(block) if "(step 7)" in line)
    # the same notes, in place, in the text diagram and the JSON
    from authcli.render.jsonout import step_json
    from authcli.render.text import sequence_lines

    text = sequence_lines(diagram)
    assert "(step 7)" in text[text.index(f"== {notes[0].split(': ', 1)[1]}") + 1]
    data = step_json(recap)["diagram"]
    assert [n["text"] for n in data["notes"]] == [n.split(": ", 1)[1] for n in notes]
    assert "(step 7)" in data["messages"][data["notes"][0]["before"]]["text"]


def test_step_mode_folds_the_boilerplate_headers_into_one_line(steps):
    """On a projector the headers that matter (Cookie, Set-Cookie) stay; the rest is one line."""
    out = io.StringIO()
    TerminalRenderer(Console(file=out, width=100), fold_headers=True).step(steps[2])
    text = out.getvalue()
    lines = [line.rstrip() for line in text.splitlines()]
    assert "> POST /login HTTP/1.1  (+6 more headers)" in lines  # Host, User-Agent, ..., Content-Length
    assert "< HTTP/1.1 200 OK  (+5 more headers)" in lines  # Server, Date, Content-Type, nosniff, length
    assert "User-Agent: python-requests" not in text and "Set-Cookie: sessionId=" in text
    assert "Cache-Control: no-store" in text  # a defence, never folded
    assert "Content-Type: application/json" in text and '{"email": "a@b.com", "password": "123"}' in text
    full = io.StringIO()
    TerminalRenderer(Console(file=full, width=100)).step(steps[2])
    assert "User-Agent: python-requests" in full.getvalue() and "more headers" not in full.getvalue()


def _concise_text(steps, width=80) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    renderer = TerminalRenderer(console, fold_headers=True, concise=True)
    renderer.start(INFO)
    for step in steps:
        renderer.step(step)
    return console.export_text()


def test_a_credential_is_whole_once_where_it_is_born_then_short_everywhere(steps):
    from authcli.render.concise import short

    text = _concise_text(steps)
    sid = steps[2].exchange.event(SessionCreated).session_id
    assert text.count(sid) == 1 and f"Set-Cookie: sessionId={sid};" in text  # born in Set-Cookie
    brief = short(sid)
    assert brief == f"{sid[:10]}...{sid[-4:]} (43 chars)"
    assert f"Cookie: sessionId={brief}" in text  # the wire...
    assert f'sessionStore["{brief}"]' in text  # ...the store...
    assert f"  sessionId={brief}\n" in text  # ...and the jar: one form to match by eye


def test_a_store_shown_again_unchanged_is_left_out_and_events_do_not_repeat_its_record(steps):
    text = _concise_text(steps)
    assert text.count("Session store (memory, on the server): 1 record") == 3  # steps 2, 8, 11 only
    step2 = text.split("Step 2 ·")[1].split("Step 3 ·")[0]
    assert step2.count('"expiresAt"') == 1 and "= {...}" in step2 and step2.count("(expires in 3 s)") == 1


def test_the_short_form_never_cuts_a_pem_line_or_escapes_nothing():
    from authcli.render.concise import Concise

    pem = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"
    line = pem[:40] + "+" + pem[40:]
    concise = Concise()
    assert concise.text(line) == line and concise.text(line) == line  # base64 with + / is not a token
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
    assert concise.text(f"Bearer {token}") == f"Bearer {token}"
    assert concise.text(f"Bearer {token}") == f"Bearer {token[:10]}...{token[-4:]} ({len(token)} chars)"


@settings(max_examples=60, deadline=None)
@given(width=st.integers(min_value=40, max_value=140),
       rows=st.lists(st.lists(st.text(alphabet="abcdefghij0123456789 -\"", max_size=70), min_size=4, max_size=4),
                     min_size=1, max_size=5))
def test_a_table_never_loses_a_letter_at_any_width(width, rows):
    """rich crops a table whose columns' least widths do not fit, cutting words out of the last
    column (decode at 80 columns lost "he" of "(the user)"): every letter and digit of every
    cell is drawn, whatever the width."""
    import re
    from io import StringIO

    from rich.console import Console

    from authcli.render.parts import table

    rows = [["x" + r[0].replace(" ", "")[:12], *r[1:]] for r in rows]  # the first column: a key
    out = StringIO()
    Console(file=out, width=width, color_system=None).print(table("T", ["claim", "value", "as a date", "meaning"], rows))
    drawn = re.findall(r"[A-Za-z0-9]", out.getvalue())
    wanted = re.findall(r"[A-Za-z0-9]", "T claim value as a date meaning " + " ".join(" ".join(r) for r in rows))
    assert sorted(drawn) == sorted(wanted)


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_step_title_is_never_cut(width):
    """rich cuts a rule's title with an ellipsis when it does not fit: a title too long for its
    rule is printed whole, wrapped, with the rule under it."""
    from io import StringIO

    from rich.console import Console

    from authcli.render.terminal import step_renderable
    from authcli.walkthroughs.model import step

    title = "GET /callback at the app: state checked, the code redeemed, a new session"
    out = StringIO()
    Console(file=out, width=width, color_system=None).print(step_renderable(step(5, title, ["Text."])))
    assert "…" not in out.getvalue() and " ".join(out.getvalue().split()).startswith(f"Step 5 · {title}")
