"""--step: a pause before each new step (none after the recap), `b` to go back, and while
paused a curl line that replays the step against the still-running server."""

from __future__ import annotations

import io
import shlex
import subprocess
import time

from rich.console import Console

from authcli.cli.stepper import play_steps
from authcli.stores import MemoryStore
from authcli.render.terminal import TerminalRenderer
from authcli.walkthroughs.session import INFO, session_walkthrough
from conftest import FakeClock


def play(answers: list[str], on_ask=None):
    out = io.StringIO()
    prompts, said = [], []
    replies = iter(answers)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        if on_ask:
            on_ask(said)
        return next(replies, "")

    clock = FakeClock(time.time())  # expiry by moving the clock: no second of waiting per test
    steps = session_walkthrough(1, make_store=lambda: MemoryStore(clock=clock), clock=clock, sleep=clock.advance)
    play_steps(TerminalRenderer(Console(file=out, width=100)), INFO, steps, ask=ask, say=said.append)
    return out.getvalue(), prompts, said


def test_a_pause_before_each_new_step_and_none_after_the_recap():
    text, prompts, _ = play([])
    assert len(prompts) == 13  # 14 steps (set-up, 12, recap): a prompt between each pair
    assert prompts[0] == "Enter: step 1/12 · b: back " and prompts[-1] == "Enter: Recap · b: back "
    assert text.rindex("Recap") > text.rindex("Step 12 · After the restart")  # nothing after the recap waits


def test_b_shows_the_previous_step_again_then_enter_goes_on():
    text, prompts, _ = play(["", "", "b", "", ""])
    assert text.count("Step 1 · Log in with a wrong password") == 2
    assert text.count("Step 2 · Log in with the right password") == 2
    assert prompts[2:5] == ["Enter: step 3/12 · b: back ", "Enter: step 2/12 · b: back ",
                            "Enter: step 3/12 · b: back "]


def test_while_paused_the_curl_line_replays_the_step_for_real(curl):
    results = []

    def try_it(said: list[str]) -> None:
        if len(said) == 4 and not results:  # paused after step 2, the login: replay it
            command = shlex.split(said[-1].strip())
            results.append(subprocess.run(command, capture_output=True, text=True, timeout=10).stdout)

    _, _, said = play([], on_ask=try_it)
    assert said[2].startswith("The requests shown ran at ") and "before this pause" in said[2]
    assert said[3].strip().startswith("curl -i -X POST -H 'Content-Type: application/json'")
    assert results and results[0].startswith("HTTP/1.1 200 OK") and "Set-Cookie: sessionId=" in results[0]
