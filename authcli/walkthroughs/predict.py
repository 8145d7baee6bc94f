"""--predict: before a step is revealed, the class says what will happen, then sees if it did.

The questions come from the step's own data (its exchanges, its store), so every walkthrough
gets them; a step's `predict` text sets the scene without giving the answer away. The answer
and its one-line reason are what the server really did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authcli.http import Exchange
from authcli.events import (
    Balanced, CredentialsChecked, DenylistChecked, Forwarded, RefreshChecked, SessionCreated, SessionDeleted,
    SessionLookedUp, TokenChecked, TokenLogout, TokenSigned,
)
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


def _short(event) -> str:
    """What one server event decided, in a few words (its message may carry a whole record)."""
    if isinstance(event, CredentialsChecked):
        return "password matches" if event.user_id is not None else "no user with this email and password"
    if isinstance(event, SessionLookedUp):
        return "the session ID is in the store" if event.found else "no such session in the store"
    if isinstance(event, SessionCreated):
        return "a session record was written"
    if isinstance(event, SessionDeleted):
        return "the session record was deleted" if event.deleted and "-> 4" not in event.message else event.message
    if isinstance(event, TokenSigned):
        return "a token was signed, nothing stored"
    if isinstance(event, TokenChecked):
        if not event.checks:
            return "malformed token"
        return f"the {', '.join(event.failed)} check failed" if event.failed else "every check passed"
    if isinstance(event, TokenLogout):
        return "nothing to delete: the server keeps no record of tokens"
    if isinstance(event, DenylistChecked):
        return "its jti is on the denylist" if event.listed else "its jti is not on the denylist"
    if isinstance(event, RefreshChecked):
        return {"rotated": "the refresh token was rotated", "reused": "a used refresh token came back: "
                "family revoked", "revoked": "its family is revoked"}.get(event.outcome, event.message)
    return event.message


def _refused(event) -> bool:
    """Whether this event is the server saying no."""
    if isinstance(event, CredentialsChecked):
        return event.user_id is None
    if isinstance(event, SessionLookedUp):
        return not event.found
    if isinstance(event, TokenChecked):
        return not event.checks or bool(event.failed)
    if isinstance(event, DenylistChecked):
        return event.listed
    if isinstance(event, RefreshChecked):
        return event.outcome != "rotated"
    return isinstance(event, SessionDeleted) and event.deleted or "-> 4" in event.message


def _reason(exchange: Exchange) -> str:
    """What decided the status, in one line: the first refusal for an error, else what the
    server did (not the balancer's forwarding)."""
    said = [e for e in exchange.server if not isinstance(e, (Balanced, Forwarded))]
    if exchange.response.status >= 400:  # the first refusal, else the last thing it did
        last = exchange.last(Balanced, Forwarded)
        said = next(([e] for e in said if _refused(e)), [last] if last is not None else [])
    reasons = list(dict.fromkeys(_short(e) for e in said))
    return "; ".join(reasons) if reasons else f"{exchange.response.status} {exchange.response.reason}"


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


@dataclass(frozen=True)
class Missed:
    where: str  # "step 4"
    question: Question
    reply: str


@dataclass
class Score:
    asked: int = 0
    right: int = 0
    missed: list[Missed] = field(default_factory=list)  # answered wrongly
    skipped: list[str] = field(default_factory=list)  # where a question went unanswered

    def record(self, question: Question, reply: str | None, where: str = "") -> bool:
        """Count an answer; None (Enter alone, or no more input) is skipped, not wrong."""
        self.asked += 1
        if reply is None:
            self.skipped.append(where)
            return False
        ok = question.right(reply)
        if ok:
            self.right += 1
        else:
            self.missed.append(Missed(where, question, reply.strip()))
        return ok

    @property
    def answered(self) -> int:
        return self.asked - len(self.skipped)
