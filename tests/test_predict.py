"""--predict: questions from the step data, answered through stdin, scored against what the
server really did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.predict import questions
from authcli.walkthroughs.session import session_walkthrough
from conftest import FakeClock

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "authcli", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def test_answers_piped_through_stdin_are_scored():
    # Piped, stdin holds the answers only, one a line: no pause reads it.
    answers = {1: "200", 3: "200", 4: "200", 5: "401", 6: "200", 7: "401", 9: "401"}
    out = run(["demo", "jwt", "--ttl", "2", "--step", "--predict"], "".join(f"{a}\n" for a in answers.values()))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Step 4/9 · what will happen?" in text
    assert "The client edits the payload (userId 1 becomes 2) and keeps the signature." in text
    # Before the answer, only what the client sends: the title (which gives it away) comes after.
    assert text.index("Step 4/9 · what will happen?") < text.index("Step 4 · A tampered token")
    assert "Not quite (you said 200): 401 (the signature check failed)\n" in text  # step 4
    assert "Not quite (you said 401): 200 (every check passed)\n" in text  # step 7
    assert "Right: 401 (the exp check failed)\n" in text  # step 9
    assert "Predictions: 5 of 7 answered right." in text
    assert "  step 4: Status of GET /profile now? 401 (you said 200)" in text
    assert "  step 7: Status of GET /profile now? 200 (you said 401)" in text
    assert "Traceback" not in out.stderr


def test_a_verdict_is_one_line():
    """The reason is what decided the answer, never a record or a token dumped whole."""
    out = run(["demo", "session", "--ttl", "1", "--step", "--predict"], "")  # all skipped
    verdicts = [line for line in out.stdout.splitlines() if line.startswith("Skipped: ")]
    assert len(verdicts) == 20 and all(len(line) <= 80 for line in verdicts), verdicts
    assert "Skipped: 200 (password matches; a session record was written)" in verdicts
    assert "Skipped: 401 (no such session in the store)" in verdicts
    assert not any("sessionStore[" in line or "{" in line for line in verdicts)
    assert "Predictions: 0 of 0 answered right; 20 skipped." in out.stdout


def test_a_reply_outside_the_choices_is_asked_again_and_closed_stdin_never_hangs():
    out = run(["demo", "jwt", "--ttl", "2", "--step", "--predict"], "maybe\n200\n")
    assert out.returncode == 0, out.stderr
    assert "Answer one of: 200, 401" in out.stderr
    assert "Right: 200 (" in out.stdout  # step 1, after the second try
    assert "Skipped: 401 (" in out.stdout  # stdin ended: the rest go unanswered, nothing waits
    assert "Predictions: 1 of 1 answered right; 6 skipped." in out.stdout  # skipped is not wrong
    assert "  skipped: step 3, step 4, step 5, step 6, step 7, step 9" in out.stdout


def _readme_line() -> str:
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    lines = re.findall(r"`(printf [^`]*\| authcli demo jwt --step --predict)`", readme)
    assert len(lines) == 1, lines
    return lines[0]


def test_the_readme_pipe_example_scores_what_the_readme_says(tmux):
    """The README's own line, run in a shell in a real 80x24 terminal (stdout a terminal,
    stdin the pipe): each answer goes to its question, one skipped, one missed."""
    screen = tmux(_readme_line(), 80, 24, timeout=90)[-1]
    assert "Predictions: 5 of 6 answered right; 1 skipped." in screen, screen
    assert "  step 4: Status of GET /profile now? 401 (you said 200)" in screen
    assert "  skipped: step 5" in screen


def test_predict_needs_step_and_the_terminal_view():
    missing = run(["demo", "session", "--predict"], "")
    assert missing.returncode == 2 and "--predict goes with --step" in missing.stderr
    json_out = run(["demo", "session", "--step", "--predict", "-f", "json"], "")
    assert json_out.returncode == 2 and "--predict is for the terminal view" in json_out.stderr
    assert "Traceback" not in missing.stderr + json_out.stderr


def test_questions_come_from_the_step_data():
    clock = FakeClock(time.time())
    steps = list(session_walkthrough(1, make_store=lambda: MemoryStore(clock=clock), clock=clock,
                                     sleep=clock.advance))
    store = None
    asked = {}
    for step in steps:
        asked[step.number] = questions(step, store)
        if step.store is not None:
            store = step.store
    status = {n: q[0].answer for n, q in asked.items() if q}
    assert status == {1: "401", 2: "200", 4: "200", 5: "401", 7: "401", 8: "200", 9: "200", 10: "401",
                      11: "200", 12: "401"}
    changes = {n: q[1].answer for n, q in asked.items() if len(q) > 1}
    # the login adds a record, /profile and a forged ID change nothing, expiry and logout remove one
    assert changes[1] == "n" and changes[2] == "y" and changes[4] == "n" and changes[5] == "n"
    assert changes[7] == "y" and changes[9] == "y" and changes[10] == "n"
    assert all(q.answer in q.choices for qs in asked.values() for q in qs)
    assert not asked[3] and not asked[6] and not asked[None]  # no request, nothing to predict
    assert asked[5][0].reason == "no such session in the store"  # the reason is what the server did


@settings(max_examples=50, deadline=None)
@given(target=st.text(min_size=1, max_size=40), reason=st.text(max_size=40))
def test_a_prediction_never_puts_raw_control_characters_on_the_terminal(target, reason):
    """The request target and the server's reason came over the wire: the question, the
    teaser and the verdict show them escaped, whatever they hold."""
    import io

    from rich.console import Console

    from authcli.cli.stepper import play_steps
    from authcli.http import Exchange, HttpRequest, HttpResponse
    from authcli.render.terminal import TerminalRenderer
    from authcli.events import Refused
    from authcli.walkthroughs.model import ExchangeBlock, Step, WalkthroughInfo

    exchange = Exchange(HttpRequest("GET", "http://127.0.0.1/", "/" + target, "HTTP/1.1", [], ""),
                        HttpResponse(401, "Unauthorized", "HTTP/1.1", [], ""), [Refused(reason)])
    out, prompts = io.StringIO(), []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "200"

    play_steps(TerminalRenderer(Console(file=out, width=80)), WalkthroughInfo("t", "t", 1),
               (s for s in [Step(1, "t", [ExchangeBlock(exchange)])]), ask=ask, say=prompts.append, predict=True)
    shown = out.getvalue() + "".join(prompts)
    assert not CONTROL.search(shown.replace("\n", ""))
    assert "Predictions: 0 of 1 answered right." in out.getvalue()
