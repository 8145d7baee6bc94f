"""One client must not cost everyone else (issue #22, SECURITY.md 24): each class an attack run found.

Pipelining, not reading answers, hoarding connections, flooding logins, Expect: 100-continue.
Every server is on 127.0.0.1 port 0; a second client address is 127.0.0.2 (all of 127/8 is
loopback on Linux). Every wait is bounded.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.server.policy import HARDENED_SESSIONS
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.journal import Response
from authcli.server.transport.limits import SLOW_PER_ADDRESS, address_key
from authcli.server.transport.loop import OUTBOX_LIMIT, RECV
from authcli.stores.memory import MemoryStore

NOPE = b"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n"
PROFILE = b"GET /profile HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
LOGIN_BODY = b'{"email": "a@b.com", "password": "wrong"}'
LOGIN = (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
         % len(LOGIN_BODY)) + LOGIN_BODY
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def connect(server, source: str = "127.0.0.1", timeout: float = 5) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((server.host, server.port))
    return sock


def answers(sock: socket.socket, count: int, deadline: float = 5, heads: frozenset[int] = frozenset()
            ) -> list[tuple[int, dict, bytes]]:
    """Read `count` responses (or until the server closes): (status, headers, body) each; the
    answers numbered in `heads` are to HEAD requests (no body)."""
    buf, out, end = b"", [], time.monotonic() + deadline
    while len(out) < count and time.monotonic() < end:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            lines = buf[:head_end].decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            size = 0 if len(out) in heads else int(headers.get("content-length", 0))
            status = int(lines[0].split()[1])
            if status == 100:
                out.append((100, headers, b""))
                buf = buf[head_end + 4:]
                continue
            if len(buf) >= head_end + 4 + size:
                out.append((status, headers, buf[head_end + 4:head_end + 4 + size]))
                buf = buf[head_end + 4 + size:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return out


def fetch(server, request: bytes = PROFILE, source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    with connect(server, source) as sock:
        sock.sendall(request)
        got = answers(sock, 1)
    assert got, "no answer"
    return got[0]


@pytest.fixture
def server():
    # The transport under test, not the failed-login limits (tests/test_lab_logins.py): its
    # examples send many wrong logins from one address.
    policy = replace(HARDENED_SESSIONS, login_limits=None)
    with AuthServer(SessionAuth(MemoryStore(), 60, policy=policy), request_timeout=3) as srv:
        yield srv


# Fairness on the loop ---------------------------------------------------------------------------

def test_a_pipelining_client_gets_a_share_of_the_loop_not_the_loop(server):
    """3,000 pipelined requests arrive with one from another client: it is answered after a few of
    them, not after the lot (the loop used to answer a whole 64 KB read before selecting again)."""
    hog, fresh = connect(server, "127.0.0.2"), connect(server)
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(answers(hog, 3000, deadline=20)))
    reader.start()
    mark = server.mark()
    hog.sendall(NOPE * 3000)
    fresh.sendall(PROFILE)
    status = answers(fresh, 1)[0][0]
    before = server.mark() - mark - 1  # pipelined answers made before the fresh client's
    reader.join()
    hog.close()
    fresh.close()
    assert status == 401 and len(got) == 3000
    assert before < 500, f"the fresh client waited behind {before} pipelined answers"


def test_one_address_with_many_connections_gets_one_share_of_a_turn(server):
    """40 connections from one address, 20 pipelined requests each, arrive with one request from
    another address: it is answered after a few turns' share (16 a turn), not after all 800
    (the old loop: always 800)."""
    crowd = [connect(server, "127.0.0.2") for _ in range(40)]
    fresh = connect(server)
    mark = server.mark()
    for sock in crowd:
        sock.sendall(NOPE * 20)
    fresh.sendall(PROFILE)
    assert answers(fresh, 1)[0][0] == 401
    before = server.mark() - mark - 1
    assert all(len(answers(sock, 20)) == 20 for sock in crowd)
    for sock in [*crowd, fresh]:
        sock.close()
    assert before < 400, f"the other address waited behind {before} answers"


def test_a_client_that_never_reads_its_answers_stops_being_read(server):
    """Once its unsent answers pass the bound, none of its requests is parsed: what it costs the
    server stops growing however much it sends, and everyone else is still answered."""
    hog = connect(server, "127.0.0.2", timeout=0.5)
    mark, sent, end = server.mark(), 0, time.monotonic() + 8
    burst = NOPE * 2000
    try:
        while time.monotonic() < end and sent < 400:  # at most ~25 MB, stops when the server does
            hog.sendall(burst)
            sent += 1
    except (socket.timeout, OSError):
        pass
    assert fetch(server)[0] == 401
    answered, end = -1, time.monotonic() + 5
    while answered != server.mark() and time.monotonic() < end:  # until the kernel's buffers are full
        answered = server.mark()
        time.sleep(0.3)
    assert answered - mark < sent * 2000, "the server went on parsing requests whose answers piled up"
    conn = next(c for c in server._loop.conns if c.peer[0] == "127.0.0.2")
    assert len(conn.outbox) <= OUTBOX_LIMIT + 1000 and len(conn.pending) <= RECV
    hog.close()


REQUESTS = st.sampled_from([
    (NOPE, 404), (b"HEAD /nope HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),
    (b"GET /profile HTTP/1.1\r\nHost: localhost\r\nCookie: sessionId=abc\r\n\r\n", 401),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 200), (b"DELETE /profile HTTP/1.1\r\nHost: localhost\r\n\r\n", 405),
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc", 415),
    (b"GET /attacker/log?since=0&limit=3 HTTP/1.1\r\nHost: localhost\r\n\r\n", 200),
])


@FUZZ
@given(st.lists(REQUESTS, min_size=1, max_size=40), st.integers(1, 600), st.booleans())
def test_pipelined_variants_are_answered_in_order_whatever_the_split(server, batch, piece, login_last):
    """Any mix of pipelined requests, cut into pieces of any size: one answer each, in order."""
    data = b"".join(r for r, _ in batch) + (LOGIN if login_last else b"")
    expected = [s for _, s in batch] + ([401] if login_last else [])
    with connect(server) as sock:
        for i in range(0, len(data), piece):
            sock.sendall(data[i:i + piece])
        heads = frozenset(i for i, (r, _) in enumerate(batch) if r.startswith(b"HEAD"))
        got = answers(sock, len(expected), deadline=10, heads=heads)
    assert [s for s, _, _ in got] == expected


# Connections per address -----------------------------------------------------------------------

@pytest.fixture
def capped(monkeypatch, server):
    """The same server with a per-address cap of 6, so a test needs few sockets."""
    monkeypatch.setattr("authcli.server.transport.doors.PER_ADDRESS", 6)
    return server


def test_an_address_at_its_cap_loses_its_oldest_idle_connection_not_its_new_one(capped):
    idle = [connect(capped) for _ in range(6)]
    for sock in idle:
        sock.sendall(NOPE)
        assert answers(sock, 1)[0][0] == 404  # answered: now idle, oldest first
    assert fetch(capped)[0] == 401
    assert idle[0].recv(10) == b""  # the oldest idle one was closed to make room
    for sock in idle:
        sock.close()


def test_a_refusal_at_the_cap_is_a_readable_503_with_retry_after(capped):
    """Every connection of the address is mid-request: the new one cannot take their place. It gets
    a 503 it can read, even having sent a big body the server never reads (no reset)."""
    busy = [connect(capped) for _ in range(6)]
    for sock in busy:
        sock.sendall(b"GET /profile HTTP/1.1\r\nHost: localhost\r\n")  # half a head: not idle
    time.sleep(0.1)
    big = b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9000\r\n\r\n" + b"x" * 9000
    status, headers, body = fetch(capped, big)
    assert status == 503 and headers["retry-after"] == "1" and b"from your address" in body
    assert fetch(capped, source="127.0.0.2")[0] == 401  # another address is not held up
    for sock in busy:
        sock.close()


@FUZZ
@given(st.lists(st.sampled_from(["idle", "half", "other"]), min_size=0, max_size=12))
def test_a_new_client_is_served_or_told_to_retry_never_reset(capped, held):
    socks = []
    try:
        for kind in held:
            sock = connect(capped, "127.0.0.2" if kind == "other" else "127.0.0.1")
            socks.append(sock)
            sock.sendall(NOPE if kind != "half" else b"GET / HTTP/1.1\r\n")
            if kind != "half":
                answers(sock, 1)
        halves = held.count("half")
        status, headers, _ = fetch(capped)
        if halves >= 6:
            assert status == 503 and headers["retry-after"] == "1"
        else:
            assert status == 401
        assert capped.connections <= 6 + held.count("other") + 1
    finally:
        for sock in socks:
            sock.close()
        settle(capped)


def settle(server, deadline: float = 2) -> None:
    """Wait (bounded) until the server has seen every client of the last example hang up."""
    end = time.monotonic() + deadline
    while server.connections and time.monotonic() < end:
        time.sleep(0.01)


def test_with_the_server_full_the_biggest_holders_oldest_idle_goes_first(server):
    # Capacity 8: one address may hold 2 (a quarter, doors.SHARE). 127.0.0.2 holds 2, six others
    # 1 each: the server is full, and the next connection costs the biggest holder its oldest.
    server._loop.capacity = 8
    mine = [connect(server, "127.0.0.2") for _ in range(2)]
    others = [connect(server, f"127.0.0.{i}") for i in range(3, 9)]
    for sock in [*mine, *others]:
        sock.sendall(NOPE)
        assert answers(sock, 1)[0][0] == 404
    assert fetch(server)[0] == 401
    assert mine[0].recv(10) == b""
    others[0].sendall(NOPE)
    assert answers(others[0], 1)[0][0] == 404  # a small holder kept its connection
    for sock in [*mine, *others]:
        sock.close()


@pytest.mark.parametrize("peer, key", [
    (("192.168.1.20", 5000), "192.168.1.20"),
    (("::ffff:192.168.1.20", 5000), "192.168.1.20"),
    (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
    (("2001:db8:1:2:bbbb::9", 5000), "2001:db8:1:2::/64"),
    (("fe80::1%eth0", 5000), "fe80::/64"),
])
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(peer, key):
    assert address_key(peer) == key


# The login queue --------------------------------------------------------------------------------

class SlowLogins:
    """An app whose /login takes `seconds` on a worker, counting the ones that ran."""

    store = None
    mode = "session"

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ran = 0

    def slow(self, request):
        return request.path == "/login"

    def handle(self, request):
        if request.path == "/login":
            self.ran += 1
            time.sleep(self.seconds)
            return Response(401, "Wrong credentials\n")
        return Response(401, "Not logged in\n")


def flood(server, count: int, source: str) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = connect(server, source)
        sock.sendall(LOGIN)
        socks.append(sock)
    return socks


def test_one_address_flooding_logins_gets_503s_and_another_is_served_next():
    app = SlowLogins(0.1)
    with AuthServer(app, workers=1) as server:
        socks = flood(server, 40, "127.0.0.2")
        time.sleep(0.05)
        start = time.monotonic()
        status, _, _ = fetch(server, LOGIN)
        waited = time.monotonic() - start
        statuses = [answers(sock, 1)[0] for sock in socks]
        for sock in socks:
            sock.close()
    assert status == 401 and waited < 1.0, f"the other address waited {waited:.2f} s"  # not 16 x 0.1 s
    refused = [(s, h) for s, h, _ in statuses if s == 503]
    assert len(refused) >= 40 - SLOW_PER_ADDRESS - 1
    assert all(h["retry-after"] == "1" for _, h in refused)
    assert {s for s, _, _ in statuses} <= {401, 503}


def test_logins_that_waited_too_long_get_503_without_the_work():
    app = SlowLogins(0.4)
    with AuthServer(app, workers=1) as server:
        socks = flood(server, 6, "127.0.0.1")
        statuses = [answers(sock, 1, deadline=10)[0][0] for sock in socks]
        for sock in socks:
            sock.close()
    assert statuses.count(503) >= 2 and app.ran <= 4


def test_logins_from_clients_that_hung_up_are_dropped_unhashed():
    app = SlowLogins(0.3)
    with AuthServer(app, workers=1) as server:
        socks = flood(server, 8, "127.0.0.1")
        time.sleep(0.05)
        for sock in socks:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # every client gives up while the first login is still running
        time.sleep(0.5)
        assert fetch(server, PROFILE)[0] == 401
    assert app.ran <= 3  # the one running when they hung up, and a loaded machine's slack


# Expect: 100-continue ---------------------------------------------------------------------------

@FUZZ
@given(st.sampled_from(["100-continue", "100-Continue"]), st.integers(1, 3))
def test_expect_100_continue_is_answered_before_the_body(server, expect, pieces):
    head = (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (expect.encode(), len(LOGIN_BODY)))
    with connect(server) as sock:
        sock.sendall(head)
        interim = answers(sock, 1, deadline=3)
        assert [s for s, _, _ in interim] == [100]
        step = -(-len(LOGIN_BODY) // pieces)
        for i in range(0, len(LOGIN_BODY), step):
            sock.sendall(LOGIN_BODY[i:i + step])
        assert answers(sock, 1)[0][0] == 401


def test_expect_100_continue_with_a_body_too_large_gets_413_at_once(server):
    with connect(server) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 99999\r\n\r\n")
        status = answers(sock, 1, deadline=3)[0][0]
    assert status == 413


def test_expect_with_the_body_already_sent_gets_no_interim_answer(server):
    head = (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(LOGIN_BODY))
    with connect(server) as sock:
        sock.sendall(head + LOGIN_BODY)
        assert [s for s, _, _ in answers(sock, 1)] == [401]


@FUZZ
@given(capacity=st.integers(4, 24))
def test_no_address_holds_more_than_a_quarter_of_a_small_server(server, capacity):
    """Under a low descriptor limit PER_ADDRESS (256) was more than the whole server: one address
    holding connections mid-request (or class pages, which never time out) locked out the rest."""
    server._loop.capacity = capacity
    held = []
    try:
        for _ in range(capacity // 4):
            held.append(connect(server))
            held[-1].sendall(b"GET / HTTP/1.1\r\n")  # half a head: not idle, cannot be evicted
        time.sleep(0.05)
        status, headers, body = fetch(server)
        assert status == 503 and b"from your address" in body and headers["retry-after"] == "1"
        assert fetch(server, source="127.0.0.2")[0] == 401
    finally:
        for sock in held:
            sock.close()
        settle(server)
        server._loop.capacity = 4096
