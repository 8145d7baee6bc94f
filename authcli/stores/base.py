"""The session-store interface every backend implements, the facts that tell backends apart,
and the plain-data snapshot a walkthrough shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StoreFacts:
    """What differs between stores, as facts: code outside stores/ reads these, never a name."""

    name: str                 # what `--store` calls it
    label: str                # how a sentence names it: "memory", "Redis"
    survives_restart: bool    # a new server process finds the old sessions
    expires_by_itself: bool   # the store drops expired records on its own (Redis TTL)
    expiry: str               # one sentence: who removes an expired record
    gone: str                 # what is left of an expired record: "the record is gone"
    takes_url: bool = False   # reached at a URL (--redis-url)
    takes_path: bool = False  # kept in a file named as --store NAME:PATH
    sharers: str = "any number of servers"  # who can share its sessions, when it outlives a server


class StoreNotation(Protocol):
    """How a store's contents are written, in its own notation (the handout's `sessionStore`
    object, redis-cli commands...)."""

    def title(self, rows: list[StoreRow]) -> str:
        """The heading above the contents."""
        ...

    def label(self, row: StoreRow) -> str:
        """One record's key as this store spells it."""
        ...

    def transcript(self, rows: list[StoreRow]) -> list[str] | None:
        """The contents as a transcript of commands, or None to show key -> value rows."""
        ...


@dataclass(frozen=True)
class StoreRow:
    """One record as the store holds it: its key, its JSON value, seconds left to live."""

    key: str
    session_id: str
    value: dict[str, Any]
    ttl: float | None


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything the store holds at one moment, read back from the store itself."""

    facts: StoreFacts
    notation: StoreNotation = field(compare=False, repr=False)
    rows: list[StoreRow] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.facts.name

    @property
    def title(self) -> str:
        return self.notation.title(self.rows)

    def labels(self) -> list[str]:
        return [self.notation.label(row) for row in self.rows]

    def transcript(self) -> list[str] | None:
        return self.notation.transcript(self.rows)

    def ids(self) -> list[str]:
        return [row.session_id for row in self.rows]

    def get(self, session_id: str) -> StoreRow | None:
        return next((r for r in self.rows if r.session_id == session_id), None)


class SessionStore(Protocol):
    """Session ID -> JSON record with a time to live. Expired records are gone for every method."""

    facts: StoreFacts

    def where(self) -> str:
        """Where the sessions live, as a phrase: "an in-memory session store: ..."."""
        ...

    def key(self, session_id: str) -> str:
        """The name this store files the record under (e.g. `session:<id>` in Redis)."""
        ...

    def create(self, session_id: str, record: dict[str, Any], ttl: int) -> None:
        """Store a new record that expires `ttl` seconds from now."""
        ...

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The live record for this ID, or None when unknown or expired. Never writes."""
        ...

    def delete(self, session_id: str) -> bool:
        """Remove the record; True when there was a live one (an expired record is already gone)."""
        ...

    def snapshot(self) -> StoreSnapshot:
        """Every live record, for display."""
        ...

    def describe(self, op: str, session_id: str, result: Any = None, ttl: int | None = None) -> str:
        """One line saying what a `write`, `read` or `delete` did, in the backend's own notation."""
        ...

    def count(self) -> int:
        """How many live records are held now, counted: walkthroughs and tests, never a hot path."""
        ...

    def size(self) -> int:
        """How many records are held, in O(1) whatever the store holds (the `serve` log reads it
        a few times a second); may include what expired since the last purge."""
        ...

    def purge(self) -> None:
        """Drop records that have expired; the server calls it about once a second. Cheap:
        proportional to what expired, never to what is held."""
        ...

    def close(self) -> None:
        """Release connections or threads the store holds."""
        ...


def overwrite(store: SessionStore, key: str, record: dict[str, Any], ttl: int) -> None:
    """Write a record whether or not one exists: `create` refuses a live ID on purpose (a new
    session never takes over an old one), so an update is a delete, then a create."""
    store.delete(key)
    store.create(key, record, ttl)


def count_phrase(n: int, noun: str) -> str:
    return "empty" if n == 0 else f"{n} {noun}{'s' if n != 1 else ''}"
