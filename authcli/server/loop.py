"""The event loop: one thread owns every connection from accept to close; workers take slow routes.

The loop reads a connection until h11 has parsed a whole request, answers it and writes the
answer without blocking; only then does it read that connection again: one request in, one
answer out. Idle keep-alive connections cost a socket and a parser, never a thread, so a
classroom of hundreds of laptops fits; a half-sent request holds nothing but its bytes until
the watchdog closes it.

Why one loop: under the GIL, more threads answering the same quick requests only take turns
(measured: 9,000 req/s with one loop, 5,100 with four). The routes an app marks slow (a login's
50 ms scrypt) go to a few worker threads instead, so they never stall the loop; their answer
comes back to the loop to be written.
"""

from __future__ import annotations

import queue
import selectors
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING

from authcli.errors import HttpError, Saturated, StoreUnavailable
from authcli.server.events import Bug, Refused, StoreFailed
from authcli.server.journal import Journal, Request, RequestRecord, Response
from authcli.server.wire import Reader, encode, keeps_alive, refusal

if TYPE_CHECKING:
    from authcli.server.httpd import App

MAX_CONNECTIONS = 4096
# With 1,000 busy clients one pass over the ready connections takes ~100 ms; a fresh client
# would wait that long to be accepted. The listener is tried again every ACCEPT_EVERY answers.
ACCEPT_EVERY = 32
LINGER = 1.0         # after a refusal, read and drop the rest of the request this long
TICK = 0.25          # how often a loop checks deadlines
PURGE_EVERY = 1.0    # how often a store is asked to drop expired records
TLS_HANDSHAKE = 0x16  # the first byte of every TLS connection: a handshake record
# A non-blocking TLS socket that needs the other direction first: try again when it is ready.
TLS_WAIT = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Connection:
    """One client socket, its parser, what is still to be written, and its deadline."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int]):
        self.sock = sock
        self.peer = peer
        self.reader = Reader()
        self.busy = False          # a worker is answering it: not read, not reaped
        self.outbox = b""          # an answer the socket did not take at once
        self.close_after = False   # close once the outbox is written
        self.draining = False      # refused: what the client still sends is read and dropped
        self.closed = False
        self.since = time.monotonic()  # when it opened, went idle, or began a request
        self.tls_pending = False   # HTTPS: the first bytes decide (TLS handshake or plain HTTP)
        self.handshaking = False   # HTTPS: wrapped, handshake in progress


def respond(app: App, request: Request) -> Response:
    try:
        return app.handle(request)
    except HttpError as err:
        return Response(err.status or 400, err.message + "\n", events=[Refused(err.message)])
    except (StoreUnavailable, Saturated) as err:
        what = "Session store unavailable" if isinstance(err, StoreUnavailable) else "Busy"
        return Response(503, f"{what}: {err}\n", [("Retry-After", "1")], [StoreFailed(str(err))])
    except Exception as err:  # a bug must not kill the server; it is recorded, not hidden
        return Response(500, "Internal server error\n", events=[Bug(repr(err))], close=True)


class Shared:
    """What the loop and its workers share: the app, the journal, the counters."""

    def __init__(self, app: App, journal: Journal, request_timeout: float,
                 tls: ssl.SSLContext | None = None):
        self.app = app
        self.tls = tls
        self.journal = journal
        self.request_timeout = request_timeout
        self.lock = threading.Lock()
        self.open = 0
        self.handler_errors = 0
        self.stopping = False


def answer(shared: Shared, conn: Connection, request: Request) -> tuple[bytes, bool]:
    """Run the app on one request: the bytes to write, and whether the connection stays open."""
    response = respond(shared.app, request)
    keep = keeps_alive(request, response) and not shared.stopping
    # Recorded before the bytes go out, so a client that reads the journal after its
    # response always finds this request there.
    shared.journal.record(RequestRecord(request, response.status, response.events, conn.peer))
    try:
        return encode(response, head_only=request.method == "HEAD", keep_alive=keep,
                      http10=request.http_version == "HTTP/1.0"), keep
    except (ValueError, UnicodeError) as err:
        shared.handler_errors += 1
        shared.journal.record(RequestRecord(request, 500, [Bug(repr(err))], conn.peer))
        return refusal(500, "Internal server error"), False


class Loop:
    """The selector, every connection, the listener, and the queue of slow requests."""

    def __init__(self, listener: socket.socket, shared: Shared):
        self.listener = listener
        self.shared = shared
        self.slow: queue.SimpleQueue = queue.SimpleQueue()   # (conn, request) for the workers
        self.done: queue.SimpleQueue = queue.SimpleQueue()   # (conn, bytes, keep) back from them
        self.selector = selectors.DefaultSelector()
        self.connections: dict[socket.socket, Connection] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, "listener")
        self.selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._next_purge = time.monotonic() + PURGE_EVERY
        self._purging = False

    def run(self) -> None:
        next_tick = time.monotonic() + TICK
        while not self.shared.stopping:
            for n, (key, mask) in enumerate(self.selector.select(timeout=TICK)):
                if n % ACCEPT_EVERY == ACCEPT_EVERY - 1:
                    self._accept()
                if key.data == "listener":
                    self._accept()
                elif key.data == "wake":
                    self._finish_slow()
                else:
                    if mask & selectors.EVENT_WRITE:
                        self._flush(key.data)
                    else:
                        self._read(key.data)
            if time.monotonic() >= next_tick:
                self._tick()
                next_tick = time.monotonic() + TICK
        for conn in list(self.connections.values()):
            self._close(conn)  # workers never touch sockets: closing a busy one is safe
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # already awake, or stopped

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, address = self.listener.accept()
            except OSError:  # nothing more waiting, or out of file descriptors
                return
            if not self.shared.stopping:
                self._adopt(sock, address)
            else:
                sock.close()

    def _adopt(self, sock: socket.socket, address: tuple) -> None:
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.shared.lock:
            full = self.shared.open >= MAX_CONNECTIONS
            if not full:
                self.shared.open += 1
        if full:
            try:
                sock.send(refusal(503, "Too many connections: try again in a moment"))
            except OSError:
                pass
            sock.close()
            return
        conn = Connection(sock, tuple(address[:2]))
        conn.tls_pending = self.shared.tls is not None
        self.connections[sock] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)
        self._read(conn)  # the request usually came with the connection: answer it now

    def _start_tls(self, conn: Connection) -> None:
        """HTTPS: a TLS hello gets the handshake; plain HTTP gets one plain answer saying so."""
        try:
            first = conn.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            first = b""
        if not first:
            self._close(conn)
            return
        conn.tls_pending = False
        if first[0] != TLS_HANDSHAKE:
            self._refuse(conn, HttpError(400, "This port speaks HTTPS: use https:// (plain HTTP "
                                              "would send cookies and tokens readable on the wire)"))
            return
        self.selector.unregister(conn.sock)
        del self.connections[conn.sock]
        conn.sock = self.shared.tls.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        self.connections[conn.sock] = conn
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.handshaking = True
        self._handshake(conn)

    def _handshake(self, conn: Connection) -> None:
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
            return
        except ssl.SSLWantWriteError:
            self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
            return
        except (ssl.SSLError, OSError):  # a client that does not trust the CA, or not TLS at all
            self._close(conn)
            return
        conn.handshaking = False
        self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
        self._read(conn)  # the request may have come with the handshake's last flight

    def _read(self, conn: Connection) -> None:
        if conn.tls_pending:
            self._start_tls(conn)
            return
        if conn.handshaking:
            self._handshake(conn)
            return
        try:
            data = conn.sock.recv(65536)
            while isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending():
                data += conn.sock.recv(65536)  # decrypted bytes the selector cannot see
        except (BlockingIOError, InterruptedError, *TLS_WAIT):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)  # a half-sent request is owed no answer
            return
        if conn.draining:
            return
        if conn.reader.head is not None and not conn.reader.head:
            conn.since = time.monotonic()  # the first byte of a request starts its clock
        self._feed(conn, data)

    def _feed(self, conn: Connection, data: bytes) -> None:
        while True:
            try:
                conn.reader.feed(data)
                request = conn.reader.next_request()
            except HttpError as err:
                self._refuse(conn, err)
                return
            if request is None:
                return
            if not self._answer(conn, request):
                return
            data = conn.reader.leftover()  # the next request, when it came in the same packet
            conn.reader = Reader()
            if not data:
                return

    def _answer(self, conn: Connection, request: Request) -> bool:
        """Answer one request; True when the connection stays open and may read the next."""
        request.peer = conn.peer  # a classroom server shows its journal to this machine only
        if self.shared.app.slow(request):
            self.selector.unregister(conn.sock)
            conn.busy = True
            self.slow.put((conn, request))
            return False
        data, keep = answer(self.shared, conn, request)
        conn.since = time.monotonic()
        conn.close_after = not keep
        return self._write(conn, data)

    def work(self) -> None:
        """A worker thread: answers slow requests and hands the bytes back to the loop."""
        while (job := self.slow.get()) is not None:
            conn, request = job
            if conn is None:  # housekeeping: a store purge
                self._purge(request)
                continue
            self.done.put((conn, *answer(self.shared, conn, request)))
            self.wake()

    def _purge(self, store) -> None:
        try:
            store.purge()
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
            self.selector.register(conn.sock, selectors.EVENT_READ, conn)
            conn.since = time.monotonic()
            conn.close_after = conn.close_after or not keep
            if self._write(conn, data):
                self._next(conn)

    def _next(self, conn: Connection) -> None:
        """The answer is written: read the next request, which may already be here (pipelining)."""
        leftover = conn.reader.leftover()
        conn.reader = Reader()
        if leftover:
            self._feed(conn, leftover)

    def _write(self, conn: Connection, data: bytes) -> bool:
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError, *TLS_WAIT):
            sent = 0
        except OSError:  # the client went away: normal, never a traceback
            self.shared.handler_errors += 1
            self._close(conn)
            return False
        if sent < len(data):  # a slow reader: wait until it can take the rest, read nothing
            conn.outbox = data[sent:]
            self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
            return False
        if conn.close_after:
            self._close(conn)
            return False
        return True

    def _flush(self, conn: Connection) -> None:
        if conn.handshaking:
            self._handshake(conn)
            return
        data, conn.outbox = conn.outbox, b""
        self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
        if self._write(conn, data):
            self._next(conn)

    def _refuse(self, conn: Connection, err: HttpError) -> None:
        """Answer once and stop reading requests. Closing at once, with the client's bytes still
        unread, would reset the connection and lose the answer: so the rest is drained first
        (a lingering close, as nginx does), for at most LINGER seconds."""
        if not err.status:
            self._close(conn)
            return
        request = conn.reader.request or Request("-", "-", "-", [])
        self.shared.journal.record(RequestRecord(request, err.status, [Refused(err.message)], conn.peer))
        try:
            conn.sock.send(refusal(err.status, err.message))  # a few hundred bytes: one send
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.draining = True
        conn.since = time.monotonic() - self.shared.request_timeout + LINGER

    def _tick(self) -> None:
        """Close connections that have not finished a request, or sat idle, for request_timeout;
        one loop also lets the store drop what expired."""
        now = time.monotonic()
        deadline = now - self.shared.request_timeout
        for conn in [c for c in self.connections.values() if c.since < deadline and not c.busy]:
            self._close(conn)
        store = self.shared.app.store
        if store is not None and now >= self._next_purge and not self._purging:
            self._next_purge = now + PURGE_EVERY
            self._purging = True  # a worker does it: 200,000 expired sessions take ~0.3 s
            self.slow.put((None, store))

    def _close(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        if not conn.busy:
            try:
                self.selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        self.connections.pop(conn.sock, None)
        with self.shared.lock:
            self.shared.open -= 1
        try:
            conn.sock.close()
        except OSError:
            pass
