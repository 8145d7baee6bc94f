"""The tiny HTTP/1.1 server: AuthServer binds, starts the event loop and workers, stops them.

Port 0 picks a free port; `stop()` returns at once (the loop is woken, not polled) and joins
every thread it started. The journal of requests is what the client and the balancer read.
"""

from __future__ import annotations

import errno
import socket
import threading
from typing import TYPE_CHECKING, Callable, Protocol

from authcli.errors import ServerStartError
from authcli.server.journal import Journal, Request, RequestRecord, Response
from authcli.server.loop import MAX_CONNECTIONS, Loop

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore

JOURNAL_SIZE = 1000
WORKERS = 8
BACKLOG = 1024


class App(Protocol):
    """An auth scheme: turns a received request into a response plus events.

    `store` is the session store it keeps state in, or None for a stateless scheme.
    """

    store: SessionStore | None

    def handle(self, request: Request) -> Response: ...


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
                 on_record: Callable[[RequestRecord], None] | None = None):
        self.app = app
        self._address = (host, port)
        self._request_timeout = request_timeout
        self._workers = workers
        self.journal = Journal(JOURNAL_SIZE, on_record)
        self._loop: Loop | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> AuthServer:
        _raise_fd_limit()
        listener = _listen(*self._address)
        self._bound = listener.getsockname()[:2]
        self._loop = Loop(listener, self.app, self.journal, self._request_timeout)
        self._threads = [threading.Thread(target=self._loop.run, name=f"authcli-server-{self.port}")]
        self._threads += [threading.Thread(target=self._loop.work, name=f"authcli-worker-{self.port}-{i}")
                          for i in range(self._workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        loop.stopping = True
        loop.wake()
        self._threads[0].join()
        for _ in self._threads[1:]:
            loop.jobs.put(None)
        for thread in self._threads[1:]:
            thread.join()

    def __enter__(self) -> AuthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _running(self) -> Loop:
        if self._loop is None:
            raise RuntimeError("server is not running")
        return self._loop

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
        return f"http://{host}:{self.port}"

    @property
    def handler_errors(self) -> int:
        return self._running.handler_errors + self.journal.observer_errors

    @property
    def connections(self) -> int:
        return len(self._running.connections)

    def mark(self) -> int:
        """A position in the journal; `records_since(mark)` returns what came after it."""
        return self.journal.recorded

    def records_since(self, mark: int) -> list[RequestRecord]:
        return self.journal.since(mark)

    def record_from(self, peer: tuple[str, int]) -> RequestRecord | None:
        """The newest record of a request from this client address. While that client's
        connection is open no other connection has its address, so under any concurrency this
        is the answer the client just read."""
        return self.journal.from_peer(peer)
