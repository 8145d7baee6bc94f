"""A tiny HTTP load balancer in front of authcli servers: round-robin or sticky, with failover."""

from __future__ import annotations

import http.client
import itertools
import threading
from dataclasses import dataclass, replace

from authcli.errors import HttpError
from authcli.server.schemes.cookies import read_cookie
from authcli.events import Balanced, Event, Forwarded
from authcli.server.transport.httpd import AuthServer
from authcli.server.journal import Request, Response

STICKY_COOKIE = "lb"
SERVED_BY = "X-Served-By"
# Hop-by-hop headers belong to one connection, never forwarded (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
# The balancer's own HTTP layer writes these again.
# The balancer's own answer adds these again (nosniff is on every answer authcli sends): the
# backend's copies would show twice.
REWRITTEN = HOP_BY_HOP | {"server", "date", "content-length", "x-content-type-options"}


@dataclass
class Backend:
    """A named server behind the balancer; `server` is None while it is stopped."""

    name: str
    server: AuthServer | None


class Balancer:
    """An App for AuthServer that forwards each request to a backend and says which one answered."""

    mode = "balancer"
    store = None

    def __init__(self, backends: list[Backend], policy: str = "round-robin", timeout: float = 5.0):
        if policy not in ("round-robin", "sticky"):
            raise ValueError(policy)
        self.backends = backends
        self.policy = policy
        self.timeout = timeout
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def _order(self, request: Request) -> tuple[list[Backend], str]:
        """Backends to try, first choice first, and why that one."""
        with self._lock:
            start = next(self._turn) % len(self.backends)
        rotated = self.backends[start:] + self.backends[:start]
        if self.policy == "sticky":
            pinned = read_cookie(request.header_values("Cookie"), STICKY_COOKIE)
            match = [b for b in self.backends if b.name == pinned]
            if match:
                return match + [b for b in rotated if b is not match[0]], f"sticky cookie {STICKY_COOKIE}={pinned}"
            return rotated, "no sticky cookie yet: round-robin"
        return rotated, "round-robin"

    def slow(self, request: Request) -> bool:
        """Every forwarded request waits on another server: never on the event loop."""
        return True

    def handle(self, request: Request) -> Response:
        order, why = self._order(request)
        # When the first choice answers, why it was chosen and the forwarding are one line; the
        # whole order is said only when a server had to be skipped.
        plan = Balanced(f"{why}: {' then '.join(b.name for b in order)}")
        events: list[Event] = []
        for i, backend in enumerate(order):
            server = backend.server
            if server is None:
                events += [plan] if i == 0 else []
                events.append(Balanced(f"{backend.name} is stopped: skipped"))
                continue
            try:
                response = self._forward(server, request)
            except (OSError, http.client.HTTPException) as err:
                events += [plan] if i == 0 else []
                events.append(Balanced(f"{backend.name} did not answer ({type(err).__name__}): trying the next"))
                continue
            events.append(Forwarded(f"forwarded to {backend.name}" if events else
                                    f"{why}: forwarded to {backend.name}", backend=backend.name))
            events += [replace(e, message=f"{backend.name}: {e.message}", backend=backend.name)
                       for e in response.events]
            response.events = events
            response.headers.append((SERVED_BY, backend.name))
            if self.policy == "sticky" and read_cookie(request.header_values("Cookie"), STICKY_COOKIE) != backend.name:
                response.headers.append(("Set-Cookie", f"{STICKY_COOKIE}={backend.name}; Path=/; HttpOnly; SameSite=Lax"))
                events.append(Balanced(f"pinned this client to {backend.name} with its own cookie"))
            return response
        events.append(Balanced("no backend answered -> 503"))
        return Response(503, "No server available behind the balancer\n", [("Retry-After", "1")], events)

    def _forward(self, server: AuthServer, request: Request) -> Response:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=self.timeout)
        try:
            try:
                conn.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
                for name, value in request.headers:
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
            except ValueError as err:  # http.client refuses control characters: so do we
                raise HttpError(400, f"The balancer cannot forward this request: {err}") from None
            conn.endheaders(request.body or None)
            # This connection's own address: taken now, as http.client drops the socket once
            # a response that closes the connection has been read.
            local = conn.sock.getsockname()[:2]
            answer = conn.getresponse()
            body = answer.read()
            headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in REWRITTEN]
            status = answer.status
            # Found by this connection's own address, not by position in the journal: under
            # concurrent traffic the newest record may be another client's.
            record = server.record_from(local)
        finally:
            conn.close()
        events = list(record.events) if record is not None else []
        return Response(status, body.decode("utf-8", "replace"), headers, events)
