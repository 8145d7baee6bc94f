"""The loop's front door: accepting connections within the limits (limits.py), turning the rest
away readably, and resting when out of file descriptors (TLS: tlsdoor.py)."""

from __future__ import annotations

import errno
import selectors
import socket
import time
from typing import TYPE_CHECKING

from authcli.server.transport.connection import Connection
from authcli.events import Refused
from authcli.server.journal import Request, RequestRecord
from authcli.server.transport.limits import ACCEPT_BACKOFF, PER_ADDRESS
from authcli.server.transport.wire import refusal

if TYPE_CHECKING:
    from authcli.server.transport.connection import Shared
    from authcli.server.transport.limits import Addresses

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
# With 1,000 busy clients one pass over the ready connections takes ~100 ms; a fresh client
# would wait that long to be accepted. The listener is tried again every ACCEPT_EVERY answers.
ACCEPT_EVERY = 32
ACCEPT_BATCH = 1024  # the listen backlog (httpd.BACKLOG)
# No address holds more than 1/SHARE of the server. PER_ADDRESS alone assumed 4,096 descriptors:
# under a hard limit of 256 (capacity 192) one address could hold every connection, and class
# pages (SSE streams: never idle, never timed out) kept them, locking out the rest of the room.
SHARE = 4


class Doors:
    """Accepting connections: a part of Loop (which owns the selector and every connection, and
    provides _event, _send, _settle, _set_mask and _close)."""

    listener: socket.socket
    shared: Shared
    selector: selectors.BaseSelector
    addresses: Addresses
    conns: set[Connection]
    capacity: int
    lingering: int
    max_lingering: int
    _answered: int
    _resume_accept: float

    def _accept_now_and_then(self) -> None:
        if self._answered >= ACCEPT_EVERY:
            self._answered = 0
            self._accept()

    def _accept(self) -> None:
        if self._resume_accept:
            return
        # Everything waiting, up to a backlog's worth: a client opening connections as fast as it
        # can keeps the kernel's accept queue full, and a fresh client's SYN finding it full is
        # dropped (retried after 1 s, then 3 s). Draining it each time keeps room for that SYN.
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                if err.errno in OUT_OF_FILES:
                    self._out_of_files()
                    return
                continue  # ECONNABORTED and the like: that client gave up already
            if self.shared.stopping:
                sock.close()
            else:
                self._adopt(sock, address)

    def _out_of_files(self) -> None:
        """EMFILE: the listener stays readable, and selecting it again at once would spin a core
        accepting no one. It rests ACCEPT_BACKOFF, and the oldest idle connection makes room."""
        self.shared.out_of_files += 1
        victim = self.addresses.evictable()
        if victim is not None:
            self._close(victim)
        self.selector.unregister(self.listener)
        self._resume_accept = time.monotonic() + ACCEPT_BACKOFF

    def _adopt(self, sock: socket.socket, address: tuple) -> None:
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, tuple(address[:2]))
        if self.addresses.count(conn.key) >= min(PER_ADDRESS, max(1, self.capacity // SHARE)):
            victim, full = self.addresses.oldest_idle(conn.key), "from your address"
        elif self.addresses.total >= self.capacity:
            victim, full = self.addresses.evictable(), "on this server"
        else:
            victim = full = None
        if full and victim is None:
            self._turn_away(conn, full)
            return
        if victim is not None:
            self._close(victim)  # the least recently used idle one: its client just reconnects
        self.addresses.add(conn.key, conn)
        self.shared.open = self.addresses.total
        self.conns.add(conn)
        conn.tls_pending = self.shared.tls is not None
        self._set_mask(conn, READ)
        self._event(conn, READ)  # the request usually came with the connection: answer it now

    def _turn_away(self, conn: Connection, where: str) -> None:
        """503 with Retry-After, readable: written, the write side shut, the request drained
        (closing with it unread would reset the connection and lose the answer)."""
        message = f"Too many connections {where}: try again in a moment"
        self.shared.journal.record(RequestRecord(Request("-", "-", "-", []), 503, [Refused(message)], conn.peer))
        if self.shared.tls is not None or self.lingering >= self.max_lingering:
            conn.sock.close()  # TLS cannot carry it before a handshake; too many lingering already
            return
        conn.turned_away = True
        self.lingering += 1
        self.conns.add(conn)
        conn.outbox += refusal(503, message, [("Retry-After", "1")])
        conn.close_after = conn.linger_after = True
        self._send(conn)
        self._settle(conn)

