"""`authcli lab NAME --exercise`, `--hint N` and `--progress`: the student attacks the weak server
alone, with graded hints; the server's journal decides when it is solved."""

from __future__ import annotations

import os
import select
import sys
import time

import typer

from authcli.errors import UsageError

POLL = 0.1  # seconds between looks at the journal (and at stdin)


def exercise_names() -> set[str]:
    from authcli.walkthroughs.lab.exercises import EXERCISES

    return set(EXERCISES)


def _one(names: list[str] | None, flag: str, exercise: bool = True) -> str:
    from authcli.server.lab.weaknesses import known

    chosen = [w.name for w in known([n.strip() for a in names or [] for n in a.split(",") if n.strip()])]
    if len(chosen) != 1:
        raise UsageError(f"{flag} takes one lab: authcli lab NAME {flag} (authcli lab --list)")
    if exercise and chosen[0] not in exercise_names():
        raise UsageError(f"{chosen[0]} has no exercise yet; these do: {', '.join(sorted(exercise_names()))}")
    return chosen[0]


def show_hints(names: list[str] | None, upto: str) -> None:
    """Hints 1 to N (all with `all`), without starting a server."""
    from authcli.render.exercise import hint_line
    from authcli.walkthroughs.lab.exercises import EXERCISES, hint

    exercise = EXERCISES[_one(names, "--hint")]
    total = len(exercise.hints)
    try:
        count = total if upto == "all" else int(upto)
    except ValueError:
        raise UsageError(f"--hint takes a number from 1 to {total}, or all, not {upto[:20]!r}") from None
    if not 1 <= count <= total:
        raise UsageError(f"{exercise.name} has {total} hints: --hint 1 to {total}, or all")
    for number in range(1, count + 1):
        typer.echo(hint_line(number, total, hint(exercise, number)))


def show_progress(fmt: str) -> None:
    from authcli import progress
    from authcli.render.exercise import progress as report

    typer.echo(report(progress.load(), fmt))


class Lines:
    """Lines typed on stdin, read without blocking past `wait` seconds; none after end of input."""

    def __init__(self, stream=None):
        self._fd = (stream or sys.stdin).fileno()
        self._buffer = b""
        self.ended = False

    def next(self, wait: float) -> str | None:
        if b"\n" not in self._buffer and not self.ended:
            ready, _, _ = select.select([self._fd], [], [], wait)
            if ready:
                chunk = os.read(self._fd, 4096)
                self.ended = not chunk
                self._buffer = (self._buffer + chunk)[-4096:]
        elif self.ended:
            time.sleep(wait)
        if b"\n" in self._buffer or (self.ended and self._buffer):
            line, _, self._buffer = self._buffer.partition(b"\n")
            return line.decode("utf-8", "replace").strip()[:200]
        return None


def run_exercise(names: list[str] | None, timeout: float) -> None:
    from authcli.render import exercise as words
    from authcli.walkthroughs.lab.practice import Practice

    name = _one(names, "--exercise")
    with Practice(name) as practice:
        exercise = practice.exercise
        for line in words.start(practice.facts(), exercise.tools, len(exercise.hints)):
            typer.echo(line)
        started, hints = time.monotonic(), 0
        try:
            lines = Lines()
        except (OSError, ValueError):  # no stdin to read hints from: watch only
            lines = None
        while True:
            for attempt in practice.poll():
                request = attempt.record.request
                typer.echo(words.attempt_line(request.method, request.target, attempt.verdict))
                if attempt.solved:
                    return _solved(practice, attempt, time.monotonic() - started, hints)
            if time.monotonic() - started > timeout:
                typer.echo(f"error: not solved within {timeout:g} s (--timeout): this run's server has "
                           "stopped; run the exercise again for a new one", err=True)
                raise typer.Exit(1)
            typed = lines.next(POLL) if lines is not None else time.sleep(POLL)
            if typed in ("h", "hint"):
                if hints < len(exercise.hints):
                    hints += 1
                    typer.echo(words.hint_line(hints, len(exercise.hints), _hint(practice, hints)))
                else:
                    typer.echo(f"No more hints: authcli lab {name} --solution runs the whole attack.")
            elif typed in ("q", "quit"):
                typer.echo("Quit: not solved.")
                raise typer.Exit(1)
            elif typed:
                typer.echo(words.WAITING)


def _hint(practice, number: int) -> str:
    from authcli.walkthroughs.lab.exercises import hint

    provider = getattr(practice.oauth, "provider", None)
    return hint(practice.exercise, number, practice.weak.url, *([provider.url] if provider is not None else []))


def _solved(practice, attempt, seconds: float, hints: int) -> None:
    from authcli import clock, progress
    from authcli.events import IdTokenChecked
    from authcli.render import exercise as words
    from authcli.server.lab.weaknesses import WEAKNESSES
    from authcli.timefmt import iso
    from authcli.walkthroughs.lab.model import checks

    name = practice.exercise.name
    for line in words.solved(name, practice.flag, hints, attempt.record.request):
        typer.echo(line)
    sent, replay = practice.replay(attempt.record)
    idtoken = [c for e in replay.events(IdTokenChecked) for c in e.checks]
    failed = next((f"{c.name}, {c.detail}" for c in checks(replay) or idtoken if c.ok is False), None)
    what = "Your first login for an email with no account, the same request," if practice.enum else ""
    if practice.oauth is not None and practice.oauth.replayed_as():
        what = practice.oauth.replayed_as()
    if practice.xss is not None and practice.weak.app.field == "script":
        what = "What your scripts in user 1's page there collected: GET /collect"
    for line in words.defence(practice.hard.url, replay.response, failed, WEAKNESSES[name].lesson_line, sent, what):
        typer.echo(line)
    where = progress.record(progress.Solve(name, iso(clock.now()), round(seconds, 1), hints,
                                           practice.flag, practice.run_id))
    typer.echo(f"Recorded in {where} (authcli lab --progress).")


EXERCISE = typer.Option(False, "--exercise", help="Do it yourself: start NAME's weak server with a flag for this "
                        "run, print the goal and tools, wait until its journal shows the attack worked.")
HINT = typer.Option(None, "--hint", metavar="N", help="Print NAME's hints 1 to N (all: every one) and exit.")
SOLUTION = typer.Option(False, "--solution", help="The full attack on NAME, step by step (what authcli lab NAME runs).")
PROGRESS = typer.Option(False, "--progress", help="List the exercises you solved (-f markdown or html: a report "
                        "to hand in); kept in $AUTHCLI_HOME or ~/.local/state/authcli/progress.json.")
TIMEOUT = typer.Option(3600, "--timeout", min=1, max=7 * 24 * 3600, metavar="SECONDS",
                       help="With --exercise: give up after this long, exit 1.")


def exercises(names: list[str] | None, *, exercise: bool, hint: str | None, solution: bool, progress: bool,
              timeout: float, fmt: str) -> bool:
    """Do what the exercise options ask; False: none was given (or --solution: the lab runs as usual)."""
    chosen = [flag for flag, on in (("--exercise", exercise), ("--hint", hint is not None),
                                    ("--solution", solution), ("--progress", progress)) if on]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)}: give one")
    if progress:
        if names:
            raise UsageError("--progress lists every lab you solved: leave out the lab names")
        show_progress(fmt)
    elif hint is not None:
        show_hints(names, hint)
    elif exercise:
        run_exercise(names, timeout)
    elif solution:
        _one(names, "--solution", exercise=False)
        return False
    return bool(chosen)
