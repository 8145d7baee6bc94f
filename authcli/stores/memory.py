"""In-memory session store: a dict guarded by a lock, like `sessionStore` in the handout."""

from __future__ import annotations

import heapq
import json
import threading
from typing import Any, Callable

from authcli.errors import StoreConfigError
from authcli.stores.base import StoreFacts, StoreRow, StoreSnapshot, count_phrase
from authcli.clock import now as clock_now

FACTS = StoreFacts(
    name="memory",
    label="memory",
    survives_restart=False,
    expires_by_itself=False,
    expiry="The server drops the record when it finds it expired.",
    gone="the record is gone",
)


class ObjectNotation:
    """The handout's own notation: `sessionStore["abc123"] -> {...}`."""

    def title(self, rows: list[StoreRow]) -> str:
        return f"Session store (memory, on the server): {count_phrase(len(rows), 'record')}"

    def label(self, row: StoreRow) -> str:
        return f'sessionStore["{row.key}"]'

    def transcript(self, rows: list[StoreRow]) -> list[str] | None:
        return None


class MemoryStore:
    """Lives in the server process: fast, and lost when that process stops."""

    facts = FACTS
    notation = ObjectNotation()

    # Expired records are dropped this many at a time, the lock released in between, so a
    # purge of 200,000 never holds up a request for more than a millisecond or so.
    PURGE_BATCH = 1000

    def __init__(self, clock: Callable[[], float] = clock_now):
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, tuple[str, float]] = {}
        # (deadline, id) pairs: purge pops the expired ones in order, so dropping expired
        # sessions costs what expired, not what is stored. At most one live pair per session
        # (`_queued` says which): an idle touch rewrites the record on every request, and a pair
        # per rewrite, each kept until the absolute deadline, grew by GBs an hour for one busy
        # client under --ttl 3600. A pair that fires before its record's deadline is pushed again.
        self._deadlines: list[tuple[float, str]] = []
        self._queued: dict[str, float] = {}

    def where(self) -> str:
        return ("an in-memory session store: a dict inside the server process, like the handout's "
                "`sessionStore`")

    def key(self, session_id: str) -> str:
        return session_id

    def create(self, session_id: str, record: dict[str, Any], ttl: int) -> None:
        # Stored as JSON text, as Redis will: what comes back is a copy, never shared state.
        with self._lock:
            if session_id in self._records:
                raise KeyError("session ID already exists")
            deadline = self._clock() + ttl
            self._records[session_id] = (json.dumps(record), deadline)
            queued = self._queued.get(session_id)
            # A pair that fires early is harmless (purge re-queues it); one that fires much
            # later would keep an expired record counted, so a deadline a second or more earlier
            # gets its own pair (the idle touch moves it by less than a second).
            if queued is None or deadline < queued - 1:
                self._queued[session_id] = deadline
                heapq.heappush(self._deadlines, (deadline, session_id))

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._records.get(session_id)
            if entry is None:
                return None
            text, deadline = entry
            if self._clock() >= deadline:
                del self._records[session_id]
                return None
            return json.loads(text)

    def delete(self, session_id: str) -> bool:
        with self._lock:
            entry = self._records.pop(session_id, None)
            return entry is not None and self._clock() < entry[1]  # a live record, as Redis says

    def count(self) -> int:
        return len(self._records)

    def size(self) -> int:
        return len(self._records)

    def purge(self) -> None:
        now = self._clock()
        while self._purge_batch(now):
            pass

    def _purge_batch(self, now: float) -> bool:
        """Drop up to PURGE_BATCH expired records; True when there may be more."""
        with self._lock:
            for _ in range(self.PURGE_BATCH):
                if not self._deadlines or self._deadlines[0][0] > now:
                    return False
                deadline, sid = heapq.heappop(self._deadlines)
                if self._queued.get(sid) != deadline:
                    continue  # a pair that a shorter-lived re-creation replaced
                del self._queued[sid]
                entry = self._records.get(sid)
                if entry is None:
                    continue  # deleted (logout) since
                if entry[1] <= now:
                    del self._records[sid]
                else:  # re-created since with a later deadline: queued again for that one
                    self._queued[sid] = entry[1]
                    heapq.heappush(self._deadlines, (entry[1], sid))
        return True

    def snapshot(self) -> StoreSnapshot:
        self.purge()
        now = self._clock()
        with self._lock:  # what expired since the purge a moment ago is left out, not shown
            rows = [
                StoreRow(sid, sid, json.loads(text), deadline - now)
                for sid, (text, deadline) in self._records.items() if deadline > now
            ]
        return StoreSnapshot(self.facts, self.notation, rows)

    def describe(self, op: str, session_id: str, result: Any = None, ttl: int | None = None) -> str:
        """What the store did, in the handout's notation: sessionStore["abc123"] -> {...}."""
        ref = f'sessionStore["{session_id}"]'
        if op == "write":
            return f"{ref} = {json.dumps(result)}  (expires in {ttl} s)"
        if op == "read":
            return f"{ref} -> " + (json.dumps(result) if result is not None else "no such record")
        return f"delete {ref} -> " + ("deleted" if result else "there was no record")

    def close(self) -> None:
        pass


class MemorySource:
    """Where memory stores come from: each `make()` is a new, empty process memory."""

    facts = FACTS
    note = ""

    def __init__(self, url: str | None = None):
        if url is not None:
            raise StoreConfigError("the memory store takes no URL")

    def make(self, clock: Callable[[], float] = clock_now, namespace: str = "") -> MemoryStore:
        """A new store; `namespace` needs no prefix here, as no other server shares it."""
        return MemoryStore(clock=clock)

    def __enter__(self) -> MemorySource:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


Source = MemorySource
