"""The loop's clock: every TICK it closes connections that stalled or sat idle past the
request timeout, and about once a second hands the store's purge to a worker."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from authcli.server.transport.connection import Connection, Shared
    from authcli.server.transport.limits import SlowQueue

TICK = 0.25          # how often a loop checks deadlines
PURGE_EVERY = 1.0    # how often a store is asked to drop expired records


class Watchdog:
    """Deadlines and housekeeping: a part of Loop (which provides _close)."""

    shared: Shared
    conns: set[Connection]
    slow: SlowQueue
    _next_purge: float
    _purging: bool
    _keep_streams_alive: Callable[[float], None]

    def _tick(self) -> None:
        """Close connections that have not finished a request, or sat idle, for request_timeout;
        one loop also lets the store drop what expired."""
        now = time.monotonic()
        deadline = now - self.shared.request_timeout
        for conn in [c for c in self.conns if c.since < deadline and not c.busy and c.stream is None]:
            self._close(conn)
        self._keep_streams_alive(now)
        store = self.shared.app.store
        if store is not None and now >= self._next_purge and not self._purging:
            self._next_purge = now + PURGE_EVERY
            self._purging = True  # a worker does it: 200,000 expired sessions take ~0.3 s
            self.slow.put_housekeeping((None, store))
