"""The attack lab stays in its box (issue #22): jku fetches go only where one parser looked and
end by a deadline; kid opens regular files only; servers answer only to their own names (DNS
rebinding); weak state never reaches a hardened server."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.errors import BadKey
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.transport.hosts import HostCheck
from authcli.server.journal import Request
from authcli.server.lab.jwt_weak import _fetched
from authcli.server.lab.outbound import fetch, parse
from authcli.server.lab.weaknesses import jwt_policy, parse as weak, session_policy
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key
from authcli.tokens.forge import sign_hmac
from conftest import CREDS, FakeClock

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Five names over a few ports need few examples; each starts servers (~0.3 s).
NETWORK = settings(FUZZ, max_examples=min(15, FUZZ.max_examples))


class Listener:
    """A TCP server on `host`, port 0, answering each connection with `answer(sock)`; counts
    the connections it accepted."""

    def __init__(self, host: str = "127.0.0.1", answer=None):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._answer = answer or (lambda conn: None)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,))
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(2)
                self._answer(conn)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        try:  # wakes a waiting accept() now (Linux), instead of at its next 0.1 s timeout
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join()
        for thread in self._threads:
            thread.join()
        self.sock.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_head(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _jwks(conn: socket.socket) -> None:
    from authcli.tokens.signing import key_files

    _read_head(conn)
    body = key_files(make_signing_key("RS256"))["jwks.json"]
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


# Characters on which URL parsers disagree, or that hide where a URL really points.
TRICKS = ["\\", "@", " ", "\t", "\n", "\r", "%", "%31", "%2e", "#", "?", "[", "]", ":", "/", ".", "é",
          "\u3002", "\uff0e", "\x00", "127.0.0.2", "localhost", "0x7f000002", "2130706434"]


@FUZZ
@given(inserts=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(TRICKS)), min_size=1, max_size=3),
       form=st.sampled_from(["http://127.0.0.2:{other}\\@127.0.0.1:{port}/jwks.json",
                             "http://127.0.0.1:{port}/jwks.json",
                             "http://127.0.0.1:{port}@127.0.0.2:{other}/jwks.json",
                             "http://localhost:{port}#@127.0.0.2:{other}/"]))
def test_a_jku_url_is_fetched_only_from_where_the_check_looked(inserts, form):
    """Whatever the URL, nothing ever connects to the server on 127.0.0.2: it is either refused
    or fetched from 127.0.0.1, the address the one parser read."""
    with Listener("127.0.0.2") as elsewhere, Listener("127.0.0.1", _jwks) as home:
        url = form.format(other=elsewhere.port, port=home.port)
        for at, trick in inserts:
            at = min(at, len(url))
            url = url[:at] + trick + url[at:]
        try:
            _fetched({"jku": url, "alg": "RS256"})
        except BadKey:
            pass
        assert elsewhere.accepted == 0, url


def test_the_reported_bypass_is_refused_and_a_plain_url_still_works():
    with Listener("127.0.0.2", _jwks) as elsewhere, Listener("127.0.0.1", _jwks) as home:
        with pytest.raises(BadKey, match="userinfo, backslash"):
            _fetched({"jku": f"http://127.0.0.2:{elsewhere.port}\\@127.0.0.1/jwks.json"})
        assert _fetched({"jku": f"http://127.0.0.1:{home.port}/jwks.json"}).algorithms
        assert _fetched({"jku": f"http://localhost:{home.port}/jwks.json"}).algorithms
        assert elsewhere.accepted == 0 and home.accepted == 2


@FUZZ
@given(url=st.text(max_size=80))
def test_the_url_parser_accepts_only_plain_loopback_http(url):
    try:
        host, port, target = parse(url)
    except BadKey:
        return
    assert url.isascii() and not any(c in url for c in "\\@ \t\r\n#")
    assert host in ("127.0.0.1", "localhost", "[::1]") and target.startswith("/")


def _drip(conn: socket.socket) -> None:
    _read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(20):  # one byte at a time, each well inside any per-read timeout
        time.sleep(0.1)
        conn.sendall(b" ")


def test_a_dripping_key_server_is_cut_off_at_the_deadline():
    with Listener("127.0.0.1", _drip) as slow:
        started = time.monotonic()
        with pytest.raises(BadKey, match="took longer than 0.5 s"):
            fetch(f"http://127.0.0.1:{slow.port}/", deadline=0.5)
        assert time.monotonic() - started < 1.0


def test_a_key_server_answering_too_much_or_not_200_is_refused():
    def big(conn):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000)

    def missing(conn):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}")

    with Listener("127.0.0.1", big) as one, Listener("127.0.0.1", missing) as two:
        with pytest.raises(BadKey, match="larger than 64 KB"):
            fetch(f"http://127.0.0.1:{one.port}/")
        with pytest.raises(BadKey, match="answered 404"):
            fetch(f"http://127.0.0.1:{two.port}/")


def _kid_server():
    key = make_signing_key("HS256")
    from dataclasses import replace

    key = replace(key, kid="server-key")
    return JwtAuth(key, 300, policy=jwt_policy(weak("kid-path")), weak=("kid-path",))


@pytest.fixture(scope="module")
def fifo(tmp_path_factory):
    path = tmp_path_factory.mktemp("fifo") / "key"
    os.mkfifo(path)
    return str(path)


@FUZZ
@given(depth=st.integers(8, 14), target=st.sampled_from(["dev/stdin", "dev/zero", "dev/tty", "dev/random",
                                                         "proc/self/fd/0", "tmp", "FIFO"]))
def test_kid_never_opens_a_fifo_or_a_device(fifo, depth, target):
    """Each answer comes at once, 401, however the path reaches a FIFO, a device or a folder."""
    app = _kid_server()
    kid = "../" * depth + (fifo.lstrip("/") if target == "FIFO" else target)
    # Signed with a key no file here holds: the answer is 401 whatever was read (stdin may be
    # /dev/null under pytest, which the lab reads as the empty key on purpose).
    token = sign_hmac({"alg": "HS256", "typ": "JWT", "kid": kid},
                      {"sub": "1", "iat": int(time.time()), "exp": int(time.time()) + 60}, b"not-empty")
    request = Request("GET", "/profile", "HTTP/1.1", [("Host", "localhost"), ("Authorization", f"Bearer {token}")])
    started = time.monotonic()
    try:
        response = app.handle(request)
    finally:
        app.close()
    assert response.status == 401 and time.monotonic() - started < 1
    if target in ("FIFO", "tmp", "dev/zero", "dev/random"):
        assert "not a regular file" in response.body


def test_a_kid_server_reads_files_on_a_worker_never_the_loop():
    app = _kid_server()
    try:
        assert app.slow(Request("GET", "/profile", "HTTP/1.1", []))
    finally:
        app.close()


HOST_NAME = st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}", fullmatch=True)
PORT = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))


def _foreign(name: str) -> bool:
    return name not in ("localhost",) and not name.startswith("127.")


@pytest.fixture(scope="module")
def servers():
    weak_key = make_signing_key("HS256")
    apps = [SessionAuth(MemoryStore(), 60), JwtAuth(make_signing_key("HS256"), 60),
            SessionAuth(MemoryStore(), 60, policy=session_policy(weak("fixation")), weak=("fixation",)),
            _kid_server(), JwtAuth(weak_key, 60, policy=jwt_policy(weak("alg-none")), weak=("alg-none",))]
    running = [AuthServer(app).start() for app in apps]
    yield running
    for server in running:
        server.stop()
    apps[3].close()


@FUZZ
@given(name=HOST_NAME.filter(_foreign), port=PORT,
       route=st.sampled_from([("POST", "/login"), ("GET", "/profile"), ("GET", "/attacker/log?since=0"),
                              ("GET", "/session/record"), ("GET", "/"), ("POST", "/logout")]))
def test_a_rebound_name_gets_421_from_every_server(servers, name, port, route):
    method, path = route
    for server in servers:
        resp = requests.request(method, server.url + path, json=CREDS, timeout=5,
                                headers={"Host": name + port, "Authorization": "Bearer x.y.z"})
        assert resp.status_code == 421, (server.url, name, resp.text)
        assert "DNS rebinding" in resp.text and "\n" not in resp.text.rstrip("\n")


@NETWORK
@given(name=st.sampled_from(["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "127.0.0.9"]), port=PORT)
def test_loopback_names_reach_a_loopback_server_on_any_port(servers, name, port):
    for server in servers[:2]:
        resp = requests.post(server.url + "/login", json=CREDS, timeout=5, headers={"Host": name + port})
        assert resp.status_code == 200, resp.text


def test_the_browser_pages_and_the_attacker_site_keep_working(servers):
    server = servers[0]
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        assert requests.get(server.url + "/attacker", headers={"Host": host}, timeout=5).status_code == 200


def test_a_classroom_server_answers_to_what_it_printed_and_loopback():
    check = HostCheck("0.0.0.0", ["192.168.1.20"])
    for good in ("192.168.1.20:8000", "localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert check.allows(good), good
    for bad in ("192.168.1.21:8000", "rebind.example:8000", "127.0.0.2:8000", "192.168.1.20.nip.io",
                "192.168.1.20:\xb2", "localhost:80:80", "[::1", "::1", ""):
        assert not check.allows(bad), bad
    assert HostCheck("10.0.0.7").allows("10.0.0.7:80") and not HostCheck("10.0.0.7").allows("evil:80")
    assert HostCheck("0.0.0.0").allows("0.0.0.0:8000")  # the address the banner prints


# Weak state never reaches a hardened server.

def _profile(app, sid: str):
    return app.handle(Request("GET", "/profile", "HTTP/1.1", [("Host", "localhost"), ("Cookie", f"sessionId={sid}")]))


def _login(app) -> str:
    response = app.handle(Request("POST", "/login", "HTTP/1.1", [("Host", "localhost"),
                                                                 ("Content-Type", "application/json")],
                                  json.dumps(CREDS).encode()))
    assert response.status == 200, response.body
    return dict(response.headers)["Set-Cookie"].split(";")[0].split("=", 1)[1]


@FUZZ
@given(weak_ttl=st.integers(1, 10**6), hard_ttl=st.integers(1, 3600), later=st.floats(0, 2 * 10**6))
def test_a_hardened_server_enforces_its_own_deadline_on_records_it_did_not_write(weak_ttl, hard_ttl, later):
    """A shared store holds a weak no-server-expiry record (kept for ten years); the hardened
    server honours it only while createdAt + its own ttl, and the record's expiresAt, are ahead."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    weak_app = SessionAuth(store, weak_ttl, policy=session_policy(weak("no-server-expiry")), clock=clock,
                           weak=("no-server-expiry",))
    hard = SessionAuth(store, hard_ttl, clock=clock)
    sid = _login(weak_app)
    created = int(clock.now)
    clock.advance(later)
    status = _profile(hard, sid).status
    if clock.now < created + min(hard_ttl, weak_ttl):
        assert status == 200
    elif clock.now >= created + 1 + min(hard_ttl, weak_ttl):
        assert status == 401 and store.get(sid) is None


@FUZZ
@given(record=st.one_of(st.dictionaries(st.sampled_from(["userId", "createdAt", "expiresAt", "x"]),
                                        st.one_of(st.none(), st.integers(), st.text(max_size=30), st.booleans(),
                                                  st.lists(st.integers(), max_size=2)), max_size=4),
                        st.just({"userId": 1, "createdAt": "2027-01-15T08:00:00Z"})))
def test_a_record_of_any_shape_is_401_or_200_never_500(record):
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    sid = "A" * 43
    store.create(sid, record, 10**6)
    app = SessionAuth(store, 60, clock=clock)
    from authcli.server.transport.loop import respond

    status = respond(app, Request("GET", "/profile", "HTTP/1.1", [("Cookie", f"sessionId={sid}")])).status
    assert status in (200, 401)


def test_weak_servers_keep_to_their_own_redis_namespace(redis_url):
    from authcli.stores.redis import RedisConnection

    with RedisConnection(redis_url) as source:
        weak_store, hard_store = source.make(namespace="weak:"), source.make()
        weak_app = SessionAuth(weak_store, 1, policy=session_policy(weak("no-server-expiry")), weak=("no-server-expiry",))
        sid = _login(weak_app)
        assert weak_store.key(sid) == f"weak:session:{sid}" and weak_store.get(sid) is not None
        assert hard_store.get(sid) is None and _profile(SessionAuth(hard_store, 300), sid).status == 401
        assert hard_store.count() == 0 and hard_store.snapshot().rows == []
        weak_store.close()
        hard_store.close()


def test_serve_weak_files_its_sessions_under_weak(redis_url):
    from conftest import ServeProcess

    import re

    with ServeProcess("--weak", "no-server-expiry", "--store", "redis", "--redis-url", redis_url,
                      "--port", "0", "-q") as proc:
        url = None
        while url is None:
            found = re.search(r"http://127\.0\.0\.1:\d+", proc.line())
            url = found.group(0) if found else None
        assert requests.post(url + "/login", json=CREDS, timeout=5).status_code == 200
        import redis as redis_py

        client = redis_py.Redis.from_url(redis_url, decode_responses=True)
        keys = client.keys("*")
        client.close()
        assert keys and all(k.startswith("weak:session:") for k in keys)
        proc.stop(2)
