"""The tiny HTTP/1.1 server: AuthServer binds, starts the event loop and workers, stops them.

Port 0 picks a free port; `stop()` returns at once (the loops are woken, not polled) and joins
every thread it started. The journal of requests is what the client and the balancer read.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Callable, Protocol

from authcli.errors import ServerStartError
from authcli.server.lab.crosssite import Site
from authcli.server.journal import Journal, Request, RequestRecord, Response, Ticket
from authcli.server.transport.loop import MAX_CONNECTIONS, Loop, Shared

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore

JOURNAL_SIZE = 1000
LOOPBACK = ("127.0.0.1", "::1", "localhost")
WORKERS = 4  # threads for the routes an app marks slow (a login's Argon2id); the loop is one more
BACKLOG = 1024


class App(Protocol):
    """An auth scheme: turns a received request into a response plus events.

    `store` is the session store it keeps state in, or None for a stateless scheme. `slow`
    says which requests may take long (a password hash, a network hop): workers answer those, the event
    loop answers the rest itself.
    """

    store: SessionStore | None

    def handle(self, request: Request) -> Response: ...

    def slow(self, request: Request) -> bool: ...


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as err:
        sock.close()
        reason = "the port is in use" if err.errno == errno.EADDRINUSE else (err.strerror or str(err))
        raise ServerStartError(f"cannot listen on {host}:{port}: {reason}") from None
    except (UnicodeError, ValueError) as err:  # a host name the IDNA codec refuses, a NUL in it
        sock.close()
        raise ServerStartError(f"cannot listen on {host[:100]}:{port}: not a usable address ({err})") from None
    return sock


def _raise_fd_limit() -> None:
    """A classroom needs more sockets than the usual soft limit of 1024 file descriptors."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, MAX_CONNECTIONS + 256) if hard != resource.RLIM_INFINITY else MAX_CONNECTIONS + 256
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


class AuthServer:
    """Runs an auth scheme on a real socket in background threads; use it as a context manager."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, *,
                 request_timeout: float = 10.0, workers: int = WORKERS,
                 on_record: Callable[[RequestRecord], None] | None = None,
                 tls: ssl.SSLContext | None = None):
        self.app = app
        self.tls = tls  # HTTPS: every connection is TLS (plain HTTP gets one 400 saying so)
        self._address = (host, port)
        self._request_timeout = request_timeout
        self._workers = workers
        self.journal = Journal(JOURNAL_SIZE, on_record)
        self._shared: Shared | None = None
        self._loop: Loop | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> AuthServer:
        if getattr(self.app, "weak", ()) and self._address[0] not in LOOPBACK:
            raise ServerStartError(f"a deliberately weak server ({', '.join(self.app.weak)}) listens on "
                                   f"loopback only (127.0.0.1 or ::1), never on {self._address[0]}")
        # Imports and key preparation happen now, not inside the first request: a lazy import
        # between a login's clock reading and its answer ate a short-lived token's life.
        warm = getattr(self.app, "warm", None)
        if warm is not None:
            warm()
        _raise_fd_limit()
        self._listener = _listen(*self._address)
        self._listener.setblocking(False)
        self._bound = self._listener.getsockname()[:2]
        # Every scheme also serves the cross-site lab (/attacker), which reads this journal.
        # It answers only to its own names (hosts.py: DNS rebinding).
        from authcli.server.transport.hosts import HostCheck

        site = Site(self.app, self.journal, https=self.tls is not None, hosts=HostCheck(self._address[0]))
        self._shared = Shared(site, self.journal, self._request_timeout, self.tls)
        self._loop = loop = Loop(self._listener, self._shared)
        self._threads = [threading.Thread(target=loop.run, name=f"authcli-server-{self.port}")]
        self._threads += [threading.Thread(target=loop.work, name=f"authcli-worker-{self.port}-{i}")
                          for i in range(self._workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Returns at once: the loop is woken, not polled, and every thread is joined."""
        shared, self._shared = self._shared, None
        if shared is None:
            return
        shared.stopping = True
        self._loop.slow.close()  # what still waits is dropped: its connections are closed next
        for worker in self._threads[1:]:
            worker.join()  # a slow request in progress finishes first
        self._loop.wake()
        self._threads[0].join()
        self._listener.close()

    def __enter__(self) -> AuthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _running(self) -> Shared:
        if self._shared is None:
            raise RuntimeError("server is not running")
        return self._shared

    @property
    def host(self) -> str:
        self._running
        return self._bound[0]

    @property
    def port(self) -> int:
        self._running
        return self._bound[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def handler_errors(self) -> int:
        return self._running.handler_errors + self.journal.observer_errors

    @property
    def connections(self) -> int:
        return self._running.open

    def mark(self) -> int:
        """A position in the journal; `records_since(mark)` returns what came after it."""
        return self.journal.recorded

    def records_since(self, mark: int) -> list[RequestRecord]:
        return self.journal.since(mark)

    def ticket(self) -> Ticket:
        """A client's ticket for its next request (the journal's Recorder interface)."""
        return Ticket(mark=self.mark())

    def recorded(self, ticket: Ticket) -> list[RequestRecord]:
        return self.records_since(ticket.mark)

    def record_from(self, peer: tuple[str, int]) -> RequestRecord | None:
        """The newest record of a request from this client address. While that client's
        connection is open no other connection has its address, so under any concurrency this
        is the answer the client just read."""
        return self.journal.from_peer(peer)
