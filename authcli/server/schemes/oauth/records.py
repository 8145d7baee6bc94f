"""What an OAuth party keeps: records by key with a lifetime, bounded, shown as a store snapshot."""

from __future__ import annotations

import copy
import threading
from typing import Any, Callable, Hashable

from authcli.stores.base import StoreRow, StoreSnapshot, count_phrase
from authcli.stores.memory import FACTS


class _Notation:
    """`codes["Xy3..."] -> {...}`: the record kind's name, and where it lives."""

    def __init__(self, name: str, where: str):
        self.name, self.where = name, where

    def title(self, rows: list[StoreRow]) -> str:
        return f"{self.where}: {count_phrase(len(rows), 'record')}"

    def label(self, row: StoreRow) -> str:
        return f'{self.name}["{row.key}"]'

    def transcript(self, rows: list[StoreRow]) -> list[str] | None:
        return None


class Records:
    """A dict of JSON-like records with deadlines, behind a lock; expired ones are dropped when
    met. Each record has an owner (the client address that caused it). Past `limit` live
    records, the oldest record of the owner holding the most makes room: a full store refusing
    every newcomer would let one student's script, minting records for as long as they live
    (refresh tokens: a day), lock the whole class out; this way the script mostly evicts itself."""

    def __init__(self, name: str, where: str, limit: int, clock: Callable[[], float]):
        self.notation = _Notation(name, where)
        self.limit, self.clock = limit, clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[dict[str, Any], float]] = {}
        self._owner: dict[str, Hashable] = {}
        self._owned: dict[Hashable, dict[str, None]] = {}  # each owner's keys, oldest first
        self.evicted = 0

    def _drop(self, key: str) -> tuple[dict[str, Any], float] | None:
        found = self._items.pop(key, None)
        owner = self._owner.pop(key, None)
        keys = self._owned.get(owner)
        if keys is not None:
            keys.pop(key, None)
            if not keys:
                del self._owned[owner]
        return found

    def _purge(self, now: float) -> None:
        for key in [k for k, (_, end) in self._items.items() if end <= now]:
            self._drop(key)

    def put(self, key: str, record: dict[str, Any], ttl: float, owner: Hashable = "") -> str | None:
        """Keep `record` for `ttl` seconds; the key evicted to make room, if one was."""
        with self._lock:
            now = self.clock()
            evicted = None
            if key not in self._items and len(self._items) >= self.limit:
                self._purge(now)
                if len(self._items) >= self.limit:
                    # Of the biggest, the one that put last: a script in a loop, not the
                    # teacher who registered early (max keeps the first of equals).
                    biggest = max(reversed(self._owned), key=lambda o: len(self._owned[o]))
                    evicted = next(iter(self._owned[biggest]))
                    self._drop(evicted)
                    self.evicted += 1
            if key in self._items:
                self._drop(key)
            self._items[key] = (copy.deepcopy(record), now + ttl)
            self._owner[key] = owner
            keys = self._owned.pop(owner, {})
            keys[key] = None
            self._owned[owner] = keys  # owners in the order they last put
            return evicted

    def owned(self, owner: Hashable) -> int:
        """Records kept for `owner`, expired ones not yet dropped included."""
        with self._lock:
            return len(self._owned.get(owner, ()))

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[1] <= self.clock():
                return None
            return copy.deepcopy(found[0])

    def update(self, key: str, change: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """Apply `change` to the live record under the lock (no other request sees it half
        done); `change` returns False to leave it as it was. The record as it was before."""
        with self._lock:
            found = self._items.get(key)
            if found is None or found[1] <= self.clock():
                return None
            before = copy.deepcopy(found[0])
            record = copy.deepcopy(found[0])
            if change(record):
                self._items[key] = (record, found[1])
            return before

    def each(self, test: Callable[[dict[str, Any]], bool], change: Callable[[dict[str, Any]], None]) -> int:
        """Change every live record `test` picks (a family revoked); how many."""
        with self._lock:
            n = 0
            for key, (record, end) in self._items.items():
                if test(record):
                    change(record)
                    n += 1
            return n

    def pop(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._drop(key)
            return None if found is None or found[1] <= self.clock() else found[0]

    def __len__(self) -> int:
        return len(self._items)

    def snapshot(self, shown: Callable[[str], str] = lambda k: k) -> StoreSnapshot:
        """The live records; `shown` writes a key as the narration may show it."""
        with self._lock:
            now = self.clock()
            rows = [StoreRow(shown(k), k, copy.deepcopy(v), round(end - now, 1))
                    for k, (v, end) in self._items.items() if end > now]
        return StoreSnapshot(FACTS, self.notation, rows)
