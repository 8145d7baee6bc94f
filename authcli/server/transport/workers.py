"""The worker threads: the routes an app marks slow (a login's Argon2id hash) and the store's
purge run here, off the event loop, at a lower CPU priority; each answer goes back to the loop,
which alone writes to sockets."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from typing import TYPE_CHECKING

from authcli.errors import StoreUnavailable
from authcli.server.transport.connection import answer, busy
from authcli.server.transport.limits import SLOW_WAIT, SlowQueue

if TYPE_CHECKING:
    from authcli.server.transport.connection import Shared

BUSY = "try again in a moment"
# How much lower the workers' CPU priority is than the loop's. At 5 the loop, when both want a
# core, gets three times a worker's share and preempts it on wake-up; 10 gave hashes a tenth and,
# on a machine busy with other work, logins slowed to a crawl (a flood is what the queue is for).
WORKER_NICE = 5


def _yield_to_the_loop() -> None:
    """Run this worker thread at a lower CPU priority than the loop (Linux: nice is per thread).
    A login flood keeps every worker hashing; at the same priority, the loop then waited for a
    core behind them and every client's quick request with it. Elsewhere: nothing to do."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):
        pass


class Workers:
    """The queue of slow requests and the threads that answer them: a part of Loop (which owns
    the connections and provides _answered_one, _serve and wake)."""

    shared: Shared
    slow: SlowQueue
    done: queue.SimpleQueue
    _wake_r: socket.socket
    _purging: bool

    def work(self) -> None:
        """A worker thread: answers slow requests and hands the bytes back to the loop."""
        _yield_to_the_loop()
        while (item := self.slow.get()) is not None:
            queued, (conn, request) = item
            if conn is None:  # housekeeping: a store purge
                self._purge(request)
                continue
            if conn.closed:  # the client hung up while it waited
                self.shared.dropped += 1
                continue
            late = time.monotonic() - queued > SLOW_WAIT
            response = busy(f"Busy: waited over {SLOW_WAIT:g} s for a password check; {BUSY}") if late else None
            self.done.put((conn, *answer(self.shared, conn, request, response)))
            self.wake()

    def _purge(self, store) -> None:
        try:
            store.purge()
        except StoreUnavailable:
            pass  # the store is away: requests say so with 503s, and the next purge tries again
        except Exception:
            self.shared.handler_errors += 1
        finally:
            self._purging = False

    def _finish_slow(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass
        while True:
            try:
                conn, data, keep = self.done.get_nowait()
            except queue.Empty:
                return
            if conn.closed:
                continue
            conn.busy = False
            self._answered_one(conn, data, keep)
            self._serve(conn)  # writes it, and goes on to a pipelined request already here
