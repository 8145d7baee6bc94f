"""The event loop: one thread owns every connection from accept to close; workers take slow routes.

Each turn the loop selects, reads what is ready, then answers at most PER_TURN requests per
connection and writes each connection's answers in one send: a client pipelining thousands of
requests gets its share of the loop, not the loop. What one connection may hold is bounded: at
most RECV bytes received and not yet parsed (nothing more is read meanwhile), and no new request
is parsed while OUTBOX_LIMIT bytes of its answers are unsent (a client that does not read its
answers stops being read). Idle keep-alive connections cost a socket and a parser, never a
thread; limits.py says how many one address may hold.

Why one loop: under the GIL, more threads answering the same quick requests only take turns
(measured: 9,000 req/s with one loop, 5,100 with four). The routes an app marks slow (a login's
Argon2id hash) wait in a bounded, per-address queue for a few worker threads instead, so they
never stall the loop; their answer comes back to the loop to be written.
"""

from __future__ import annotations

import queue
import selectors
import socket
import ssl
import time

from authcli.errors import HttpError
from authcli.server.transport.connection import Connection, Shared, answer, busy, respond
from authcli.server.transport.doors import READ, WRITE, Doors
from authcli.events import Refused
from authcli.server.journal import Request, RequestRecord
from authcli.server.transport.limits import MAX_CONNECTIONS, MAX_LINGERING, Addresses, SlowQueue, descriptor_budget
from authcli.server.transport.stream import Streams
from authcli.server.transport.tlsdoor import TlsDoor
from authcli.server.transport.watchdog import PURGE_EVERY, TICK, Watchdog
from authcli.server.transport.wire import CONTINUE, Reader, refusal
from authcli.server.transport.workers import BUSY, Workers

__all__ = ["MAX_CONNECTIONS", "Loop", "Shared", "answer", "respond"]

# Requests answered per connection per turn. Browsers and wrk never pipeline, so they are not
# slowed; a pipelining client gets 4 answers per select (spreading the select's cost), and a
# turn with 100 such clients is still only ~25 ms of answers.
PER_TURN = 4
# Requests answered per client address per turn, over all its connections: a client flooding
# from 200 connections at once got 200 answers a turn, and everyone else's turn waited for them.
# 16 a turn still answers a NAT'ed class thousands a second (a turn without a flood is short).
PER_ADDRESS_TURN = 16
# Bytes read per recv, and so the most one connection holds received but not parsed: 16 KiB is
# a few hundred pipelined GETs, or a whole login body.
RECV = 16 * 1024
# Parsed a piece at a time: h11 copies what is left after each request, so feeding it 16 KiB of
# tiny pipelined requests at once would copy 16 KiB per request.
FEED = 2048
# Unsent answers one connection may have before the loop stops parsing its requests: a few
# ordinary answers, or one page of /attacker/log. A client that never reads costs this, not more.
OUTBOX_LIMIT = 64 * 1024
LINGER = 1.0         # after a refusal, read and drop the rest of the request this long
# A non-blocking TLS socket that needs the other direction first: try again when it is ready.
TLS_WAIT = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Loop(Doors, TlsDoor, Workers, Watchdog, Streams):
    """The selector and every connection, from the first byte to close. Its other jobs have
    modules of their own: accepting (doors.py), TLS (tlsdoor.py), the slow-request workers
    (workers.py), deadlines and the purge (watchdog.py), Server-Sent Events (stream.py)."""

    def __init__(self, listener: socket.socket, shared: Shared):
        self.listener = listener
        self.shared = shared
        self.slow = SlowQueue()                              # (conn, request) for the workers
        self.done: queue.SimpleQueue = queue.SimpleQueue()   # (conn, bytes, keep) back from them
        self.selector = selectors.DefaultSelector()
        self.conns: set[Connection] = set()
        self.addresses = Addresses()
        self.ready: dict[Connection, None] = {}  # received requests waiting for their next turn
        self._budget: dict = {}  # answers each address may still have this turn
        self.channels: dict = {}  # SSE channels with streams open on this loop
        self.capacity = descriptor_budget()
        self.max_lingering = min(MAX_LINGERING, max(1, self.capacity // 16))
        self.lingering = 0
        self._answered = 0
        self._resume_accept = 0.0  # out of descriptors: the listener rests until then
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        self.selector.register(listener, READ, "listener")
        self.selector.register(self._wake_r, READ, "wake")
        self._next_purge = time.monotonic() + PURGE_EVERY
        self._purging = False

    def run(self) -> None:
        next_tick = time.monotonic() + TICK
        while not self.shared.stopping:
            self._budget.clear()  # a new turn: every address may have PER_ADDRESS_TURN answers
            wake_at = min(next_tick, self._resume_accept or next_tick)  # the listener's rest, too
            wait = 0.0 if self.ready else max(0.0, wake_at - time.monotonic())
            for key, mask in self.selector.select(timeout=wait):
                if key.data == "listener":
                    self._accept()
                elif key.data == "wake":
                    self._finish_slow()
                    self._pump()
                else:
                    self._event(key.data, mask)
                self._accept_now_and_then()
            for conn in list(self.ready):
                if conn in self.ready:
                    self._serve(conn)
                    self._accept_now_and_then()
            now = time.monotonic()
            if self._resume_accept and now >= self._resume_accept:
                self._resume_accept = 0.0
                self.selector.register(self.listener, READ, "listener")
            if now >= next_tick:
                self._tick()
                next_tick = now + TICK
        for conn in list(self.conns):
            self._close(conn)  # workers never touch sockets: closing a busy one is safe
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # already awake, or stopped

    def _event(self, conn: Connection, mask: int) -> None:
        if conn.closed:
            return
        if conn.tls_pending:
            self._start_tls(conn)
        elif conn.handshaking:
            self._handshake(conn)
        else:
            if mask & WRITE:
                self._send(conn)
                self._serve(conn)  # answers written: the requests waiting behind them may go on
            if mask & READ and not conn.closed:
                self._receive(conn)

    def _receive(self, conn: Connection) -> None:
        if conn.pending:
            return  # a turn will come for what it already sent
        try:
            data = conn.sock.recv(RECV)
        except (BlockingIOError, InterruptedError, *TLS_WAIT):
            return
        except OSError:
            data = b""
        if conn.draining or conn.stream is not None:  # read and dropped: only its end matters
            if not data:
                self._close(conn)
            return
        if not data:
            self._hangup(conn)
            return
        if not conn.reader.started:
            conn.since = time.monotonic()  # the first byte of a request starts its clock
        conn.pending += data
        self._serve(conn)

    def _hangup(self, conn: Connection) -> None:
        """The client shut its side. A request still waiting for a worker is dropped (as Go's
        net/http cancels a request's context): no hash runs for no one. Requests already
        received are answered, then the connection closes."""
        if conn.busy:
            self._close(conn)
            return
        conn.eof = True
        self._settle(conn)

    def _parsable(self, conn: Connection) -> bool:
        return not (conn.busy or conn.closed or conn.close_after) and len(conn.outbox) < OUTBOX_LIMIT

    def _serve(self, conn: Connection) -> None:
        """Answer up to PER_TURN of the requests it sent (fewer when its address has used its turn:
        the rest wait in `ready`), then write their answers in one send."""
        served, budget = 0, self._budget.get(conn.key, PER_ADDRESS_TURN)
        while served < min(PER_TURN, budget) and self._parsable(conn) and conn.has_input():
            request = self._parse(conn)
            if request is None:
                break
            served += 1
            if not self._answer(conn, request):
                break
        self._budget[conn.key] = budget - served
        self._answered += served
        self._send(conn)
        self._settle(conn)

    def _parse(self, conn: Connection) -> Request | None:
        """The next whole request from what it sent, or None (more bytes needed, or refused)."""
        reader = conn.reader
        try:
            while True:
                request = reader.next_request()
                if request is not None:
                    conn.pending[0:0] = reader.leftover()  # the next request, already here
                    conn.reader = Reader()
                    return request
                if reader.continue_owed:  # the head is acceptable: ask for the body
                    reader.continue_owed = False
                    conn.outbox += CONTINUE
                if not conn.pending and conn.has_input():  # TLS: decrypted, not yet taken
                    conn.pending += conn.sock.recv(RECV)
                if not conn.pending:
                    return None
                chunk = bytes(conn.pending[:FEED])
                del conn.pending[:FEED]
                reader.feed(chunk)
        except (BlockingIOError, InterruptedError, *TLS_WAIT):
            return None
        except OSError:
            self._close(conn)
            return None
        except HttpError as err:
            self._refuse(conn, err)
            return None

    def _answer(self, conn: Connection, request: Request) -> bool:
        """Answer one request; True when the connection may go on to its next one."""
        request.peer = conn.peer  # a classroom server shows its journal to this machine only
        response = None
        if self.shared.app.slow(request):
            if self.slow.put(conn.key, (conn, request)):
                conn.busy = True
                return False
            response = busy(f"Busy: too many slow requests (password checks, token signing) are waiting; {BUSY}")
        data, keep = answer(self.shared, conn, request, response)
        self._answered_one(conn, data, keep)
        return keep

    def _answered_one(self, conn: Connection, data: bytes, keep: bool) -> None:
        conn.outbox += data
        conn.since = time.monotonic()
        conn.close_after = conn.close_after or not keep
        self.addresses.used(conn.key, conn)
        if conn.stream is not None and conn not in conn.stream.streams:
            self._open_stream(conn)

    def _send(self, conn: Connection) -> None:
        if not conn.outbox or conn.closed:
            return
        try:
            sent = conn.sock.send(conn.outbox)
        except (BlockingIOError, InterruptedError, *TLS_WAIT):
            return
        except OSError:  # the client went away: normal, never a traceback
            self.shared.handler_errors += 1
            self._close(conn)
            return
        del conn.outbox[:sent]
        if sent:
            conn.moved = time.monotonic()

    def _settle(self, conn: Connection) -> None:
        """After anything happened to it: close it, linger, or say what it waits for."""
        if conn.closed:
            return
        if not conn.outbox and not conn.busy and not conn.draining:
            if conn.linger_after:
                self._linger(conn)
            elif (conn.close_after and conn.stream is None) or (conn.eof and not conn.has_input()):
                self._close(conn)
            if conn.closed:
                return
        if self._parsable(conn) and conn.has_input():
            self.ready[conn] = None
        else:
            self.ready.pop(conn, None)
        reading = conn.draining or conn.stream is not None or not (
            conn.eof or conn.pending or conn.close_after or len(conn.outbox) >= OUTBOX_LIMIT)
        self._set_mask(conn, (READ if reading else 0) | (WRITE if conn.outbox else 0))

    def _set_mask(self, conn: Connection, mask: int) -> None:
        if mask == conn.mask:
            return
        try:
            if not mask:
                self.selector.unregister(conn.sock)
            elif not conn.mask:
                self.selector.register(conn.sock, mask, conn)
            else:
                self.selector.modify(conn.sock, mask, conn)
        except (KeyError, ValueError, OSError):
            pass
        conn.mask = mask

    def _refuse(self, conn: Connection, err: HttpError) -> None:
        """Answer once and stop reading requests: the answer is queued behind any earlier ones,
        then the connection lingers (see _linger)."""
        if not err.status:
            self._close(conn)
            return
        request = conn.reader.request or Request("-", "-", "-", [])
        self.shared.journal.record(RequestRecord(request, err.status, [Refused(err.message)], conn.peer))
        conn.outbox += refusal(err.status, err.message)
        conn.pending.clear()
        conn.close_after = conn.linger_after = True

    def _linger(self, conn: Connection) -> None:
        """Closing at once, with the client's bytes still unread, would reset the connection and
        lose the answer: the write side is shut and the rest drained first (a lingering close, as
        nginx does), for at most LINGER seconds."""
        conn.linger_after = False
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.draining = True
        conn.since = time.monotonic() - self.shared.request_timeout + LINGER

    def _close(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        if conn.stream is not None:
            conn.stream.streams.pop(conn, None)
        self._set_mask(conn, 0)
        self.ready.pop(conn, None)
        self.conns.discard(conn)
        if conn.turned_away:
            self.lingering -= 1
        else:
            self.addresses.remove(conn.key, conn)
            self.shared.open = self.addresses.total
        try:
            conn.sock.close()
        except OSError:
            pass
