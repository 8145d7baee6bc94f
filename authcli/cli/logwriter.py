"""`authcli serve`'s request log, written by a thread of its own: a paused terminal never stalls the server.

The server records each request on its event loop. Writing the line there meant that a terminal
paused with Ctrl-S, or `authcli serve | less` waiting at a full screen, stopped every client: the
write blocked the loop. Here the loop only queues the record; this thread formats and writes.
"""

from __future__ import annotations

import collections
import threading
from typing import Callable, TextIO

from authcli.server.journal import RequestRecord

# Lines waiting for the terminal: a few seconds of a busy classroom. When it is full the server
# does not wait: the line is dropped and counted, and one line says how many once writing resumes.
LOG_QUEUE = 10_000
# Stopping waits this long for the lines already queued; a terminal still paused is not waited for.
STOP_WAIT = 1.0
# The writer wakes this often and writes what came meanwhile in one write and one flush. Woken
# per line (a queue.Queue's notify), it took the GIL from the event loop once a request: a
# profile under wrk put up to a third of the loop's time in that notify. A person reading the
# log does not see 50 ms.
EVERY = 0.05
BATCH = 1000  # lines per write at most


class LogWriter:
    """`writer(record)` queues a record and returns at once; `close()` writes what is queued and stops.

    The loop only appends to a deque (no lock, no wake-up); this thread formats every line and
    reads the store's state once per batch: a line says what the store held when it was written,
    at most EVERY seconds after its request."""

    def __init__(self, out: TextIO, line: Callable[[RequestRecord, object], str],
                 state: Callable[[], object], size: int = LOG_QUEUE):
        self._out = out
        self._line = line      # (record, state) -> the text to write, built on this thread
        self._state = state    # what the line says about the store, read once per batch
        self._size = size
        self._pending: collections.deque = collections.deque()
        self._lock = threading.Lock()  # only for counting drops, which happen when it is full
        self._stop = threading.Event()
        self._broken = False
        self.dropped = 0
        self.written = 0
        # A daemon: a terminal that stays paused would block the join, and the process must
        # still exit on Ctrl-C. close() waits STOP_WAIT for it first.
        self._thread = threading.Thread(target=self._run, name="authcli-log", daemon=True)
        self._thread.start()

    def __call__(self, record: RequestRecord) -> None:
        if self._broken:
            return
        if len(self._pending) >= self._size:
            with self._lock:
                self.dropped += 1
            return
        self._pending.append(record)  # atomic: the loop and the workers may both record

    @property
    def backlog(self) -> int:
        """Records queued and not yet written."""
        return len(self._pending)

    def _run(self) -> None:
        reported = 0
        while True:
            stopping = self._stop.wait(EVERY)
            while self._pending:
                if not self._write_batch():
                    self._broken = True  # the reader went away (a pager quit): nothing more to write to
                    self._pending.clear()
                    return
            reported = self._say_dropped(reported)  # caught up: an episode of drops is said once, whole
            if stopping:
                return

    def _write_batch(self) -> bool:
        take = self._pending.popleft
        batch = [take() for _ in range(min(BATCH, len(self._pending)))]
        state = self._state()
        if not self._write("".join([self._line(record, state) for record in batch])):
            return False
        self.written += len(batch)
        return True

    def _say_dropped(self, reported: int) -> int:
        with self._lock:
            dropped = self.dropped
        if dropped > reported:
            n = dropped - reported
            self._write(f"... {n} log line{'s' if n != 1 else ''} dropped: the terminal was not reading "
                        "(paused, or a pager waiting); the server went on serving\n")
        return dropped

    def _write(self, text: str) -> bool:
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(STOP_WAIT)
