"""Playing a walkthrough: every step to a renderer; in --step mode, a pause before each screen.

The pause comes before a screen, never after the last: the recap is not followed by a prompt.
A step taller than the terminal is cut into pages at its block boundaries, each headed by
the step's title, so a projector never scrolls the title away. While paused the walkthrough's
servers are still running, so the pause offers a curl line that replays the step on screen,
says when its requests really ran (before the pause: a burst, so a pause can never race a
lifetime) and what the line gets now, which lifetimes of seconds may have changed. `b` shows
the previous screen again.

With --predict, a step with requests first shows only what the client is about to do and
asks what will happen; the answers are scored, and the step then shows what did. Answers piped
in are answers only: nothing else reads stdin, so one line is one answer (an empty one skips).
"""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator

from authcli.clock import local_hms

if TYPE_CHECKING:
    from authcli.render.base import Renderer

Ask = Callable[[str], "str | None"]  # None: no more input (stdin closed)


@dataclass(frozen=True)
class Screen:
    step: Any
    page: Any  # what the renderer shows (None: the whole step)
    index: int
    pages: int


def _when(step) -> str:
    """`Ran at 12:00:01`, from the Date the server put on the step's answer."""
    if step.exchange is None:
        return ""
    date = step.exchange.response.header("Date")
    try:
        ran = local_hms(parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return f"Ran at {ran}, before this pause (now {local_hms()})."


def _label(step, total: int | None) -> str:
    if step.number is None:
        return step.title[:40]
    return f"step {step.number}" + (f"/{total}" if total else "")


def footer(step, width: int = 80) -> list[str]:
    """What a pause says under a screen of `step`: when its requests ran, what a replay of the
    first gets now and why, and the curl line, broken between arguments to fit `width`."""
    import textwrap

    from authcli.clock import now
    from authcli.render.text import curl_lines
    from authcli.walkthroughs.replay import outlook

    when = _when(step)
    if not when:
        return []
    ahead = outlook(step.exchange, now())
    # "try it:" stays on one line: the no-break space is turned back after wrapping.
    words = f"{when} {ahead.text}".replace("try it:", "try\u00a0it:")
    lines = [line.replace("\u00a0", " ") for line in
             textwrap.wrap(words, width - 1, break_long_words=False, break_on_hyphens=False)]
    return lines + (curl_lines(step.exchange.request, width - 1) if ahead.offer else [])


def _catch_up(step, waited: float):
    """The step with its Wait shortened by the time its pause took: the wait was measured when
    the step was made, before the class spent a while on the screen above."""
    from dataclasses import replace

    from authcli.walkthroughs.model import Wait

    wait = step.first(Wait)
    if wait is None or waited <= 0:
        return step
    return replace(step, blocks=[replace(b, seconds=max(b.seconds - waited, 0.0)) if b is wait else b
                                 for b in step.blocks])


def _next_label(screens: list[Screen], at: int, upcoming, total: int | None) -> str:
    if at < len(screens) - 1:
        nxt = screens[at + 1]
        if nxt.index:
            return f"{_label(nxt.step, total)}, part {nxt.index + 1}/{nxt.pages}"
        return _label(nxt.step, total)
    return upcoming


class Player:
    def __init__(self, renderer: Renderer, info, ask: Ask | None, say: Callable[[str], None], predict: bool,
                 pauses: bool = True):
        self.renderer, self.info, self.ask, self.say = renderer, info, ask, say
        self.pauses = pauses and ask is not None  # False: answers only (piped), every step whole
        self.screens: list[Screen] = []
        self.score = None
        if predict:
            from authcli.walkthroughs.predict import Score
            self.score = Score()
        self.store = None  # the last store snapshot shown, for "will the store change?"
        self.width = renderer.width

    def _pages(self, step) -> list:
        return self.renderer.pages(step, lambda: footer(step, self.width))

    def _show(self, screen: Screen) -> None:
        self.renderer.new_screen()
        if screen.page is None:
            self.renderer.step(screen.step)
        else:
            self.renderer.show(screen.page)

    def _pause(self, upcoming: str) -> None:
        at = len(self.screens) - 1  # the screen showing
        while True:
            screen = self.screens[at]
            if screen.index == screen.pages - 1:  # the step is all on screen: how to rerun it
                for line in footer(screen.step, self.width):
                    self.say(line)
            answer = (self.ask(f"Enter: {_next_label(self.screens, at, upcoming, self.info.steps)} · b: back "
                               "· q: quit ") or "").strip().lower()
            if answer == "q":  # as Ctrl-C: the servers stop on the way out, the run ends here
                raise KeyboardInterrupt
            if answer == "b" and at > 0:
                at -= 1
            elif answer != "b" and at < len(self.screens) - 1:
                at += 1
            elif answer != "b":
                return
            self._show(self.screens[at])

    def play(self, step) -> None:
        if not self.pauses:
            if self.score is not None:
                self._predict(step)
            self.renderer.step(step)
            if step.store is not None:
                self.store = step.store
            return
        arrived = time.monotonic()
        if self.screens:
            self._pause(_label(step, self.info.steps))
        if self.score is not None:
            self._predict(step)
        step = _catch_up(step, time.monotonic() - arrived)
        pages = self._pages(step)
        for i, page in enumerate(pages):
            if i:
                self._pause(f"{_label(step, self.info.steps)}, part {i + 1}/{len(pages)}")
            self.screens.append(Screen(step, page, i, len(pages)))
            self._show(self.screens[-1])
        if pages[-1] is not None:
            self.renderer.after(step)
        if step.store is not None:
            self.store = step.store

    def _predict(self, step) -> None:
        from authcli.walkthroughs.predict import questions

        asked = questions(step, self.store)
        if not asked:
            return
        where = _label(step, None)
        if self.pauses:
            self.renderer.new_screen()
        self.renderer.teaser(step, _label(step, self.info.steps))
        for question in asked:
            reply = self._reply(question)
            self.renderer.verdict(question, reply, self.score.record(question, reply, where))
        if self.pauses:
            self.ask(f"Enter: see {_label(step, self.info.steps)} ")

    def _reply(self, question) -> str | None:
        from authcli.render.escape import printable

        while True:
            reply = self.ask(printable(question.ask))  # the path asked about came over the wire
            if reply is None or not reply.strip():
                return None  # Enter alone, or stdin closed: no answer, shown as such
            if question.accepts(reply):
                return reply
            self.say(f"Answer one of: {', '.join(question.choices)}")

    def end(self) -> None:
        if self.score is not None:
            self.renderer.score(self.score)
        self.renderer.end()


def play_steps(renderer: Renderer, info, steps: Iterator, *, ask: Ask | None, say: Callable[[str], None],
               predict: bool = False, pauses: bool = True) -> None:
    """Render every step; with `ask` (a person at a terminal, or answers on stdin), pause
    before each new screen, and with `predict` ask before each step what it will show.
    `pauses` False (answers piped in): `ask` reads only the answers, one line each, and every
    step is printed whole, nothing cleared."""
    player = Player(renderer, info, ask, say, predict, pauses)
    renderer.start(info)
    with closing(steps):
        for step in steps:
            player.play(step)
    player.end()
