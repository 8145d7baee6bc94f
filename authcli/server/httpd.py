"""The tiny HTTP/1.1 server: a background thread on 127.0.0.1, a journal of requests, clean stop."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Callable, Protocol

from authcli import __version__
from authcli.errors import HttpError, ServerStartError, StoreUnavailable
from authcli.server.events import Bug, Refused, StoreFailed
from authcli.server.journal import Request, RequestRecord, Response

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore

MAX_BODY = 16 * 1024
JOURNAL_SIZE = 1000


class App(Protocol):
    """An auth scheme: turns a received request into a response plus events.

    `store` is the session store it keeps state in, or None for a stateless scheme.
    """

    store: SessionStore | None

    def handle(self, request: Request) -> Response: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"authcli/{__version__}"
    sys_version = ""
    # Without it every keep-alive request waits ~40 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the server records events; only the CLI prints."""

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok and not hasattr(self, "do_" + self.command):
            # Any method reaches the router, which answers 405 with Allow instead of a 501.
            # (Not __getattr__: a class with one takes CPython's slow path on every attribute.)
            setattr(self, "do_" + self.command, self._dispatch)
        return ok

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        command = getattr(self, "command", None) or "-"
        target = getattr(self, "path", None) or "-"
        request = Request(command, target, getattr(self, "request_version", "-"), [])
        self.server.record(RequestRecord(request, code, [Refused(message or "malformed request")],
                                         self.client_address[:2]))
        super().send_error(code, message, explain)

    def _dispatch(self) -> None:
        """Every method goes through here."""
        headers = list(self.headers.items())
        request = Request(self.command, self.path, self.request_version, headers)
        try:
            request.body = self._read_body(headers)
        except HttpError as refusal:
            if refusal.status:
                self._send(request, Response(refusal.status, refusal.message + "\n", close=True,
                                             events=[Refused(refusal.message)]))
            else:
                self.close_connection = True
            return
        try:
            response = self.server.app.handle(request)
        except HttpError as err:
            response = Response(err.status or 400, err.message + "\n", events=[Refused(err.message)])
        except StoreUnavailable as err:
            response = Response(503, f"Session store unavailable: {err}\n",
                                [("Retry-After", "1")], [StoreFailed(str(err))])
        except Exception as err:  # a bug must not kill the server; it is recorded, not hidden
            response = Response(500, "Internal server error\n", events=[Bug(repr(err))], close=True)
        self._send(request, response)

    def _read_body(self, headers: list[tuple[str, str]]) -> bytes:
        hosts, lengths, chunked = 0, [], False
        for name, value in headers:  # one pass; email.Message.get_all walks the list each call
            lname = name.lower()
            if lname == "host":
                hosts += 1
            elif lname == "content-length":
                lengths.append(value)
            elif lname == "transfer-encoding":
                chunked = True
        if self.request_version == "HTTP/1.1" and hosts != 1:
            raise HttpError(400, "An HTTP/1.1 request needs exactly one Host header")
        if chunked:
            raise HttpError(411, "Send the body with Content-Length (chunked bodies are not supported)")
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not lengths[0].strip().isdigit():
            raise HttpError(400, "Bad Content-Length")
        length = int(lengths[0])
        if length > MAX_BODY:
            raise HttpError(413, f"Body too large: {length} bytes, the limit is {MAX_BODY}")
        try:
            body = self.rfile.read(length)
        except OSError:  # the watchdog shut down a client that went quiet
            raise HttpError(0, "") from None
        if len(body) != length:
            raise HttpError(0, "")
        return body

    def _send(self, request: Request, response: Response) -> None:
        # Recorded before the bytes go out, so a client that reads the journal after its
        # response always finds this request there.
        self.server.record(RequestRecord(request, response.status, response.events, self.client_address[:2]))
        body = response.body.encode("utf-8")
        self.send_response(response.status)
        names = {k.lower() for k, _ in response.headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if response.close:
            self.send_header("Connection", "close")
        payload = body if request.method != "HEAD" else b""
        if self.request_version == "HTTP/0.9":  # no status line, no headers: just the body
            self.wfile.write(payload)
        else:
            # Headers and body leave in one write: one syscall and one packet, not two.
            self._headers_buffer.append(b"\r\n" + payload)
            self.flush_headers()
        self.server.touch(self.connection)


for _method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
    setattr(_Handler, "do_" + _method, _Handler._dispatch)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close (after their sockets are shut down), never abandoned.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address, app: App, request_timeout: float,
                 on_record: Callable[[RequestRecord], None] | None):
        self.app = app
        self.request_timeout = request_timeout
        self.on_record = on_record
        self.journal: deque[RequestRecord] = deque(maxlen=JOURNAL_SIZE)
        self.recorded = 0
        self.handler_errors = 0
        self._lock = threading.Lock()
        # Each open connection and when it last finished a request (or opened).
        self._open: dict[socket.socket, float] = {}
        super().__init__(address, _Handler)

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self.journal.append(record)
            self.recorded += 1
        if self.on_record is not None:
            try:
                self.on_record(record)
            except Exception:  # an observer's failure must never cost the client its answer
                self.handler_errors += 1

    def touch(self, sock: socket.socket) -> None:
        self._open[sock] = time.monotonic()

    def process_request(self, request, client_address) -> None:
        with self._lock:
            self._open[request] = time.monotonic()
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # A client that vanished mid-response is normal; never print a traceback for it.
        self.handler_errors += 1

    def _close(self, sockets: list[socket.socket]) -> None:
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the handler's next read sees EOF and ends
            except OSError:
                pass

    def close_open_connections(self) -> None:
        with self._lock:
            sockets = list(self._open)
        self._close(sockets)

    def reap(self, stop: threading.Event) -> None:
        """Close connections that have not finished a request within request_timeout.

        Bounds how long a silent or half-finished client holds a thread. A watchdog instead of
        socket timeouts: settimeout() polls before every recv and SO_RCVTIMEO arms a kernel
        timer per read, each costing 15-20% of the requests/s (benchmarks/).
        """
        interval = min(0.25, self.request_timeout / 4)
        while not stop.wait(interval):
            deadline = time.monotonic() - self.request_timeout
            with self._lock:
                stale = [sock for sock, last in self._open.items() if last < deadline]
            self._close(stale)


class AuthServer:
    """Runs an auth scheme on a real socket in a background thread; use it as a context manager."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, *,
                 request_timeout: float = 10.0,
                 on_record: Callable[[RequestRecord], None] | None = None):
        self.app = app
        self._address = (host, port)
        self._request_timeout = request_timeout
        self._on_record = on_record
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> AuthServer:
        try:
            self._httpd = _Server(self._address, self.app, self._request_timeout, self._on_record)
        except OSError as err:
            host, port = self._address
            reason = "the port is in use" if err.errno == errno.EADDRINUSE else (err.strerror or str(err))
            raise ServerStartError(f"cannot listen on {host}:{port}: {reason}") from None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"authcli-server-{self.port}")
        self._stop_reaper = threading.Event()
        self._reaper = threading.Thread(target=self._httpd.reap, args=(self._stop_reaper,),
                                        name=f"authcli-reaper-{self.port}")
        self._thread.start()
        self._reaper.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        self._stop_reaper.set()
        self._reaper.join()
        httpd.close_open_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> AuthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _server(self) -> _Server:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return self._httpd

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def handler_errors(self) -> int:
        return self._server.handler_errors

    def mark(self) -> int:
        """A position in the journal; `records_since(mark)` returns what came after it."""
        return self._server.recorded

    def record_from(self, peer: tuple[str, int]) -> RequestRecord | None:
        """The newest record of a request from this client address. While that client's
        connection is open no other connection has its address, so under any concurrency this
        is the answer the client just read."""
        server = self._server
        with server._lock:
            return next((r for r in reversed(server.journal) if r.peer == peer), None)

    def records_since(self, mark: int) -> list[RequestRecord]:
        server = self._server
        with server._lock:
            count = min(server.recorded - mark, len(server.journal))
            return list(server.journal)[len(server.journal) - count:] if count > 0 else []
