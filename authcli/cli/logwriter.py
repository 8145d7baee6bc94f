"""`authcli serve`'s request log, written by a thread of its own: a paused terminal never stalls the server.

The server records each request on its event loop. Writing the line there meant that a terminal
paused with Ctrl-S, or `authcli serve | less` waiting at a full screen, stopped every client: the
write blocked the loop. Here the loop only queues the record; this thread formats and writes.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, TextIO

from authcli.server.journal import RequestRecord

# Lines waiting for the terminal: a few seconds of a busy classroom. When it is full the server
# does not wait: the line is dropped and counted, and one line says how many once writing resumes.
LOG_QUEUE = 10_000
# Stopping waits this long for the lines already queued; a terminal still paused is not waited for.
STOP_WAIT = 1.0


class LogWriter:
    """`writer(record)` queues a line and returns at once; `close()` writes what is queued and stops."""

    def __init__(self, out: TextIO, line: Callable[[RequestRecord, object], str],
                 state: Callable[[], object], size: int = LOG_QUEUE):
        self._out = out
        self._line = line      # (record, state) -> the text to write, built on this thread
        self._state = state    # what the line says about the store, read when the request was
        self._queue: queue.Queue = queue.Queue(size)
        self._lock = threading.Lock()
        self.dropped = 0
        self.written = 0
        # A daemon: a terminal that stays paused would block the join, and the process must
        # still exit on Ctrl-C. close() waits STOP_WAIT for it first.
        self._thread = threading.Thread(target=self._run, name="authcli-log", daemon=True)
        self._thread.start()

    def __call__(self, record: RequestRecord) -> None:
        try:
            self._queue.put_nowait((record, self._state()))
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def _run(self) -> None:
        reported = 0
        while (item := self._queue.get()) is not None:
            if not self._write(self._line(*item)):
                break  # the reader went away (a pager quit): nothing more to write to
            if self._queue.empty():  # caught up: an episode of dropped lines is said once, whole
                reported = self._say_dropped(reported)
        else:
            self._say_dropped(reported)
            return
        while self._queue.get() is not None:  # broken: keep taking, so __call__ never waits
            pass

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
        self.written += 1
        return True

    def close(self) -> None:
        try:
            self._queue.put(None, timeout=STOP_WAIT)
        except queue.Full:
            return
        self._thread.join(STOP_WAIT)
