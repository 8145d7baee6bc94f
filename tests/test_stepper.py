"""--step: a pause before each new step (none after the recap), `b` to go back, and while
paused a curl line that replays the step against the still-running server."""

from __future__ import annotations

import io
import shlex
import subprocess
import time

import pytest

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
    assert said[2].startswith("Ran at ") and "before this pause" in said[2]
    assert said[3].strip().startswith("curl -i -X POST -H 'Content-Type: application/json'")
    assert results and results[0].startswith("HTTP/1.1 200 OK") and "Set-Cookie: sessionId=" in results[0]


# --- a real terminal: every screen fits, title on top, prompt at the bottom -----------------

def _check_screens(screens: list[str], height: int) -> list[str]:
    """Each paused screen starts with the heading or a step's title (nothing scrolled off) and
    ends with the prompt; returns the titles in order."""
    titles = []
    for screen in screens[:-1]:
        rows = screen.rstrip("\n").split("\n")
        assert len(rows) <= height
        filled = [row for row in rows if row.strip()]
        top, bottom = filled[0], filled[-1]
        assert top.startswith(("authcli demo ", "Step ", "Recap", "Round ", "Two ", "A real ")), screen
        assert bottom.startswith("Enter:"), screen
        titles.append(top.split(" ─")[0].strip())
    return titles


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40)])
def test_every_step_fits_a_real_terminal(tmux, width, height):
    screens = tmux("authcli demo session --ttl 1 --step", width, height)
    titles = _check_screens(screens, height)
    numbered = [t for t in titles if t.startswith("Step ")]
    assert {t.split(" · ")[0] for t in numbered} == {f"Step {n}" for n in range(1, 13)}  # none skipped
    assert "Recap" in screens[-1]  # the recap is shown, and no prompt follows it
    if height == 40:  # room enough: most steps on one page
        assert sum(1 for t in numbered if t.endswith("/2)")) <= 3


def test_the_jwt_demo_fits_80_by_24(tmux):
    titles = _check_screens(tmux("authcli demo jwt --ttl 1 --step", 80, 24), 24)
    assert any(t.startswith("Step 4 · A tampered token") for t in titles)


def test_the_browser_demo_fits_80_by_24(tmux):
    from conftest import require_browser

    require_browser()
    titles = _check_screens(tmux("authcli demo browser --step", 80, 24), 24)
    numbered = {t.split(" · ")[0] for t in titles if t.startswith("Step ")}
    assert numbered == {f"Step {n}" for n in range(1, 13)}
