"""The teacher's side of `authcli class start`: the concept check, then the demo with the room
predicting each step, then the check again; a histogram on the projector at each close.

The teacher drives it with Enter, read through `ask` exactly as --predict reads its answers: at
a terminal it is typed, piped in (tests, a rehearsal) it is one line per Enter. While a question
is open a terminal shows the count of answers live; the count is also in each prompt.
"""

from __future__ import annotations

import threading
from typing import Callable

from authcli.classroom.bank import ITEMS
from authcli.classroom.results import Results
from authcli.classroom.room import Question, Room, Tally
from authcli.cli.stepper import Ask, Player, _label
from authcli.render.classroom import histogram_lines
from authcli.render.escape import printable

LIVE_EVERY = 0.5  # seconds between redraws of the live count


class Teacher:
    """The room, its results file, and the teacher's Enter key."""

    def __init__(self, room: Room, results: Results, ask: Ask, show: Callable[[str], None],
                 live: Callable[[str], None] | None = None):
        self.room, self.results, self.ask, self.show, self.live = room, results, ask, show, live
        self.asked = 0

    def counted(self) -> str:
        return f"{self.room.count()}/{len(self.room.names)} answered"

    def wait(self, prompt: str) -> None:
        """Until Enter; meanwhile a terminal redraws the prompt with the live count."""
        stop = threading.Event()
        ticker = None
        if self.live is not None:
            def tick() -> None:
                while not stop.wait(LIVE_EVERY):
                    self.live(f"{prompt} ({self.counted()}) ")
            ticker = threading.Thread(target=tick, name="authcli-class-count")
            ticker.start()
        try:
            self.ask(f"{prompt} ({self.counted()}) ")
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()

    def poll(self, questions: list[Question], kind: str, prompt: str) -> list[Tally]:
        self.room.ask(questions, "check" if kind in ("pre", "post") else kind)
        self.wait(prompt)
        tallies = self.room.close(reveal=kind == "predict")
        self.results.save(kind, tallies, dict(self.room.names))
        return tallies

    def check(self, kind: str) -> None:
        """The concept check (`pre` or `post`): every item at once, students at their own pace;
        Enter closes it. Nothing is revealed: the post check must measure the demos."""
        items = [Question(f"{kind}:{i.key}", i.prompt, tuple(i.options), i.answer,
                          labels=tuple(i.options.values())) for i in ITEMS]
        self.show(f"Concept check ({kind}): {len(items)} questions are on the students' screens.")
        tallies = self.poll(items, kind, f"Enter: close the {kind} check")
        students = {s for t in tallies for s in t.answers}
        self.show(f"The {kind} check closed: {len(students)} students answered. `authcli class report` "
                  "gives the scores and gains.")

    def predict(self, questions: list[Question]) -> None:
        tallies = self.poll(questions, "predict", "Enter: close the answers and show the histogram")
        for tally in tallies:
            q = tally.question
            self.show("")
            self.show(f"{printable(q.prompt)}  {len(tally.answers)} answered")
            for line in histogram_lines(tally.histogram, q.answer):
                self.show(line)
            self.show(f"Right: {q.answer} ({printable(q.reason)})")
        self.show("")

    def next_key(self) -> str:
        self.asked += 1
        return f"predict:{self.asked}"

    def finish(self) -> None:
        self.room.finish()
        self.results.close()


def request_text(step) -> str:
    """What students see before the reveal: the step's scene and the requests about to go."""
    from authcli.render.text import fold_boilerplate, request_lines
    from authcli.walkthroughs.model import ExchangeBlock

    lines = [printable(step.predict), ""] if step.predict else []
    for block in step.all(ExchangeBlock):
        lines += [printable(line) for line in fold_boilerplate(request_lines(block.exchange.request))] + [""]
    return "\n".join(lines).strip()


class ClassPlayer(Player):
    """--predict for a room: each question goes to the students' devices instead of one prompt."""

    def __init__(self, teacher: Teacher, renderer, info, pauses: bool):
        super().__init__(renderer, info, teacher.ask, teacher.show, predict=True, pauses=pauses)
        self.teacher = teacher

    def _predict(self, step) -> None:
        from authcli.walkthroughs.predict import questions

        asked = questions(step, self.store)
        if not asked:
            return
        label = _label(step, self.info.steps)
        if self.pauses:
            self.renderer.new_screen()
        self.renderer.teaser(step, label)
        request = request_text(step)
        where = _label(step, None)  # "step 4": the report tells repeated questions apart
        self.teacher.predict([Question(self.teacher.next_key(), f"{where[:1].upper()}{where[1:]}: {q.prompt}",
                                       q.choices, q.answer, q.reason, request) for q in asked])
        if self.pauses:
            self.ask(f"Enter: see {label} ")

    def end(self) -> None:
        self.renderer.end()  # the room's answers are in the report, not a one-person score


def teach(teacher: Teacher, *, pre: bool, post: bool, demo=None, renderer=None, pauses: bool = False) -> None:
    """The lesson: join, the pre check, the demo (`demo` is (info, steps)), the post check."""
    from contextlib import closing

    teacher.wait("Students are joining. Enter: start")
    if pre:
        teacher.check("pre")
    if demo is not None:
        info, steps = demo
        player = ClassPlayer(teacher, renderer, info, pauses)
        renderer.start(info)
        with closing(steps):
            for step in steps:
                player.play(step)
        player.end()
    if post:
        teacher.check("post")
    teacher.finish()
