"""The session server over real HTTP: each route, each session rule of the security bar (shared/SECURITY.md), expiry, logout."""

from __future__ import annotations

import json
import re
import socket
import threading

import pytest
import requests

from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.cookies import new_session_id
from conftest import CREDS, login

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)


def store_ids(server):
    return server.app.store.snapshot().ids()


def test_login_sets_a_fresh_cookie_with_flags(session_server, http):
    resp = http.post(session_server.url + "/login", json=CREDS)
    assert resp.status_code == 200 and resp.text == "Logged in\n"
    set_cookie = resp.headers["Set-Cookie"]
    sid = resp.cookies["sessionId"]
    assert set_cookie == f"sessionId={sid}; Path=/; HttpOnly; SameSite=Lax"
    assert resp.headers["Cache-Control"] == "no-store"
    assert store_ids(session_server) == [sid]
    record = session_server.app.store.get(sid)
    assert record["userId"] == 1 and {"createdAt", "expiresAt"} <= record.keys()


def test_profile_with_cookie_from_the_jar(session_server, http):
    login(http, session_server.url)
    resp = http.get(session_server.url + "/profile")
    assert resp.status_code == 200 and resp.text == "Welcome user 1\n"
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("body, content_type", [
    ("email=a%40b.com&password=123", "application/x-www-form-urlencoded"),  # an HTML form
    ('{"email": "a@b.com", "password": "123"}', "application/x-www-form-urlencoded"),  # curl -d
    ('{"email": "a@b.com", "password": "123"}', "text/plain"),  # the JSON-in-a-form CSRF trick
    ('{"email": "a@b.com", "password": "123"}', None),
])
def test_login_takes_json_only(session_server, body, content_type):
    """A cross-site HTML form can send urlencoded or text/plain bodies, never application/json."""
    headers = {"Content-Type": content_type} if content_type else {}
    resp = requests.post(session_server.url + "/login", data=body, headers=headers)
    assert resp.status_code == 415 and "Content-Type: application/json" in resp.text
    assert "Set-Cookie" not in resp.headers and store_ids(session_server) == []


def test_index_page_offers_a_login_form(session_server, http):
    resp = http.get(session_server.url + "/")
    assert resp.status_code == 200 and 'id="login"' in resp.text and '<script src="/session.js"' in resp.text
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    script = http.get(session_server.url + "/session.js")
    assert script.headers["Content-Type"].startswith("text/javascript") and 'JSON.stringify' in script.text
    assert "<script>" not in resp.text and " style=" not in resp.text  # nothing inline: CSP allows none


def test_the_record_view_never_hands_page_script_the_whole_id(session_server, http):
    http.post(session_server.url + "/login", json={"email": "a@b.com", "password": "123"})
    sid = http.cookies["sessionId"]
    view = http.get(session_server.url + "/session/record").json()
    assert view["found"] and view["record"]["userId"] == 1
    assert sid not in view["line"] and sid[:8] + "..." in view["line"]
    http.post(session_server.url + "/logout")
    assert http.get(session_server.url + "/session/record").json()["found"] is False


@pytest.mark.parametrize("creds", [
    {"email": "a@b.com", "password": "wrong"},
    {"email": "nobody@b.com", "password": "123"},
])
def test_wrong_password_and_unknown_email_get_the_same_401(session_server, http, creds):
    resp = http.post(session_server.url + "/login", json=creds)
    assert (resp.status_code, resp.text) == (401, "Wrong credentials\n")
    assert "Set-Cookie" not in resp.headers and store_ids(session_server) == []


@pytest.mark.parametrize("body, headers, status, words", [
    (b"", {}, 400, "Empty body"),
    (b"not json", {"Content-Type": "application/json"}, 400, "not JSON"),
    (b"[1, 2]", {"Content-Type": "application/json"}, 400, "JSON object"),
    (b'{"email": "a@b.com"}', {"Content-Type": "application/json"}, 400, "Missing field password"),
    (b'{"email": 1, "password": ["123"]}', {"Content-Type": "application/json"}, 400, "strings"),
    (b"\xff\xfe", {"Content-Type": "application/json"}, 400, "UTF-8"),
    (json.dumps({"email": "a" * 1000, "password": "x"}).encode(), {"Content-Type": "application/json"}, 400,
     "limited"),
    (b"x" * 20_000, {}, 413, "too large"),
    (b"[" * 5000, {"Content-Type": "application/json"}, 400, "not JSON"),
    (b'{"email": "a@b.com", "password": "\\ud800"}', {"Content-Type": "application/json"}, 400, "surrogate"),
])
def test_bad_login_bodies_get_a_clear_4xx(session_server, body, headers, status, words):
    resp = requests.post(session_server.url + "/login", data=body, headers=headers)
    assert resp.status_code == status and words in resp.text
    assert store_ids(session_server) == []
    assert requests.post(session_server.url + "/login", json=CREDS).status_code == 200


@pytest.mark.parametrize("cookie", [
    None,
    # Fixed values, not drawn at import: every process that collects the tests must see the same IDs.
    "sessionId=ksZFLfK-THE5cVIaB9Ldvo6rcfS4jwOuHlbrElrxSCI",  # forged, right shape
    "sessionId=abc123",                              # the handout's example ID
    "sessionId=PTKlb70eRm9OgOj321ah",                # truncated
    "sessionId=" + "A" * 5000,                       # 5 KB
    "sessionId=",                                    # empty
    "sessionId=\x01\x02\x7f",                        # control characters
    'sessionId="quoted"',
])
def test_bad_session_ids_get_401_and_write_nothing(session_server, cookie):
    headers = {"Cookie": cookie} if cookie is not None else {}
    resp = requests.get(session_server.url + "/profile", headers=headers)
    assert (resp.status_code, resp.text) == (401, "Not logged in\n")
    assert store_ids(session_server) == []


def test_cookie_header_rules_are_fixed(session_server, http):
    sid = login(http, session_server.url)
    url = session_server.url + "/profile"
    # Quotes never span `;` (browser rule): the valid ID after a stray quote is read.
    assert requests.get(url, headers={"Cookie": f'a="x; sessionId={sid}'}).status_code == 200
    # Two sessionId values are ambiguous: refused, never guessed.
    both = f"sessionId={new_session_id()}; sessionId={sid}"
    assert requests.get(url, headers={"Cookie": both}).status_code == 401


def test_session_id_in_the_url_is_ignored(session_server, http):
    sid = login(http, session_server.url)
    resp = requests.get(session_server.url + f"/profile?sessionId={sid}")
    assert resp.status_code == 401


def test_session_fixation_brought_id_is_never_adopted(session_server, http):
    planted = new_session_id()
    resp = http.post(session_server.url + "/login", json=CREDS, headers={"Cookie": f"sessionId={planted}"})
    issued = resp.cookies["sessionId"]
    assert issued != planted and store_ids(session_server) == [issued]


def test_login_again_rotates_the_id_and_drops_the_old_record(session_server, http):
    first = login(http, session_server.url)
    second = login(http, session_server.url)  # the jar sends `first` along
    assert second != first and store_ids(session_server) == [second]
    assert requests.get(session_server.url + "/profile", cookies={"sessionId": first}).status_code == 401


def test_server_side_expiry_even_when_the_cookie_is_sent(session_server, http, clock):
    sid = login(http, session_server.url)
    clock.advance(59)
    assert http.get(session_server.url + "/profile").status_code == 200
    clock.advance(1.1)  # absolute timeout: the request above did not extend it
    resp = http.get(session_server.url + "/profile")
    assert resp.status_code == 401
    assert f"sessionId={sid}" in resp.request.headers["Cookie"]
    assert store_ids(session_server) == []


def test_logout_deletes_record_clears_cookie_and_replay_fails(session_server, http):
    sid = login(http, session_server.url)
    resp = http.post(session_server.url + "/logout")
    assert resp.status_code == 200
    assert "Max-Age=0" in resp.headers["Set-Cookie"] and resp.headers["Cache-Control"] == "no-store"
    assert len(http.cookies) == 0 and store_ids(session_server) == []
    replay = requests.get(session_server.url + "/profile", cookies={"sessionId": sid})
    assert replay.status_code == 401


def test_logout_without_a_session_is_harmless(session_server):
    assert requests.post(session_server.url + "/logout").status_code == 200


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/nope", 404), ("GET", "/login", 405), ("PUT", "/profile", 405),
    ("DELETE", "/logout", 405), ("BREW", "/profile", 405), ("HEAD", "/profile", 405),
])
def test_unknown_routes_and_methods(session_server, method, path, status):
    resp = requests.request(method, session_server.url + path)
    assert resp.status_code == status
    if status == 405:
        assert resp.headers["Allow"]


def test_server_records_events_and_never_prints(session_server, http, capsys):
    mark = session_server.mark()
    login(http, session_server.url)
    http.get(session_server.url + "/profile")
    records = session_server.records_since(mark)
    assert [r.status for r in records] == [200, 200]
    assert [e.kind for e in records[0].events] == ["credentials", "store.write"]
    assert records[1].events[0].found is True
    assert capsys.readouterr() == ("", "")


def raw(server, data: bytes, *, read: bool = True) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize("data, status", [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /profile HTTP/9.9\r\n\r\n", b"505"),
    (b"GET /profile HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: nope\r\nConnection: close\r\n\r\n", b"400"),
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
     b"Connection: close\r\n\r\nhello", b"400"),
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
     b"411"),
    (b"GET /profile HTTP/1.1\r\nConnection: close\r\n\r\n", b"400"),  # no Host header
    (b"GET /profile HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", b"400"),
    (b"GET /profile HTTP/1.0\r\n\r\n", b"401"),  # HTTP/1.0 needs no Host; closes after
    (b"GET /profile\r\n\r\n", b"400"),  # HTTP/0.9 is not spoken (RFC 9112 allows refusing it)
    (b"GET /profile HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n", b"400"),  # obs-fold
    (b"GET /profile HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n", b"400"),  # a bare CR
    (b"GET /profile HTTP/01.1\r\n\r\n", b"400"),  # a malformed version skips no Host rule
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: \xb2\r\n\r\n", b"400"),  # a non-ASCII digit
    (b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n\r\n", b"400"),  # space before :
])
def test_raw_socket_abuse_gets_4xx_and_server_keeps_serving(session_server, data, status):
    answer = raw(session_server, data)
    assert status in answer.split(b"\r\n")[0].split(b" ")[:2]
    assert requests.post(session_server.url + "/login", json=CREDS).status_code == 200


@pytest.mark.parametrize("half", [
    b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"em",  # half a body
    b"GET /profile HTTP/1.1\r\nHost: localhost\r\n",                                # half the headers
])
def test_silent_half_request_is_dropped(memory_store, clock, half):
    # A client that sends part of a request and goes quiet holds its thread only until the timeout.
    with AuthServer(SessionAuth(memory_store, 60, clock=clock), request_timeout=0.5) as server:
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(half)
            sock.settimeout(5)  # far beyond request_timeout: a timeout here is the failure
            assert sock.recv(100) == b""  # closed by the server, no response owed
        assert requests.get(server.url + "/profile").status_code == 401


def test_stop_closes_idle_keep_alive_connections(memory_store, clock):
    server = AuthServer(SessionAuth(memory_store, 60, clock=clock)).start()
    url = server.url
    session = requests.Session()
    session.get(url + "/profile")  # leaves a keep-alive connection (and its thread) open
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=5)  # half the 10 s request timeout: stop did not wait for the client
    assert not stopper.is_alive()
    session.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/profile", timeout=1)


def test_stop_is_prompt_with_many_idle_clients(memory_store, clock):
    server = AuthServer(SessionAuth(memory_store, 60, clock=clock)).start()
    clients = [socket.create_connection((server.host, server.port)) for _ in range(200)]
    try:
        for sock in clients[:50]:  # answered, then kept alive and idle
            sock.sendall(b"GET /profile HTTP/1.1\r\nHost: localhost\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 401")
        assert server.connections >= 200
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(timeout=5)
        assert not stopper.is_alive()
        for sock in clients:  # every connection was closed by the stop, none left hanging
            sock.settimeout(5)
            try:
                assert sock.recv(4096) == b""
            except ConnectionResetError:
                pass
    finally:
        for sock in clients:
            sock.close()


def test_pipelined_requests_get_their_answers_in_order(session_server):
    """Two requests in one packet: one answer each, in order (one request in, one answer out)."""
    login = (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
             b'{"email": "a@b.com", "password": "123"}')
    profile = b"GET /profile HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    answer = raw(session_server, login + profile)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert statuses == [b"200", b"401"]  # the second request carried no cookie


def test_the_scripted_client_finds_its_own_record_when_another_client_spoke_meanwhile():
    """A run that drives a browser beside its scripted client (the exercises' victims) can put a
    second request in the journal while the client waits: the client's exchange is the one from
    its own connection's address, never "expected one request, found 2"."""
    from authcli.client import ScriptedClient
    from authcli.stores.memory import MemoryStore

    with AuthServer(SessionAuth(MemoryStore())) as server:
        client = ScriptedClient(server)
        recorded = server.recorded

        def with_a_neighbour(ticket):
            requests.get(server.url + "/profile", timeout=5)  # someone else, between send and lookup
            return recorded(ticket)

        server.recorded = with_a_neighbour
        try:
            exchange = client.send("POST", "/login", json=CREDS)
        finally:
            client.close()
    assert (exchange.request.method, exchange.request.target, exchange.response.status) == ("POST", "/login", 200)
