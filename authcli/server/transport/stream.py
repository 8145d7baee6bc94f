"""Server-Sent Events: a response that stays open, and a channel any thread publishes on.

A route answers with `Response(..., stream=Stream(channel, owner, seq))`: its body is the first
events, and the connection then stays open, written only by the loop. `owner` names who opened
it (a student), so a route can refuse one more than its share (`Channel.open_for`): streams
never time out, so each is a connection held until it closes.

Every event is kept, in order, with an id (`run.seq`): a stream is sent each one after the last
it was sent, never only the newest. A teacher who reveals and asks the next question in the
same millisecond (piped input, a fast Enter) would otherwise replace the reveal before the loop
wrote it, and a phone would never see it. The channel keeps the last LOG events, so a device
that dropped reconnects with `Last-Event-ID` (EventSource sends it by itself) and gets what it
missed, in order. Nobody waits for anybody: `publish` returns at once, a stream that stops
reading is closed once its unsent bytes pass STREAM_LIMIT, or wait STREAM_STALL seconds without
moving (it reconnects and catches up from its id), and every KEEPALIVE seconds a comment line
keeps proxies and NATs from dropping a quiet one.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from authcli.server.transport.connection import Connection

KEEPALIVE = 15.0
STREAM_LIMIT = 64 * 1024  # unsent bytes a stream may hold (the loop's OUTBOX_LIMIT)
# Seconds a stream's unsent bytes may wait without one of them being taken: a phone asleep or
# gone. Without it, a stream given everything in one write (a teacher faster than the loop)
# never meets STREAM_LIMIT again and holds its connection and its bytes until the class ends.
STREAM_STALL = 30.0
# Events a channel keeps for reconnecting devices. A lesson publishes two or three per question
# (asked, revealed) and two per concept check: 256 is a whole lesson with room. At most 1.5 MB
# (a check's state, the largest, is about 6 KB); a lesson's are mostly under 1 KB.
LOG = 256
HEADERS = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store")]


def event(name: str, data: str, id: str = "") -> str:
    """One SSE event; each line of `data` its own `data:` field (a newline cannot end it early)."""
    lines = "".join(f"data: {line}\n" for line in data.replace("\r", "").split("\n"))
    return f"event: {name}\n" + (f"id: {id}\n" if id else "") + f"{lines}\n"


class Channel:
    """The events for every stream opened on it, in order. `streams` belongs to the loop thread."""

    def __init__(self, log: int = LOG) -> None:
        self._lock = threading.Lock()
        # A restarted server numbers from 1 again: an id from another run is not one of ours.
        self.run = secrets.token_hex(4)
        self._log: deque[tuple[int, bytes]] = deque(maxlen=log)
        self._seq = 0
        self._wakes: dict[Callable[[], None], None] = {}
        self.streams: dict[Connection, str] = {}  # open streams and their owners

    def open_for(self, owner: str) -> int:
        """Streams open for `owner` (on the loop thread, where routes run)."""
        return sum(1 for o in list(self.streams.values()) if o == owner)

    def publish(self, name: str, data: str) -> int:
        """Keep the event for every stream (from any thread, never waiting); its sequence number."""
        with self._lock:
            self._seq += 1
            self._log.append((self._seq, event(name, data, f"{self.run}.{self._seq}").encode("utf-8")))
            seq, wakes = self._seq, list(self._wakes)
        for wake in wakes:
            wake()
        return seq

    @property
    def latest(self) -> int:
        return self._seq

    def attach(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wakes[wake] = None

    def after(self, seq: int) -> tuple[bytes, int] | None:
        """The events after `seq` and the last one's number; None when the log no longer holds
        them all (they were more than LOG events ago)."""
        with self._lock:
            if seq >= self._seq:
                return b"", self._seq
            if not self._log or self._log[0][0] > seq + 1:
                return None
            start = seq + 1 - self._log[0][0]
            return b"".join(chunk for _, chunk in list(self._log)[start:]), self._seq

    def opening(self, last_id: str | None) -> tuple[bytes, int]:
        """The first events of a stream opening now: after `last_id` (a device that reconnects,
        `Last-Event-ID`) when it is one of ours and the log still holds what followed it, else
        the newest event alone (the state now); and the number of the last event in them."""
        seq = self._ours(last_id)
        if seq is not None:
            missed = self.after(seq)
            if missed is not None:
                return missed
        with self._lock:
            return (self._log[-1][1], self._seq) if self._log else (b"", self._seq)

    def _ours(self, last_id: str | None) -> int | None:
        run, dot, seq = (last_id or "").strip().partition(".")
        if not dot or run != self.run or not (seq.isascii() and seq.isdigit()) or len(seq) > 12:
            return None
        return int(seq) if int(seq) <= self._seq else None

    def backlog(self) -> bool:
        """Published and not yet written to every open stream's socket (read from any thread)."""
        return any(conn.stream_seq < self._seq or conn.outbox for conn in list(self.streams))


@dataclass(frozen=True)
class Stream:
    """What a route answers with to keep its connection open: the channel, who opened it, and
    the number of the last event its first body holds."""

    channel: Channel
    owner: str = ""
    seq: int = 0


class Streams:
    """The loop's side of SSE: a part of Loop (which provides wake, _send, _settle, _close)."""

    channels: dict[Channel, None]

    def _open_stream(self, conn: Connection) -> None:
        channel = conn.stream
        channel.attach(self.wake)
        channel.streams[conn] = conn.stream_owner
        self.channels[channel] = None
        conn.moved = time.monotonic()  # its first events begin to wait now
        conn.pending.clear()  # a stream takes no more requests: anything pipelined behind it is dropped
        if conn.stream_seq < channel.latest:
            self.wake()  # published while it opened, before the loop listened: the next turn sends it

    def _pump(self) -> None:
        """Write each open stream the events published since the last one it was given."""
        for channel in list(self.channels):
            newest = channel.latest
            missed: dict[int, tuple[bytes, int] | None] = {}  # streams at the same place share one join
            for conn in list(channel.streams):
                if conn.stream_seq >= newest:
                    continue
                if len(conn.outbox) > STREAM_LIMIT:
                    self._close(conn)  # it does not read: it will reconnect with its last id
                    continue
                if conn.stream_seq not in missed:
                    missed[conn.stream_seq] = channel.after(conn.stream_seq)
                found = missed[conn.stream_seq]
                if found is None:
                    self._close(conn)  # LOG events behind (a loop stalled for a lesson): reconnecting gets the state
                    continue
                chunk, conn.stream_seq = found
                if not conn.outbox:
                    conn.moved = time.monotonic()  # its bytes begin to wait now
                conn.outbox += chunk
                conn.since = time.monotonic()
                self._send(conn)
                self._settle(conn)

    def _keep_streams_alive(self, now: float) -> None:
        for channel in self.channels:
            for conn in list(channel.streams):
                if conn.outbox and now - conn.moved > STREAM_STALL:
                    self._close(conn)  # it stopped reading: it will reconnect with its last id
                elif now - conn.since > KEEPALIVE and not conn.outbox:
                    conn.outbox += b": keep-alive\n\n"
                    conn.since = conn.moved = now
                    self._send(conn)
                    self._settle(conn)
