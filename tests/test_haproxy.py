"""The real HAProxy in front of two authcli servers: its configuration, round robin, the sticky
cookie, failover, the journal found by request ID, and a process that is always stopped."""

from __future__ import annotations

import os
import socket

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.errors import ServerStartError
from authcli.server.journal import REQUEST_ID, Behind, Request, Response
from authcli.server.transport import haproxy as hp
from authcli.server.transport.haproxy import HAProxy, Upstream, config, find_haproxy, key_lines
from authcli.server.transport.httpd import AuthServer

UPSTREAMS = [Upstream("A", "127.0.0.1", 8001), Upstream("B", "127.0.0.1", 8002)]


# --- the configuration, a pure function ----------------------------------------------------------

def test_round_robin_config():
    text = config(9000, UPSTREAMS, sticky=False, stats="/tmp/x/stats.sock")
    lines = [line.strip() for line in text.splitlines()]
    assert "bind 127.0.0.1:9000" in lines and "balance roundrobin" in lines
    assert "option redispatch" in lines and "http-response set-header X-Served-By %s" in lines
    assert "server A 127.0.0.1:8001 check inter 100ms fall 1 rise 1" in lines
    assert not any(line.startswith("cookie") or " cookie " in line for line in lines)
    assert "stats socket /tmp/x/stats.sock mode 600 level user" in lines and "noreuseport" in lines
    assert all(f"timeout {t}" in text for t in ("connect", "client", "server"))  # no warnings, no hangs


def test_sticky_config_and_the_lines_shown():
    text = config(9000, UPSTREAMS, sticky=True, stats="s", check_ms=50)
    shown = [line.strip() for line in key_lines(text)]
    assert shown == ["frontend front", "bind 127.0.0.1:9000", "backend servers", "balance roundrobin",
                     "cookie SERVERID insert indirect nocache httponly attr SameSite=Lax", "option redispatch",
                     "http-response set-header X-Served-By %s",
                     "server A 127.0.0.1:8001 cookie A check inter 50ms fall 1 rise 1",
                     "server B 127.0.0.1:8002 cookie B check inter 50ms fall 1 rise 1"]
    assert not any("stats" in line or "timeout" in line for line in shown)


def test_tls_config_terminates_on_the_front():
    text = config(9000, UPSTREAMS, sticky=False, stats="s", pem="/p/front.pem")
    assert "    bind 127.0.0.1:9000 ssl crt /p/front.pem" in text.splitlines()
    assert '    http-response set-header Strict-Transport-Security "max-age=300"' in key_lines(text)
    assert "ssl" not in "".join(line for line in text.splitlines() if "server " in line)  # plain behind


def test_find_haproxy_asks_the_finder():
    assert find_haproxy(lambda name: None) is None
    assert find_haproxy(lambda name: f"/opt/{name}") == "/opt/haproxy"


# --- the real process ------------------------------------------------------------------------------

class Named:
    """A tiny app that answers with its server's name."""

    store = None

    def __init__(self, name: str):
        self.name = name

    def slow(self, request: Request) -> bool:
        return False

    def handle(self, request: Request) -> Response:
        return Response(200, self.name)


@pytest.fixture
def servers():
    started = {name: AuthServer(Named(name)).start() for name in "AB"}
    yield started
    for server in started.values():
        server.stop()


def upstreams(servers) -> list[Upstream]:
    return [Upstream(name, s.host, s.port) for name, s in servers.items()]


def gone(process) -> bool:
    return process.poll() is not None


def test_round_robin_and_the_journal_found_by_request_id(haproxy, servers):
    with HAProxy(upstreams(servers), sticky=False, binary=haproxy) as proxy:
        process = proxy.process
        behind = Behind(proxy.url, lambda: {n: s.journal for n, s in servers.items()})
        answered = []
        for _ in range(4):
            ticket = behind.ticket()
            resp = requests.get(behind.url + "/hello", headers=ticket.headers, timeout=5)
            records = behind.recorded(ticket)
            assert len(records) == 1 and records[0].request.header_values(REQUEST_ID) == [ticket.headers[REQUEST_ID]]
            # HAProxy's own header and the journal that holds the request agree
            assert resp.headers["X-Served-By"] == resp.text
            answered.append(resp.text)
        assert answered == ["A", "B", "A", "B"]
        assert proxy.states() == {"A": "UP", "B": "UP"}
    assert gone(process) and proxy.process is None


def test_sticky_cookie_then_failover_when_a_stops(haproxy, servers):
    with HAProxy(upstreams(servers), sticky=True, binary=haproxy) as proxy, requests.Session() as client:
        first = client.get(proxy.url + "/", timeout=5)
        assert first.text == "A" and first.headers["Set-Cookie"].startswith("SERVERID=A")
        # the same flags as the Python balancer's cookie: no page script reads the routing cookie
        assert "HttpOnly" in first.headers["Set-Cookie"] and "SameSite=Lax" in first.headers["Set-Cookie"]
        assert [client.get(proxy.url + "/", timeout=5).text for _ in range(3)] == ["A", "A", "A"]
        servers["A"].stop()
        took = proxy.wait_for("A", "DOWN")
        assert took < 2  # check inter 100ms fall 1
        after = client.get(proxy.url + "/", timeout=5)
        assert after.text == "B" and after.headers["X-Served-By"] == "B"
        assert after.headers["Set-Cookie"].startswith("SERVERID=B")  # HAProxy re-pinned the client
        assert client.cookies["SERVERID"] == "B"


def test_stopped_on_error_inside_the_block(haproxy, servers):
    proxy = HAProxy(upstreams(servers), sticky=False, binary=haproxy)
    with pytest.raises(RuntimeError), proxy:
        process, directory = proxy.process, proxy._dir.name
        raise RuntimeError("a walkthrough failed mid-round")
    assert gone(process) and not os.path.exists(directory)
    with pytest.raises(requests.ConnectionError):
        requests.get(proxy.url, timeout=1)


def test_a_port_clash_is_retried_on_another_port(haproxy, servers, monkeypatch):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    ports = iter([busy.getsockname()[1]])
    real = hp.free_port
    monkeypatch.setattr(hp, "free_port", lambda: next(ports, None) or real())
    try:
        with HAProxy(upstreams(servers), sticky=False, binary=haproxy) as proxy:
            assert proxy.port != busy.getsockname()[1]
            assert requests.get(proxy.url + "/", timeout=5).status_code == 200
    finally:
        busy.close()


def test_a_binary_that_will_not_start_is_one_error(servers, tmp_path):
    fake = tmp_path / "haproxy"
    fake.write_text("#!/bin/sh\necho '[ALERT] (1) : parsing error' >&2\nexit 1\n")
    fake.chmod(0o755)
    proxy = HAProxy(upstreams(servers), sticky=False, binary=str(fake))
    with pytest.raises(ServerStartError, match="parsing error"):
        proxy.start()
    assert proxy.process is None and proxy._dir is None


# --- demo scaling without HAProxy --------------------------------------------------------------------

def test_demo_falls_back_to_the_in_process_balancer_and_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("AUTHCLI_REQUIRE_HAPROXY", raising=False)
    result = CliRunner().invoke(app, ["demo", "scaling", "--rounds", "1"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "HAProxy is not installed" in result.stdout and "apt install haproxy" in result.stdout
    assert "HAProxy's configuration" not in result.stdout
    assert "round-robin: forwarded to A" in result.stdout  # the in-process balancer's own account


def test_demo_without_haproxy_is_an_error_when_it_is_required(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("AUTHCLI_REQUIRE_HAPROXY", "1")
    result = CliRunner().invoke(app, ["demo", "scaling", "--rounds", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "AUTHCLI_REQUIRE_HAPROXY" in result.stderr
    assert "apt install haproxy" in result.stderr
