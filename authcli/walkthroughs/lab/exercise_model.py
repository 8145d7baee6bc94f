"""What an exercise is: a lab's goal, tools, graded hints, and the evidence in the journal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from authcli.events import TokenChecked
from authcli.server.journal import RequestRecord


@dataclass(frozen=True)
class Exercise:
    """One lab as an exercise: what to do, what to use, and how the journal tells it was done."""

    name: str
    goal: str
    tools: tuple[str, ...]
    hints: tuple[str, ...]
    evidence: Callable[[RequestRecord, Any], bool]  # the lab's weakness let this /admin request through (run: the Practice)
    leaked: str = ""                           # what the student is handed, {value} in its words
    guessing: bool = False                     # user 1's password is in authcli's list: the story is the guesses
    path: str = "/admin"                       # the route whose requests are judged (/answer: user-enum's)
    route: str = ""                            # the exercise's own POST route (answer.py), if any
    account: bool = True                       # the banner offers eve's account (not where it plays no part)


def checked(record: RequestRecord) -> TokenChecked | None:
    return next((e for e in record.events if isinstance(e, TokenChecked) and e.payload is not None), None)
