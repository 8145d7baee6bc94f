"""The server under random requests and raw-socket abuse, in every mode and store.

Never a 5xx, never a crashed thread left behind, and a normal request right after still gets the
right answer.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key
from conftest import CREDS, raw_exchange

EXAMPLES = int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 100))
CONFIGS = ["session-memory", "session-redis", "jwt-HS256", "jwt-EdDSA"]


@pytest.fixture(scope="module", params=CONFIGS)
def server(request):
    mode, _, kind = request.param.partition("-")
    if mode == "session":
        if kind == "redis":
            from authcli.stores.redis import RedisStore
            store = RedisStore(request.getfixturevalue("redis_server").url)
        else:
            store = MemoryStore()
        app = SessionAuth(store, 60)
    else:
        app = JwtAuth(make_signing_key(kind), 60)
    threads_before = threading.active_count()
    with AuthServer(app, request_timeout=0.5) as srv:
        yield srv
        http = requests.Session()
        resp = http.post(srv.url + "/login", json=CREDS)
        assert resp.status_code == 200
        if mode == "session":
            assert http.get(srv.url + "/profile").status_code == 200
        else:
            token = resp.json()["token"]
            assert http.get(srv.url + "/profile", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        http.close()
    deadline = time.monotonic() + 3
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads_before  # every handler thread ended


def exchange(server, data: bytes) -> int | None:
    """Send raw bytes, close our side, read everything; the status code, or None if no answer."""
    answer = raw_exchange(server, data)
    if not answer.startswith(b"HTTP/"):
        return None
    return int(answer.split(b" ", 2)[1])


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255, blacklist_characters="\r\n"),
                      max_size=300)
TOKEN_CHARS = "!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
request_parts = st.fixed_dictionaries({
    "method": st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
                        st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)),
    "path": st.one_of(st.sampled_from(["/login", "/profile", "/logout", "/", "/nope", "/profile?sessionId=x",
                                       "/profile?access_token=y", "/.well-known/jwks.json", "*", "//login"]),
                      st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60)
                      .map(lambda p: "/" + p)),
    "headers": st.lists(st.tuples(st.sampled_from(["Cookie", "Authorization", "Content-Type", "X-Any",
                                                   "Transfer-Encoding", "Host"]), HEADER_TEXT), max_size=5),
    "body": st.one_of(st.binary(max_size=600), st.just(b'{"email": "a@b.com", "password": "x"}'),
                      st.binary(min_size=17000, max_size=17000)),
    "length": st.one_of(st.none(), st.just("auto"), st.sampled_from(["abc", "-1", "", "99999999", "+5", "0"])),
})


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(parts=request_parts)
def test_random_requests_never_get_a_5xx(server, parts):
    lines = [f"{parts['method']} {parts['path']} HTTP/1.1", "Host: localhost"]
    lines += [f"{name}: {value}" for name, value in parts["headers"]]
    length = parts["length"]
    if length is not None:
        lines.append(f"Content-Length: {len(parts['body']) if length == 'auto' else length}")
    lines.append("Connection: close")
    status = exchange(server, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + parts["body"])
    assert status is None or status < 500, (parts, status)
    assert requests.get(server.url + "/nope", timeout=5).status_code == 404


@pytest.mark.parametrize("data", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,   # a TLS ClientHello
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",   # one huge header line
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(150)) + b"\r\n",  # too many headers
    b"\xff\xfe\xfd garbage \x00\r\n\r\n",
    b"GET /profile HTTP/1.1\r\nHost: localhost\r\nCookie: \xff\xfe\r\nAuthorization: Bearer \xff\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n",  # body promised, never sent
    b"",
])
def test_raw_socket_abuse(server, data):
    status = exchange(server, data)
    assert status is None or status < 500
    assert requests.get(server.url + "/nope", timeout=5).status_code == 404


def test_clients_that_vanish_mid_response(server, capfd):
    for _ in range(5):
        sock = socket.create_connection((server.host, server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 39\r\n\r\n"
                     b'{"email": "a@b.com", "password": "123"}')
        sock.close()  # RST while the server hashes the password and answers
    assert requests.get(server.url + "/nope", timeout=5).status_code == 404
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out
