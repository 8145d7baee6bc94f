"""No 500 and no traceback (issue #22): the places earlier fixes missed, each as a class of
generated inputs: Redis answers authcli did not write, /attacker/log positions, refresh bodies,
CLI values that are not UTF-8, files that are not regular, tokens authcli's verifier refuses,
key files in hostile folders, answer lines of any length."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.errors import StoreUnavailable
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.lab.crosssite import SHOWN, CrossSiteLab
from authcli.server.journal import Journal, Request, RequestRecord
from authcli.server.schemes.refresh_auth import RefreshAuth
from authcli.stores.memory import MemoryStore
from authcli.stores.redis import RedisStore, ThrowawayRedis
from authcli.tokens.signing import make_signing_key
from conftest import CREDS, FakeClock, login
from test_box import Listener

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=min(12, FUZZ.max_examples))


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.output
    return lines[0]


# Redis answers that are not what authcli wrote.

REPLIES = [b"-ERR unknown command\r\n", b"-READONLY You can't write against a read only replica.\r\n",
           b"-NOAUTH Authentication required.\r\n", b"garbage\r\n", b"$5\r\n\xff\xfe\xfd\xfc\xfb\r\n",
           b"$8\r\nnot json\r\n", b"$3\r\n[1]\r\n", b"*1\r\n:1\r\n", b":7\r\n", b"+OK\r\n", b"$-1\r\n"]


def _replying(reply: bytes):
    def answer(conn: socket.socket) -> None:
        while conn.recv(65536):
            conn.sendall(reply)
    return answer


@FEW
@given(reply=st.one_of(st.sampled_from(REPLIES), st.binary(min_size=1, max_size=40).map(lambda b: b + b"\r\n")))
def test_a_redis_answering_anything_is_a_store_error_never_a_traceback(reply):
    with Listener("127.0.0.1", _replying(reply)) as fake:
        store = RedisStore(f"redis://127.0.0.1:{fake.port}/0")
        try:
            for call in (lambda: store.create("A" * 43, {"userId": 1}, 60), lambda: store.get("A" * 43),
                         lambda: store.delete("A" * 43), store.count, store.snapshot):
                store._down_until = 0  # every call reaches the fake, not the fail-fast window
                try:
                    call()
                except StoreUnavailable:
                    pass
        finally:
            store.close()


@FEW
@given(reply=st.sampled_from(REPLIES))
def test_a_server_on_a_misbehaving_redis_answers_503_or_401_never_500(reply):
    with Listener("127.0.0.1", _replying(reply)) as fake:
        store = RedisStore(f"redis://127.0.0.1:{fake.port}/0")
        with AuthServer(SessionAuth(store, 60)) as server:
            for method, path, kwargs in (("POST", "/login", {"json": CREDS}),
                                         ("GET", "/profile", {"cookies": {"sessionId": "A" * 43}}),
                                         ("GET", "/session/record", {"cookies": {"sessionId": "A" * 43}}),
                                         ("POST", "/logout", {"cookies": {"sessionId": "A" * 43}})):
                store._down_until = 0
                resp = requests.request(method, server.url + path, timeout=5, **kwargs)
                assert resp.status_code in (200, 401, 503), (reply, path, resp.text)
            assert server.handler_errors == 0
        store.close()


def test_a_read_only_replica_makes_login_503_with_a_clear_line():
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    replica = ThrowawayRedis(binary)
    try:
        import redis as redis_py

        client = redis_py.Redis.from_url(replica.url)
        client.execute_command("REPLICAOF", "127.0.0.1", "1")  # a primary that never answers
        client.close()
        store = RedisStore(replica.url)
        with AuthServer(SessionAuth(store, 60)) as server:
            resp = requests.post(server.url + "/login", json=CREDS, timeout=5)
            assert resp.status_code == 503 and "read only replica" in resp.text and resp.headers["Retry-After"]
        store.close()
    finally:
        replica.stop()


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b"\xff\xfe", b'"a string"', b"null"])
def test_a_session_key_holding_a_value_authcli_did_not_write_is_503_with_a_reason(redis_url, value):
    import redis as redis_py

    sid = "B" * 43
    client = redis_py.Redis.from_url(redis_url)
    client.set(f"session:{sid}", value, ex=60)
    client.close()
    store = RedisStore(redis_url)
    with AuthServer(SessionAuth(store, 60)) as server:
        resp = requests.get(server.url + "/profile", cookies={"sessionId": sid}, timeout=5)
        assert resp.status_code == 503 and "Redis" in resp.text and server.handler_errors == 0
        assert store.snapshot().rows == []
    store.close()


@pytest.mark.parametrize("reply", [b"-ERR no\r\n", b"+PONG\r\n", b"$3\r\nabc\r\n", b"*1\r\n:1\r\n", b"zzz\r\n"])
@pytest.mark.parametrize("demo", [("session",), ("refresh",)])
def test_a_demo_on_a_redis_that_answers_wrongly_is_one_line(reply, demo):
    with Listener("127.0.0.1", _replying(reply)) as fake:
        result = run("demo", *demo, "--store", "redis", "--redis-url", f"redis://127.0.0.1:{fake.port}/0")
    assert "not as a usable Redis" in one_line_error(result)


def test_a_demo_on_a_redis_that_refuses_writes_is_one_line():
    """A real redis-server out of memory (noeviction): PING answers, every SET is -OOM."""
    import shutil
    import subprocess

    from authcli.stores.redis import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--maxmemory", "1", "--maxmemory-policy", "noeviction"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        result = run("demo", "session", "--store", "redis", "--redis-url", f"redis://127.0.0.1:{port}/0", "-f", "json")
        assert result.exit_code in (1, 2) and "maxmemory" in result.output.splitlines()[-1]
        assert "Traceback" not in result.output
    finally:
        proc.terminate()
        proc.wait()


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "x." + "b" * 70])
def test_a_redis_url_whose_host_idna_refuses_is_one_line(host):
    result = run("demo", "session", "--store", "redis", "--redis-url", f"redis://{host}:6379/0")
    one_line_error(result)


# /attacker/log

@FUZZ
@given(since=st.one_of(st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=5),
                       st.text("0123456789", min_size=1, max_size=6000), st.text(max_size=20)))
def test_attacker_log_takes_any_since_without_a_500(since):
    from urllib.parse import quote

    journal = Journal(10)
    journal.record(RequestRecord(Request("GET", "/profile", "HTTP/1.1", []), 401, []))
    response = CrossSiteLab(journal, "session").handle(
        Request("GET", "/attacker/log?since=" + quote(since), "HTTP/1.1", [("Host", "localhost")]))
    assert response.status == 200 and "requests" in json.loads(response.body)


CREDENTIAL = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=2 * SHOWN + 1,
                     max_size=80)


@FUZZ
@given(secret=CREDENTIAL, where=st.sampled_from(["bare cookie", "cookie name", "cookie value", "second cookie",
                                                 "authorization scheme", "origin", "sec-fetch"]))
def test_the_log_never_shows_a_credential_whole_wherever_it_stands(secret, where):
    headers = {"bare cookie": [("Cookie", secret)], "cookie name": [("Cookie", f"{secret}=1")],
               "cookie value": [("Cookie", f"a={secret}")], "second cookie": [("Cookie", f"a=1; {secret}")],
               "authorization scheme": [("Authorization", secret)], "origin": [("Origin", f"http://{secret}")],
               "sec-fetch": [("Sec-Fetch-Site", secret)]}[where]
    journal = Journal(10)
    journal.record(RequestRecord(Request("GET", "/profile", "HTTP/1.1", [("Host", "localhost"), *headers]), 401, []))
    body = CrossSiteLab(journal, "session").handle(
        Request("GET", "/attacker/log?since=0", "HTTP/1.1", [("Host", "localhost")])).body
    assert secret not in body and "characters)" in body  # shortened, with its length


def test_a_classroom_server_shows_its_journal_to_loopback_clients_only():
    lab = CrossSiteLab(Journal(10), "session", private=True)
    asked = Request("GET", "/attacker/log?since=0", "HTTP/1.1", [("Host", "192.168.1.20:8000")])
    asked.peer = ("192.168.1.31", 50000)
    assert lab.handle(asked).status == 403
    asked.peer = ("127.0.0.1", 50000)
    assert lab.handle(asked).status == 200
    assert CrossSiteLab(Journal(10), "session").handle(asked).status == 200


def test_a_real_nameless_cookie_is_shortened_in_the_served_log(session_server, http):
    sid = login(http, session_server.url)
    requests.get(session_server.url + "/profile", headers={"Cookie": sid}, timeout=5)
    requests.get(session_server.url + "/profile", headers={"Cookie": f"{sid}=x"}, timeout=5)
    body = requests.get(session_server.url + "/attacker/log?since=0", timeout=5).text
    assert sid not in body and sid[:SHOWN] in body


@FUZZ
@given(secret=CREDENTIAL)
def test_the_serve_log_never_shows_a_credential_whole(secret):
    from authcli.render.serve import log_line
    from authcli.events import SessionCreated

    record = RequestRecord(Request("GET", f"/profile?sessionId={secret}", "HTTP/1.1", []), 200,
                           [SessionCreated(f'SET session:{secret} \'{{"userId": 1}}\' EX 60 NX -> OK')])
    line = log_line(record, "[store: 1 session]", color=False)
    assert secret not in line and secret[:SHOWN] in line and "GET /profile?sessionId=" in line


# The refresh routes.

@pytest.fixture
def refresh_server():
    clock = FakeClock()
    app = RefreshAuth(make_signing_key("HS256"), MemoryStore(clock=clock), 30, clock=clock)
    with AuthServer(app) as server:
        yield server


@FUZZ
@given(prefix=st.text(max_size=10), surrogate=st.integers(0xD800, 0xDFFF), suffix=st.text(max_size=10))
def test_a_lone_surrogate_in_a_refresh_token_is_400(refresh_server, prefix, surrogate, suffix):
    body = '{"refresh_token": ' + json.dumps(prefix)[:-1] + f"\\u{surrogate:04x}" + json.dumps(suffix)[1:] + "}"
    for path in ("/refresh", "/logout"):
        resp = requests.post(refresh_server.url + path, data=body.encode(), timeout=5,
                             headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, resp.text
    assert refresh_server.handler_errors == 0


@FUZZ
@given(body=st.one_of(st.binary(min_size=1, max_size=30).filter(lambda b: not b.strip().startswith(b"{")),
                      st.just(b"{not json"), st.just(b'{"refresh_token": 5}')))
def test_a_logout_with_a_bad_body_still_revokes_the_access_token(refresh_server, body):
    tokens = requests.post(refresh_server.url + "/login", json=CREDS, timeout=5).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    resp = requests.post(refresh_server.url + "/logout", data=body, headers=bearer, timeout=5)
    assert resp.status_code == 400 and "denylisted all the same" in resp.text
    assert requests.get(refresh_server.url + "/profile", headers=bearer, timeout=5).status_code == 401


# The CLI: one line, exit 2.

# Not starting with "-": that would be an option to click, a usage error of its own.
NOT_UTF8 = st.binary(min_size=1, max_size=8).filter(lambda b: not _decodes(b) and not b.startswith(b"-")).map(os.fsdecode)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FUZZ
@given(value=NOT_UTF8, command=st.sampled_from([
    ("sign", "--sub", "1", "--secret", "{}"), ("sign", "-c", "{}", "--secret", "s"),
    ("decode", "{}", "--secret", "s"), ("decode", "a.b.c", "--secret", "{}"),
    ("serve", "--host", "{}"), ("serve", "--mode", "jwt", "--secret", "{}"),
    ("demo", "jwt", "--secret", "{}"), ("keys", "--name", "{}"), ("lab", "{}"), ("crack", "{}")]))
def test_a_value_that_is_not_utf8_is_one_line(value, command):
    args = [a.replace("{}", value) for a in command]
    line = one_line_error(run(*args))
    assert "is not valid UTF-8 text" in line


@FUZZ
@given(value=NOT_UTF8)
def test_decodes_fast_path_refuses_text_that_is_not_utf8(value, capsys):
    from authcli.cli.inspecting import fast_decode

    assert fast_decode(["a.b.c", "--secret", value]) == 2
    assert fast_decode([value]) == 2
    assert capsys.readouterr().err.count("\n") == 2


@pytest.fixture(scope="module")
def fifo(tmp_path_factory):
    path = tmp_path_factory.mktemp("fifo") / "named"
    os.mkfifo(path)
    return str(path)


TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln"


@pytest.mark.parametrize("args", [
    ("decode", TOKEN, "--key", "{}"), ("decode", TOKEN, "--secret-file", "{}"), ("crack", TOKEN, "--wordlist", "{}"),
    ("sign", "--sub", "1", "--key", "{}"), ("sign", "--sub", "1", "--secret-file", "{}"),
    ("serve", "--mode", "jwt", "--key", "{}", "--port", "0"),
    ("serve", "--https", "--cert", "{}", "--cert-key", "{}", "--port", "0")])
@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/urandom", "/"])
def test_a_fifo_or_device_where_a_file_is_expected_is_one_line(fifo, args, target):
    started = time.monotonic()
    result = run(*[a.replace("{}", fifo if target == "fifo" else target) for a in args])
    assert "not a regular file" in one_line_error(result) and time.monotonic() - started < 5


@FUZZ
@given(days=st.integers(2_926_000, 999_999_999))
def test_sign_refuses_an_exp_past_year_9999(days):
    assert "NumericDate" in one_line_error(run("sign", "--exp", f"{days}d", "--secret", "s"))


@FUZZ
@given(name=st.sampled_from(["iat", "exp", "nbf", "sub", "iss", "jti", "aud"]),
       value=st.one_of(st.text(max_size=5).map(json.dumps), st.sampled_from(["true", "null", "[1]", '{"a": 1}',
                                                                             "1e400", "-1e300", "[\"a\", 1]"])))
def test_sign_refuses_claims_authcli_would_refuse(name, value):
    from authcli.tokens.checks import claim_problems

    result = run("sign", "-c", f"{name}={value}", "--secret", "s", "--no-iat")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    if claim_problems({name: parsed}):
        assert "refusing to sign" in one_line_error(result)
    else:
        assert result.exit_code == 0, result.output


def test_sign_refuses_a_claim_nested_a_thousand_deep():
    assert "nested too deeply" in one_line_error(run("sign", "-c", "x=" + "[" * 1000 + "]" * 1000, "--secret", "s"))


@pytest.mark.parametrize("extra", [("--alg", "RS256"), ("--key", "k.pem"), ("--idle", "5"), ("--open",),
                                   ("--store", "redis")])
def test_serve_weak_refuses_options_it_would_ignore(extra):
    assert "leave out" in one_line_error(run("serve", "--weak", "alg-none", *extra, "--port", "0"))


@pytest.mark.parametrize("option", ["--ttl", "--idle"])
def test_serve_ttl_and_idle_have_an_upper_bound(option):
    result = run("serve", option, "86401", "--port", "0")
    assert result.exit_code == 2 and "86400" in result.output


# Files authcli writes.

def _keys(out, *more):
    return run("keys", "--alg", "ES256", "--out", str(out), *more)


def test_keys_never_writes_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    link = tmp_path / "authcli-es256.private.pem"
    link.symlink_to(target)  # dangling
    assert "exists" in one_line_error(_keys(tmp_path))
    assert not target.exists()
    assert _keys(tmp_path, "--force").exit_code == 0
    assert not target.exists() and not link.is_symlink()
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


def test_keys_replaces_a_planted_file_instead_of_writing_into_it(tmp_path):
    planted = tmp_path / "authcli-es256.private.pem"
    planted.write_text("")
    planted.chmod(0o666)
    held = open(planted, "rb")  # what the planter kept open to read the key later
    try:
        assert _keys(tmp_path, "--force").exit_code == 0
        assert held.read() == b""
    finally:
        held.close()
    assert stat.S_IMODE(planted.stat().st_mode) == 0o600 and b"PRIVATE KEY" in planted.read_bytes()
    assert stat.S_IMODE((tmp_path / "authcli-es256.public.pem").stat().st_mode) == 0o644


def test_keys_creates_its_folder_and_reports_os_errors_in_one_line(tmp_path):
    assert _keys(tmp_path / "new" / "folder").exit_code == 0
    assert (tmp_path / "new" / "folder" / "authcli-es256.jwks.json").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line_error(_keys(blocker))
    one_line_error(_keys(blocker / "below"))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --predict reads bounded answer lines.

@FUZZ
@given(first=st.text(st.characters(blacklist_characters="\r\n"), max_size=500), length=st.integers(0, 300_000))
def test_an_answer_line_of_any_length_is_read_in_bounded_time(first, length):
    from authcli.cli.common import MAX_ANSWER, read_answer

    stream = io.StringIO(first + "x" * length + "\nnext\n")
    answer = read_answer(stream)
    assert answer == (first + "x" * length)[:MAX_ANSWER]
    assert read_answer(stream) == "next" and read_answer(stream) is None


def test_ten_megabytes_on_stdin_to_predict_is_quick():
    started = time.monotonic()
    result = run("demo", "jwt", "--step", "--predict", "--ttl", "1", input="x" * 10_000_000 + "\n")
    assert result.exit_code == 0 and time.monotonic() - started < 30
