"""Servers A and B behind a load balancer for the scaling demo: the real HAProxy when it is
installed, else the small in-process balancer; the client reaches either the same way."""

from __future__ import annotations

from typing import Callable

from authcli.client import ScriptedClient
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.journal import Behind, Journal, Recorder
from authcli.server.transport import balancer
from authcli.server.transport import haproxy as haproxy_module
from authcli.server.transport.balancer import Backend, Balancer
from authcli.server.transport.haproxy import HAProxy, Upstream
from authcli.server.transport.httpd import App, AuthServer
from authcli.tls import TlsFiles
from authcli.walkthroughs.model import ConfigBlock, ServerView

NAMES = ("A", "B")
TTL = 300
CREDS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


def served_by(exchange: Exchange) -> str:
    """The server that answered, by the balancer's own word (its X-Served-By header)."""
    return exchange.response.header(balancer.SERVED_BY) or "?"


def answer(exchange: Exchange) -> str:
    return f"{served_by(exchange)} answered {exchange.response.status}"


class Cluster:
    """Servers A and B (threads here, each its own HTTP server, port and store) behind a balancer.

    `haproxy`: the haproxy binary to run in front, or None for the in-process balancer. The
    client learns what A or B recorded through the journal's Recorder interface: by the
    request ID it sent (HAProxy), or from the in-process balancer's own journal.
    """

    def __init__(self, make_app: Callable[[str], App], sticky: bool, *, haproxy: str | None,
                 tls: TlsFiles | None = None):
        self._make_app = make_app
        self.apps: dict[str, App] = {}
        self.backends = [Backend(name, None) for name in NAMES]
        self._ports: dict[str, int] = {}
        self.proxy: HAProxy | None = None
        self._balancer: AuthServer | None = None
        self.sticky_cookie = haproxy_module.STICKY_COOKIE if haproxy else balancer.STICKY_COOKIE
        try:
            for name in NAMES:
                self.start(name)
            recorder: Recorder
            if haproxy is not None:
                upstreams = [Upstream(b.name, b.server.host, b.server.port) for b in self.backends]
                self.proxy = HAProxy(upstreams, sticky=sticky, binary=haproxy,
                                     tls=(str(tls.cert), str(tls.key)) if tls else None).start()
                recorder = Behind(self.proxy.url, self._journals)
            else:
                # With HTTPS the balancer terminates TLS, as real deployments do; A and B behind it
                # speak plain HTTP to it.
                policy = "sticky" if sticky else "round-robin"
                self._balancer = AuthServer(Balancer(self.backends, policy),
                                            tls=tls.server_context() if tls else None).start()
                recorder = self._balancer
            self.client = ScriptedClient(recorder, ca=str(tls.ca) if tls else None)
        except BaseException:
            self.close()
            raise

    def _journals(self) -> dict[str, Journal]:
        return {b.name: b.server.journal for b in self.backends if b.server is not None}

    def _backend(self, name: str) -> Backend:
        return next(b for b in self.backends if b.name == name)

    def start(self, name: str) -> None:
        """Start (or restart) a server: a restart listens on the port it had, where the balancer
        looks for it."""
        app = self._make_app(name)
        self.apps[name] = app
        server = AuthServer(app, port=self._ports.get(name, 0)).start()
        self._ports[name] = server.port
        self._backend(name).server = server

    def stop(self, name: str) -> None:
        backend = self._backend(name)
        if backend.server is not None:
            backend.server.stop()
            backend.server = None
        store = self.apps[name].store if name in self.apps else None
        if store is not None:
            store.close()

    def noticed(self, name: str, status: str) -> float | None:
        """Wait until HAProxy's health checks see `name` as `status` (UP, DOWN): how long that
        took, or None when the in-process balancer stands in (it tries each server in turn)."""
        return self.proxy.wait_for(name, status) if self.proxy is not None else None

    def config(self) -> ConfigBlock | None:
        if self.proxy is None:
            return None
        return ConfigBlock("HAProxy's configuration for this round (the lines that matter):",
                           haproxy_module.key_lines(self.proxy.text), self.proxy.text)

    def views(self) -> list[ServerView]:
        views = []
        for backend in self.backends:
            store = self.apps[backend.name].store
            url = backend.server.url if backend.server is not None else None
            views.append(ServerView(backend.name, url, store.snapshot() if url and store is not None else None))
        return views

    def send(self, method: str, path: str, **kwargs) -> Exchange:
        return self.client.send(method, path, **kwargs)

    def send_to(self, name: str, method: str, path: str, **kwargs) -> Exchange:
        """A request straight to one server, past the balancer, from a client of its own."""
        server = self._backend(name).server
        assert server is not None
        client = ScriptedClient(server)
        try:
            return client.send(method, path, **kwargs)
        finally:
            client.close()

    def close(self) -> None:
        """Everything this round started, stopped: the client, the balancer, then A and B."""
        if hasattr(self, "client"):
            self.client.close()
        if self.proxy is not None:
            self.proxy.stop()
        if self._balancer is not None:
            self._balancer.stop()
        for backend in self.backends:
            self.stop(backend.name)
