"""The room: who joined, the questions open now, and each student's answers, behind one lock.

Routes (on the server's loop) and the teacher's terminal (its own thread) both call it; nothing
here blocks or writes a file: the teacher's thread saves a question's answers when it closes
(results.py), so a hash, a disk or a slow report never stalls the loop. Students are known by
the name they typed (case and surrounding spaces ignored). The first join of a name gets the
name's rejoin code: joining again with that name (another device, a lost cookie) needs it, so
knowing the room's token and a classmate's name is not enough to answer, or read answers, as
them. An answer replaces that student's earlier one;
once a question is closed its answers are final (a late one gets 409).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field

from authcli import clock
from authcli.encoding import shows_plainly
from authcli.errors import HttpError

MAX_NAME = 40
MAX_STUDENTS = 1000   # a lecture hall, with room; the 1001st name is refused (409)
SEATS_PER_NAME = 8    # devices one name may have joined from; the oldest is forgotten
# New names one address may bring (an IPv4 address, an IPv6 /64). Anyone with the token could
# otherwise fill MAX_STUDENTS with made-up names in a second (measured: 1,000 names from one
# student, then every latecomer got "the class is full"). A class behind one NAT address holds
# about 120 browsers (transport/limits.py PER_ADDRESS, two connections each): 128 fit it.
NAMES_PER_ADDRESS = 128


@dataclass(frozen=True)
class Question:
    """One thing the class answers: a --predict question or a concept-check item."""

    key: str
    prompt: str
    choices: tuple[str, ...]
    answer: str = ""      # kept from students until the reveal (empty: an unscored question)
    reason: str = ""      # why, shown at the reveal
    request: str = ""     # the request about to be sent, as text
    labels: tuple[str, ...] = ()  # what each choice says (a check's option texts)

    def public(self) -> dict:
        return {"key": self.key, "prompt": self.prompt, "choices": list(self.choices),
                "labels": list(self.labels), "request": self.request}


@dataclass
class Tally:
    """A closed question's answers: one per student, the last they sent before it closed."""

    question: Question
    answers: dict[str, tuple[str, float]]  # student -> (choice, when)

    @property
    def histogram(self) -> dict[str, int]:
        counts = {c: 0 for c in self.question.choices}
        for choice, _ in self.answers.values():
            counts[choice] += 1
        return counts


def clean_name(name: object) -> str:
    """The name as shown: NFC, spaces collapsed; 400 for anything that is not a short line of text."""
    if not isinstance(name, str):
        raise HttpError(400, "name must be a string")
    shown = " ".join(unicodedata.normalize("NFC", name).split())
    if not shown:
        raise HttpError(400, "type a name to join")
    if len(shown) > MAX_NAME:
        raise HttpError(400, f"a name is at most {MAX_NAME} characters")
    if not shows_plainly(shown):
        raise HttpError(400, "a name may not hold control or invisible characters")
    return shown


@dataclass
class Room:
    """The class as the server sees it; `on_change(state)` is given each state students must see,
    in order, from the thread that changed it (the teacher's)."""

    token: str = field(default_factory=lambda: secrets.token_hex(3))  # said aloud: 6 hex digits
    on_change: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    names: dict[str, str] = field(default_factory=dict)            # folded -> as typed first
    seats: dict[str, str] = field(default_factory=dict)            # seat cookie -> folded name
    open: dict[str, Question] = field(default_factory=dict)
    phase: str = "waiting"  # waiting | predict | check | reveal | done
    answers: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)  # key -> student -> answer
    revealed: dict | None = None
    closed: set[str] = field(default_factory=set)
    brought: dict[object, int] = field(default_factory=dict)        # address -> new names it joined
    codes: dict[str, str] = field(default_factory=dict)             # folded name -> its rejoin code

    def join(self, name: object, token: object, address: object = "", code: object = None,
             seat: str | None = None) -> tuple[str, str]:
        """A seat for this name: (seat, name as shown). 403 without the room's token, or for a
        name that joined before without its rejoin code (`code`, or `seat`: a seat it holds);
        409 when the class, or this address's share of new names, is full."""
        if not isinstance(token, str) or not hmac.compare_digest(token.strip().lower().encode(), self.token.encode()):
            raise HttpError(403, "wrong join token: it is on the teacher's screen")
        shown = clean_name(name)
        folded = shown.casefold()
        new = secrets.token_urlsafe(24)
        with self._lock:
            if folded in self.names and self.seats.get(seat or "") != folded and not (
                    isinstance(code, str) and hmac.compare_digest(code.strip().lower().encode(),
                                                                  self.codes[folded].encode())):
                raise HttpError(403, "this name has joined already: type its rejoin code (on its first "
                                     "device's page), or pick another name")
            if folded not in self.names:
                if len(self.names) >= MAX_STUDENTS:
                    raise HttpError(409, f"the class is full ({MAX_STUDENTS} students)")
                if self.brought.get(address, 0) >= NAMES_PER_ADDRESS:
                    raise HttpError(409, f"{NAMES_PER_ADDRESS} names joined from this address already")
                self.brought[address] = self.brought.get(address, 0) + 1
                self.codes[folded] = secrets.token_hex(3)
            self.names.setdefault(folded, shown)
            mine = [s for s, n in self.seats.items() if n == folded]
            for old in mine[:max(0, len(mine) - SEATS_PER_NAME + 1)]:
                del self.seats[old]
            self.seats[new] = folded
            return new, self.names[folded]

    def student(self, seat: str | None) -> str:
        with self._lock:
            folded = self.seats.get(seat or "")
        if folded is None:
            raise HttpError(401, "join the class first (your seat is unknown: the teacher may have restarted)")
        return folded

    def answer(self, seat: str | None, key: object, choice: object) -> str:
        student = self.student(seat)
        if not isinstance(key, str) or not isinstance(choice, str):
            raise HttpError(400, 'send {"key": "...", "choice": "..."} as strings')
        with self._lock:
            question = self.open.get(key)
            if question is None:
                status = 409 if key in self.closed else 404
                raise HttpError(status, "answers to this question are closed" if status == 409 else "no such question")
            choice = choice.strip().lower()
            if choice not in question.choices:
                raise HttpError(400, f"answer one of: {', '.join(question.choices)}")
            self.answers.setdefault(key, {})[student] = (choice, clock.now())
        return choice

    def mine(self, seat: str | None) -> dict[str, str]:
        student = self.student(seat)
        with self._lock:
            return {key: by[student][0] for key, by in self.answers.items() if student in by}

    def ask(self, questions: list[Question], phase: str) -> None:
        with self._lock:
            self.open = {q.key: q for q in questions}
            self.phase, self.revealed = phase, None
            self._changed()

    def count(self) -> int:
        """How many students have answered every open question so far."""
        with self._lock:
            if not self.open:
                return 0
            sets = [set(self.answers.get(k, {})) for k in self.open]
            return len(set.intersection(*sets))

    def close(self, reveal: bool) -> list[Tally]:
        """Stop taking answers to the open questions; their tallies. `reveal` shows students the
        histogram and the answer (a predict question), else only that it closed (a check)."""
        with self._lock:
            tallies = [Tally(q, dict(self.answers.get(k, {}))) for k, q in self.open.items()]
            self.closed.update(self.open)
            self.open = {}
            self.phase = "reveal" if reveal else "waiting"
            self.revealed = {"results": [{"key": t.question.key, "prompt": t.question.prompt,
                                          "histogram": t.histogram, "answer": t.question.answer,
                                          "reason": t.question.reason} for t in tallies]} if reveal else None
            self._changed()
        return tallies

    def finish(self) -> None:
        with self._lock:
            self.open, self.phase, self.revealed = {}, "done", None
            self._changed()

    def state(self) -> dict:
        """What every student sees (never the answer to an open question)."""
        with self._lock:
            return self._state()

    def _state(self) -> dict:
        return {"phase": self.phase, "questions": [q.public() for q in self.open.values()],
                "revealed": self.revealed, "students": len(self.names)}

    def _changed(self) -> None:
        # Called holding the lock: each change is told once, with the state it left, and in the
        # order the changes were made, whichever threads made them. on_change must not wait
        # (the class server's only keeps the event: Channel.publish).
        if callable(self.on_change):
            self.on_change(self._state())
