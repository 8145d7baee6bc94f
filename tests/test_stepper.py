"""--step: a pause before each new step (none after the recap), `b` to go back, and while
paused a curl line that replays the step against the still-running server."""

from __future__ import annotations

import io
import re
import subprocess
import time

import pytest

from rich.console import Console

from authcli.cli.stepper import play_steps
from authcli.stores.memory import MemoryStore
from authcli.events import SessionLookedUp
from authcli.server.schemes.session_auth import stamp_seconds
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
    assert prompts[0] == "Enter: step 1/12 · b: back · q: quit " and prompts[-1] == "Enter: Recap · b: back · q: quit "
    assert text.rindex("Recap") > text.rindex("Step 12 · After the restart")  # nothing after the recap waits


def test_q_stops_the_demo_as_ctrl_c_does():
    with pytest.raises(KeyboardInterrupt):
        play(["", "q"])


def test_b_shows_the_previous_step_again_then_enter_goes_on():
    text, prompts, _ = play(["", "", "b", "", ""])
    assert text.count("Step 1 · Log in with a wrong password") == 2
    assert text.count("Step 2 · Log in with the right password") == 2
    assert prompts[2:5] == ["Enter: step 3/12 · b: back · q: quit ", "Enter: step 2/12 · b: back · q: quit ",
                            "Enter: step 3/12 · b: back · q: quit "]


def test_while_paused_the_curl_line_replays_the_step_for_real(curl):
    results = []

    def try_it(said: list[str]) -> None:
        starts = [i for i, line in enumerate(said) if line.startswith("Ran at ")]
        footer = said[starts[-1]:] if starts else []
        if not results and "new session ID; try it:" in " ".join(footer):  # paused after the login
            command = "\n".join(footer[next(i for i, line in enumerate(footer) if line.startswith("  curl")):])
            results.append(subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=10).stdout)

    _, _, said = play([], on_ask=try_it)
    assert said[0].startswith("Ran at ") and "before this pause" in said[0]
    assert said[0].endswith("Replayed now it gets 401 again; try it:")  # step 1, the wrong password
    assert said[1].startswith("  curl -i -X POST -H 'Content-Type: application/json'")
    assert results and results[0].startswith("HTTP/1.1 200 OK") and "Set-Cookie: sessionId=" in results[0]


def test_the_outlook_says_what_a_replay_gets_now_and_why():
    from authcli.walkthroughs.replay import outlook

    clock = FakeClock(time.time())
    steps = {s.number: s for s in session_walkthrough(
        5, make_store=lambda: MemoryStore(clock=clock), clock=clock, sleep=clock.advance)}
    profile = steps[4].exchange  # 200: the session lives 5 s from login
    alive = outlook(profile, clock() - 10, up=True)  # the FakeClock has moved past expiry by now
    assert alive.offer and alive.text.startswith("This line gets 200 until ") and "when the session it sends expires" in alive.text
    dead = outlook(profile, clock() + 1, up=True)  # past the whole second expiresAt names
    assert dead.offer and dead.text.startswith("This line now gets 401: the session it sends expired at ")
    # Within that second the store may still hold it (its lifetime is exact, the stamp is not)
    ends = stamp_seconds(profile.events(SessionLookedUp)[0].record["expiresAt"])
    edge = outlook(profile, ends + 0.5, up=True)
    assert edge.text.startswith("This line may get 200 or 401 right now") and "gets " not in edge.text
    assert outlook(steps[2].exchange, clock(), up=True).text == "Replayed now it gets 200 again, with a new session ID; try it:"
    assert outlook(steps[5].exchange, clock(), up=True).text == "Replayed now it gets 401 again; try it:"
    stopped = outlook(steps[11].exchange, clock(), up=False)
    assert not stopped.offer and "stopped" in stopped.text


def test_curl_lines_break_only_between_arguments():
    from authcli.http import HttpRequest
    from authcli.render.text import curl_command, curl_lines

    request = HttpRequest("POST", "http://127.0.0.1:33933/login", "/login", "HTTP/1.1",
                          [("Content-Type", "application/json"), ("Cookie", "sessionId=" + "x" * 43)],
                          '{"email": "a@b.com", "password": "wrong"}')
    for width in (80, 120):
        lines = curl_lines(request, width)
        assert all(len(line) <= width for line in lines)
        assert all(line.endswith(" \\") for line in lines[:-1]) and not lines[-1].endswith("\\")
        joined = " ".join(line.rstrip("\\").strip() for line in lines)
        assert joined == curl_command(request)  # nothing split inside an argument
        assert any("'{\"email\": \"a@b.com\", \"password\": \"wrong\"}'" in line for line in lines)
        assert any(line.strip().startswith("http://127.0.0.1:33933/login") for line in lines) or width >= 120


def _pages(step, width: int, height: int):
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, force_terminal=True, color_system=None)
    renderer = TerminalRenderer(console, fold_headers=True)
    renderer.screens = 1  # past the first screen: no heading above
    return console, renderer, [_text(console, page) for page in renderer.pages(step, lambda: ["Ran at ...", "  curl ..."])]


def _text(console, renderable) -> list[str]:
    return ["".join(seg.text for seg in line).rstrip()
            for line in console.render_lines(renderable, console.options.update(height=None), pad=False)]


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40), (80, 14)])
def test_pages_break_only_between_blocks(width, height):
    """Every page boundary of every step falls between blocks or their parts (paragraphs, a
    request and its response, one defence and the next), or after a "(continued" marker on a
    block taller than a page; nothing is lost or doubled."""
    from authcli.render.terminal import _body

    clock = FakeClock(time.time())
    steps = list(session_walkthrough(1, make_store=lambda: MemoryStore(clock=clock), clock=clock,
                                     sleep=clock.advance))
    cut = 0
    for step in steps:
        console, renderer, pages = _pages(step, width, height)
        if len(pages) == 1:
            continue
        whole = [line for part in _body(step, True) for line in _text(console, part)]
        bodies = [page[2:] for page in pages]  # under the title rule and its blank line
        for body in bodies:
            assert len(body) <= height - 4 and body[0].strip() and body[-1].strip()
        at = 0
        for i, body in enumerate(bodies):
            continued = body[-1] == "(continued on the next page)"
            rows = body[:-1] if continued else body
            while not whole[at].strip():
                at += 1
            assert whole[at:at + len(rows)] == rows, (step.title, i)
            at += len(rows)
            if i < len(bodies) - 1 and not continued:
                before, after = whole[at - 1], whole[at]
                indent = len(after) - len(after.lstrip())
                # a blank line, a response after its request, what the server did after its answer,
                # or a new item of a list (less indented than the line above); never inside a
                # paragraph or a wrapped line
                assert not after.strip() or after.startswith(("< ", "* ")) or \
                    indent < len(before) - len(before.lstrip()), \
                    (step.title, i, before, after)
            cut += continued
        assert not any(line.strip() for line in whole[at:])
    assert cut or height > 14  # at 14 rows some block is taller than a page: cut, and marked


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
        assert sum(1 for t in numbered if t.endswith("/2)")) <= 4
    _check_breaks(screens)


def _check_breaks(screens: list[str]) -> None:
    """Pages break between blocks: a response's status line and its body share a screen, and
    a continued page never opens mid-sentence."""
    for screen in screens[:-1]:
        rows = [row.rstrip() for row in screen.split("\n")]
        for i, row in enumerate(rows):
            if row.startswith("< HTTP/"):
                assert "<" in rows[i:], screen  # the blank `<` line before the body, on this screen
        filled = [row for row in rows if row.strip()]
        if re.search(r"\((?:[2-9]|\d\d)/\d+\) ─", filled[0]):
            assert not re.match(r"[a-z]", filled[1]), screen


def test_the_jwt_demo_fits_80_by_24(tmux):
    screens = tmux("authcli demo jwt --ttl 2 --step", 80, 24)
    titles = _check_screens(screens, 24)
    assert any(t.startswith("Step 4 · A tampered token") for t in titles)
    _check_breaks(screens)


def test_the_browser_demo_fits_80_by_24(tmux):
    from conftest import require_browser

    require_browser()
    titles = _check_screens(tmux("authcli demo browser --step", 80, 24), 24)
    numbered = {t.split(" · ")[0] for t in titles if t.startswith("Step ")}
    assert numbered == {f"Step {n}" for n in range(1, 13)}


# --- try-it lines, run as a student would, from the screen ---------------------------------

def _footer(screen: str) -> tuple[str, str] | None:
    """The pause's sentence (from "Ran at" on) and its curl command as a copy from the terminal
    gives them; None when the screen has no pause footer."""
    rows = [row.rstrip() for row in screen.splitlines()]
    start = next((i for i, row in enumerate(rows) if row.startswith("Ran at ")), None)
    if start is None:
        return None
    end = next(i for i in range(start, len(rows)) if rows[i].startswith(("  curl", "Enter:")))
    sentence = " ".join(rows[start:end])
    command = []
    if rows[end].startswith("  curl"):
        for row in rows[end:]:
            command.append(row)
            if not row.endswith("\\"):
                break
    return sentence, "\n".join(command)


def _run(command: str) -> str:
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=10).stdout
    return out.split(" ", 2)[1] if out.startswith("HTTP/") else out


class _Student:
    """At each pause, runs the try-it line and checks it gets what the screen says it gets."""

    def __init__(self):
        self.ran: list[tuple[str, str]] = []  # (what the screen said, what curl got)

    def __call__(self, screen: str) -> str:
        found = _footer(screen)
        if found is None or not found[1]:
            return ""
        sentence, command = found
        began = time.monotonic()
        got = _run(command)
        said = re.search(r"gets (\d{3})", sentence)
        left = re.search(r"\((\d+) s from now\)", sentence)
        if said and (left is None or time.monotonic() - began < int(left.group(1)) - 1):
            assert got == said.group(1), (sentence, command, got)
            self.ran.append((sentence, got))
        return ""


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40)])
def test_every_try_it_line_gets_what_its_pause_says(tmux, curl, width, height):
    # --ttl 10: step 4 must still be inside the session's life when a loaded machine (4 workers on 2
    # cores) reaches it, or its line truthfully says 401 and the check below has nothing to see.
    student = _Student()
    screens = tmux("authcli demo session --ttl 10 --step", width, height, keys=student)
    said = " | ".join(sentence for sentence, _ in student.ran)
    assert len(student.ran) >= 8, said  # steps 1-10 and 12 offer a line (step 11: its server has stopped)
    assert "This line gets 200 until " in said and "when the session it sends expires" in said  # step 4
    assert "gets 401 again" in said and "with a new session ID" in said
    for screen in screens:
        rows = screen.splitlines()
        if any(row.startswith("  curl") for row in rows):
            # "try it:" on one row; the command's rows end between arguments, none wrapped
            assert any(row.rstrip().endswith("try it:") for row in rows), screen
            start = next(i for i, row in enumerate(rows) if row.startswith("  curl"))
            command = rows[start:next(i for i in range(start, len(rows)) if rows[i].startswith("Enter:"))]
            assert all(row.rstrip().endswith("\\") for row in command[:-1]) and len(command[-1]) < width, screen
            assert any(re.search(r"http://127\.0\.0\.1:\d+/\w+$", row) for row in command), screen


def test_a_line_tried_after_expiry_says_401_and_gets_it(tmux, curl):
    """Back at step 4 once the session has expired (step 7 showed it), the pause says the line
    now gets 401 and why, and it does."""
    student, state = _Student(), {"phase": "forward"}

    def keys(screen: str) -> str:
        student(screen)
        found = _footer(screen)
        if state["phase"] == "forward" and "Enter: step 9/12" in screen:
            state["phase"] = "back"
            time.sleep(1.1)  # past the second the record names: the stamp is whole seconds
        if state["phase"] == "back":
            if found and "Step 4 ·" in screen:
                state["phase"], state["said"] = "done", found[0]
                return ""
            return "b"
        return ""

    tmux("authcli demo session --ttl 1 --step", 80, 24, keys=keys)
    assert "This line now gets 401: the session it sends expired at " in state["said"]
    assert any(s == state["said"] and got == "401" for s, got in student.ran)


@pytest.mark.parametrize("command,expect", [
    ("authcli demo jwt --ttl 6 --step", ["when the token it sends expires", "with a new token",
                                         "nothing on the server to delete"]),
    ("authcli demo refresh --ttl 4 --step", ["when the token it sends expires", "gets 401 again"]),
    ("authcli demo jwt --cookie --ttl 6 --step", ["when the token it sends expires", "with a new token",
                                                  "nothing on the server to delete"]),
    ("authcli demo session --ttl 6 --idle 3 --step", ["gets 401 again"]),
])
def test_the_other_demos_try_it_lines_at_120_by_40(tmux, curl, command, expect):
    student, offered = _Student(), []

    def keys(screen: str) -> str:
        found = _footer(screen)
        if found:
            offered.append(found)
        return student(screen)

    tmux(command, 120, 40, keys=keys, timeout=90)
    said = " | ".join(sentence for sentence, _ in student.ran)
    assert all(e in said for e in expect), said
    if "--idle" in command:  # a live session's line is held back: a replay would slide its idle deadline
        held = [sentence for sentence, line in offered if not line and "No line to try" in sentence]
        assert held and "each request slides its idle deadline" in held[0]


def test_a_wait_shown_after_a_pause_counts_down_only_what_is_left():
    """The wait step was made before the class spent a while on the screen above it: its
    countdown is shortened by that time (the walkthrough still sleeps until the real deadline)."""
    from authcli.cli.stepper import _catch_up
    from authcli.walkthroughs.model import Narration, Step, Wait

    step = Step(6, "Waiting", [Narration(["..."]), Wait(60.0, "session expires in")])
    assert _catch_up(step, 45.0).wait == 15.0 and _catch_up(step, 90.0).wait == 0.0
    assert _catch_up(step, 45.0).blocks[0] is step.blocks[0] and step.wait == 60.0
