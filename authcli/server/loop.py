"""The event loop: one thread reads every connection, a few worker threads answer.

Idle keep-alive connections cost a socket and a parser, never a thread, so a classroom of
hundreds of laptops fits; a half-sent request holds nothing but its bytes until the watchdog
closes it. A request is handed to a worker only once h11 has parsed all of it, and its
connection reads nothing more until the answer is written: one request in, one answer out.
"""

from __future__ import annotations

import queue
import selectors
import socket
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
SEND_TIMEOUT = 5.0
LINGER = 1.0         # after a refusal, read and drop the rest of the request this long
TICK = 0.25          # how often the loop checks deadlines
PURGE_EVERY = 1.0    # how often a store is asked to drop expired records


class Connection:
    """One client socket, its parser and its deadline."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int]):
        self.sock = sock
        self.peer = peer
        self.reader = Reader()
        self.busy = False          # a worker owns it: the loop neither reads nor reaps it
        self.draining = False      # refused: what the client still sends is read and dropped
        self.closed = False
        self.since = time.monotonic()  # when it opened, went idle, or began a request


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


class Loop:
    """The event loop and its workers; AuthServer starts and stops it."""

    def __init__(self, listener: socket.socket, app: App, journal: Journal, request_timeout: float):
        self.listener = listener
        self.app = app
        self.journal = journal
        self.request_timeout = request_timeout
        self.handler_errors = 0
        self.selector = selectors.DefaultSelector()
        self.connections: dict[socket.socket, Connection] = {}
        self.lock = threading.Lock()
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.resumed: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (listener, self._wake_r, self._wake_w):
            sock.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, "listener")
        self.selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._next_purge = time.monotonic() + PURGE_EVERY

    # --- the loop thread ----------------------------------------------------------------------

    def run(self) -> None:
        next_tick = time.monotonic() + TICK
        while not self.stopping:
            for key, _ in self.selector.select(timeout=TICK):
                if key.data == "listener":
                    self._accept()
                elif key.data == "wake":
                    self._drain_wake()
                else:
                    self._read(key.data)
            if time.monotonic() >= next_tick:
                self._reap()
                next_tick = time.monotonic() + TICK
        self._shut_everything()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, or the listener is closing
                return
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if len(self.connections) >= MAX_CONNECTIONS:
                self._send_raw(sock, refusal(503, "Too many connections: try again in a moment"))
                sock.close()
                continue
            conn = Connection(sock, tuple(address[:2]))
            with self.lock:
                self.connections[sock] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
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
        try:
            conn.reader.feed(data)
            request = conn.reader.next_request()
        except HttpError as err:
            self._refuse(conn, err)
            return
        if request is None:
            return
        self.selector.unregister(conn.sock)
        conn.busy = True
        self.jobs.put((conn, request))

    def _refuse(self, conn: Connection, err: HttpError) -> None:
        """Answer once and stop reading requests. Closing at once, with the client's bytes still
        unread, would reset the connection and lose the answer: so the rest is drained first
        (a lingering close, as nginx does), for at most LINGER seconds."""
        if not err.status:
            self._close(conn)
            return
        request = conn.reader.request or Request("-", "-", "-", [])
        self.journal.record(RequestRecord(request, err.status, [Refused(err.message)], conn.peer))
        if not self._send_raw(conn.sock, refusal(err.status, err.message)):
            self._close(conn)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.draining = True
        conn.since = time.monotonic() - self.request_timeout + LINGER

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            try:
                conn = self.resumed.get_nowait()
            except queue.Empty:
                return
            if conn.closed:
                continue
            conn.busy = False
            self.selector.register(conn.sock, selectors.EVENT_READ, conn)
            leftover = conn.reader.leftover()
            conn.reader = Reader()
            if leftover:  # the next request was already here (pipelining)
                self._feed(conn, leftover)

    def _reap(self) -> None:
        """Close connections that have not finished a request, or sat idle, for request_timeout."""
        now = time.monotonic()
        deadline = now - self.request_timeout
        stale = [c for c in list(self.connections.values()) if not c.busy and c.since < deadline]
        for conn in stale:
            self._close(conn)
        store = self.app.store
        if store is not None and now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY
            self.jobs.put((None, store.purge))

    def _close(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        if not conn.busy:
            try:
                self.selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        with self.lock:
            self.connections.pop(conn.sock, None)
        try:
            conn.sock.close()
        except OSError:
            pass

    def _shut_everything(self) -> None:
        with self.lock:
            conns = list(self.connections.values())
        for conn in conns:
            if conn.busy:  # its worker sees the shutdown when it writes, and closes it
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self._close(conn)
        self.selector.close()
        for sock in (self.listener, self._wake_r, self._wake_w):
            sock.close()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # already awake
        except OSError:
            pass  # stopped

    # --- worker threads -----------------------------------------------------------------------

    def work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            conn, request = job
            if conn is None:  # housekeeping (a store purge)
                try:
                    request()
                except Exception:
                    self.handler_errors += 1
                continue
            self._answer(conn, request)

    def _answer(self, conn: Connection, request: Request) -> None:
        response = respond(self.app, request)
        keep = keeps_alive(request, response) and not self.stopping
        # Recorded before the bytes go out, so a client that reads the journal after its
        # response always finds this request there.
        self.journal.record(RequestRecord(request, response.status, response.events, conn.peer))
        try:
            data = encode(response, head_only=request.method == "HEAD", keep_alive=keep,
                          http10=request.http_version == "HTTP/1.0")
        except (ValueError, UnicodeError) as err:
            self.handler_errors += 1
            data = refusal(500, "Internal server error")
            self.journal.record(RequestRecord(request, 500, [Bug(repr(err))], conn.peer))
            keep = False
        if self._send_raw(conn.sock, data) and keep:
            conn.since = time.monotonic()
            self.resumed.put(conn)
            self.wake()
        else:
            self._close_owned(conn)

    def _close_owned(self, conn: Connection) -> None:
        """Close a connection a worker owns (it is not registered with the selector)."""
        conn.closed = True
        with self.lock:
            self.connections.pop(conn.sock, None)
        try:
            conn.sock.close()
        except OSError:
            pass

    def _send_raw(self, sock: socket.socket, data: bytes) -> bool:
        """Write all of `data`: usually one non-blocking send; a slow reader gets SEND_TIMEOUT."""
        try:
            sent = sock.send(data)
            if sent < len(data):
                sock.settimeout(SEND_TIMEOUT)
                try:
                    sock.sendall(data[sent:])
                finally:
                    sock.setblocking(False)
            return True
        except (BlockingIOError, InterruptedError):
            return self._send_raw_blocking(sock, data)
        except OSError:  # the client went away: normal, never a traceback
            self.handler_errors += 1
            return False

    def _send_raw_blocking(self, sock: socket.socket, data: bytes) -> bool:
        try:
            sock.settimeout(SEND_TIMEOUT)
            sock.sendall(data)
            sock.setblocking(False)
            return True
        except OSError:
            self.handler_errors += 1
            return False
