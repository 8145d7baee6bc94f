"""Server-Sent Events: a response that stays open, and a channel any thread publishes on.

A route answers with `Response(..., stream=Stream(channel, owner))`: its body is the first
events (the state as it is now), and the connection then stays open, written only by the loop.
`owner` names who opened it (a student), so a route can refuse one more than its share
(`Channel.open_for`): streams never time out, so each is a connection held until it closes. `publish` may be
called from any thread; it keeps the newest chunk per event name until the loop takes it, so a
burst of 200 updates in a second costs one write per client, not 200, and a channel's backlog
is bounded by its number of event names. A client that stops reading is closed once its unsent
bytes pass STREAM_LIMIT: it reconnects (EventSource does by itself) and gets the
state again. Every KEEPALIVE seconds a comment line keeps proxies and NATs from dropping it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from authcli.server.transport.connection import Connection

KEEPALIVE = 15.0
STREAM_LIMIT = 64 * 1024  # unsent bytes a stream may hold (the loop's OUTBOX_LIMIT)
HEADERS = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store")]


def event(name: str, data: str) -> str:
    """One SSE event; each line of `data` its own `data:` field (a newline cannot end it early)."""
    lines = "".join(f"data: {line}\n" for line in data.replace("\r", "").split("\n"))
    return f"event: {name}\n{lines}\n"


class Channel:
    """The events for every stream opened on it. `streams` belongs to the loop thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, bytes] = {}
        self._wakes: dict[Callable[[], None], None] = {}
        self.streams: dict[Connection, str] = {}  # open streams and their owners

    def open_for(self, owner: str) -> int:
        """Streams open for `owner` (on the loop thread, where routes run)."""
        return sum(1 for o in list(self.streams.values()) if o == owner)

    def publish(self, name: str, data: str) -> None:
        chunk = event(name, data).encode("utf-8")
        with self._lock:
            if not self._wakes:
                return  # nobody listens yet: a stream opened later starts from the state itself
            self._pending.pop(name, None)  # the newest replaces, and goes last
            self._pending[name] = chunk
            wakes = list(self._wakes)
        for wake in wakes:
            wake()

    def attach(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wakes[wake] = None

    def backlog(self) -> bool:
        """Published and not yet taken by the loop."""
        with self._lock:
            return bool(self._pending)

    def take(self) -> bytes:
        with self._lock:
            chunk = b"".join(self._pending.values())
            self._pending.clear()
        return chunk


@dataclass(frozen=True)
class Stream:
    """What a route answers with to keep its connection open: the channel, and who opened it."""

    channel: Channel
    owner: str = ""


class Streams:
    """The loop's side of SSE: a part of Loop (which provides wake, _send, _settle, _close)."""

    channels: dict[Channel, None]

    def _open_stream(self, conn: Connection) -> None:
        channel = conn.stream
        channel.attach(self.wake)
        channel.streams[conn] = conn.stream_owner
        self.channels[channel] = None
        conn.pending.clear()  # a stream takes no more requests: anything pipelined behind it is dropped

    def _pump(self) -> None:
        """Write what was published since the last turn to every stream open on it."""
        for channel in list(self.channels):
            chunk = channel.take()
            if not chunk:
                continue
            for conn in list(channel.streams):
                if len(conn.outbox) > STREAM_LIMIT:
                    self._close(conn)  # it does not read: it will reconnect and get the state
                    continue
                conn.outbox += chunk
                conn.since = time.monotonic()
                self._send(conn)
                self._settle(conn)

    def _keep_streams_alive(self, now: float) -> None:
        for channel in self.channels:
            for conn in list(channel.streams):
                if now - conn.since > KEEPALIVE and not conn.outbox:
                    conn.outbox += b": keep-alive\n\n"
                    conn.since = now
                    self._send(conn)
                    self._settle(conn)
