"""--predict: before a step is revealed, the class says what will happen, then sees if it did.

The questions come from the step's own data (its exchanges, its store), so every walkthrough
gets them; a step's `predict` text sets the scene without giving the answer away. The answer
and its one-line reason are what the server really did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authcli.http import Exchange
from authcli.events import Balanced, Forwarded
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs.model import ExchangeBlock, Step

STATUSES = ("200", "401")  # the two answers a class weighs; the real one is always offered too


@dataclass(frozen=True)
class Question:
    prompt: str
    choices: tuple[str, ...]
    answer: str
    reason: str

    @property
    def ask(self) -> str:
        return f"{self.prompt} [{'/'.join(self.choices)}] "

    def accepts(self, reply: str) -> bool:
        return _normal(reply) in self.choices

    def right(self, reply: str | None) -> bool:
        return reply is not None and _normal(reply) == self.answer


def _normal(reply: str) -> str:
    reply = reply.strip().lower()
    return {"yes": "y", "no": "n"}.get(reply, reply)


def _reason(exchange: Exchange) -> str:
    """What decided the status: the last thing the server did (not the balancer's forwarding)."""
    said = exchange.last(Balanced, Forwarded)
    if said is not None:
        return said.message
    return f"{exchange.response.status} {exchange.response.reason}"


def status_question(exchange: Exchange, nth: str = "") -> Question:
    status = str(exchange.response.status)
    request = exchange.request
    return Question(f"Status of{nth} {request.method} {request.target} now?",
                    tuple(sorted(set(STATUSES) | {status})), status, _reason(exchange))


def store_question(before: StoreSnapshot, after: StoreSnapshot) -> Question:
    old, new = set(before.ids()), set(after.ids())
    added, removed = len(new - old), len(old - new)
    if added or removed:
        parts = [f"{n} record{'s' if n != 1 else ''} {what}" for n, what in ((added, "added"), (removed, "removed")) if n]
        reason = f"{' and '.join(parts)}: {after.title}"
    else:
        reason = f"no record added or removed: {after.title}"
    return Question("Will the session store change?", ("y", "n"), "y" if added or removed else "n", reason)


def questions(step: Step, store_before: StoreSnapshot | None) -> list[Question]:
    """What to ask before `step` is shown: each response's status, and whether the store
    changes (when the step reads the store again)."""
    exchanges = [b.exchange for b in step.all(ExchangeBlock)]
    asked = [status_question(ex, f" the {ordinal(i)}" if len(exchanges) > 1 else "")
             for i, ex in enumerate(exchanges, 1)]
    if exchanges and step.store is not None and store_before is not None:
        asked.append(store_question(store_before, step.store))
    return asked


def ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


@dataclass
class Score:
    asked: int = 0
    right: int = 0
    missed: list[str] = field(default_factory=list)  # the prompts answered wrongly or not at all

    def record(self, question: Question, reply: str | None) -> bool:
        self.asked += 1
        ok = question.right(reply)
        if ok:
            self.right += 1
        else:
            self.missed.append(question.prompt)
        return ok
