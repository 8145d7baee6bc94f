"""Playing a walkthrough: every step to a renderer; in --step mode, a pause before each new one.

The pause comes before a step, never after the last: the recap is not followed by a prompt.
While paused the walkthrough's servers are still running, so the prompt offers a curl line
that replays the step just shown, and says when its requests really ran (before the pause:
a burst, so a pause can never race a lifetime). `b` shows the previous step again.
"""

from __future__ import annotations

import time
from contextlib import closing
from email.utils import parsedate_to_datetime
from typing import Callable, Iterator

Ask = Callable[[str], str]


def _when(step) -> str:
    """`ran at 12:00:01`, from the Date the server put on the step's answer."""
    if step.exchange is None:
        return ""
    date = step.exchange.response.header("Date")
    try:
        return f"The requests shown ran at {parsedate_to_datetime(date).astimezone().strftime('%H:%M:%S')}, " \
               f"before this pause (it is {time.strftime('%H:%M:%S')} now)"
    except (TypeError, ValueError):
        return ""


def _label(step, total: int | None) -> str:
    if step.number is None:
        return step.title[:40]
    return f"step {step.number}" + (f"/{total}" if total else "")


def pause_text(shown: list, upcoming, total: int | None) -> tuple[list[str], str]:
    """What to say while paused (lines for stderr) and the prompt itself."""
    from authcli.render.text import curl_command

    lines = []
    last = shown[-1]
    when = _when(last)
    if when:
        lines.append(f"{when}. The server is still running: try it yourself:")
        lines.append("  " + curl_command(last.exchange.request))
    return lines, f"Enter: {_label(upcoming, total)} · b: back "


def play_steps(renderer, info, steps: Iterator, *, ask: Ask | None, say: Callable[[str], None]) -> None:
    """Render every step; with `ask` (a person at a terminal), pause before each new one."""
    renderer.start(info)
    shown: list = []
    with closing(steps):
        for step in steps:
            if ask is not None and shown:
                _pause(renderer, shown, step, info, ask, say)
            if ask is not None and hasattr(renderer, "new_screen"):
                renderer.new_screen()
            renderer.step(step)
            shown.append(step)
    renderer.end()


def _pause(renderer, shown: list, upcoming, info, ask: Ask, say: Callable[[str], None]) -> None:
    at = len(shown) - 1  # the step on screen
    while True:
        lines, prompt = pause_text(shown[: at + 1], upcoming if at == len(shown) - 1 else shown[at + 1],
                                   info.steps)
        for line in lines:
            say(line)
        answer = ask(prompt).strip().lower()
        if answer == "b" and at > 0:
            at -= 1
        elif answer != "b" and at < len(shown) - 1:
            at += 1
        elif answer != "b":
            return
        if hasattr(renderer, "new_screen"):
            renderer.new_screen()
        renderer.step(shown[at])
