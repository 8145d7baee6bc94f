"""Redis as the session store: real redis-server, restarts, outages, concurrency, start-up rules."""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.errors import StoreMissing
from authcli.stores.redis import RETRY_AFTER, RedisConnection, RedisStore, ThrowawayRedis, free_port
from authcli.walkthroughs.session import session_walkthrough
from authcli.events import SessionCreated, SessionDeleted, SessionLookedUp
from conftest import CREDS, ServeProcess, hammer, login

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)


def test_walkthrough_with_redis_shows_commands_and_real_keys(redis_url):
    steps = list(session_walkthrough(1, make_store=lambda: RedisStore(redis_url)))
    by = {s.number: s for s in steps if s.number}
    sid = by[2].exchange.event(SessionCreated).session_id
    assert by[2].exchange.event(SessionCreated).message.startswith(f"SET session:{sid} '")
    assert " EX 1 NX -> OK" in by[2].exchange.event(SessionCreated).message
    assert by[2].store.facts.name == "redis" and by[2].store.rows[0].key == f"session:{sid}"
    assert by[4].exchange.event(SessionLookedUp).message.startswith(f"GET session:{sid} -> '")
    # Redis expired the key by itself: the server's GET found nothing.
    assert by[7].exchange.event(SessionLookedUp).message.startswith(f"GET session:{sid} -> (nil)")
    assert by[7].exchange.response.status == 401 and by[7].store.rows == []
    assert by[9].exchange.event(SessionDeleted).message.endswith("-> (integer) 1")
    # The session outlived the server restart.
    assert by[12].exchange.response.status == 200 and len(by[12].store.rows) == 1
    assert "still worked (200, step 12)" in steps[-1].tables[0].rows[3][1]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_sessions_outlive_a_restart_only_with_redis(kind, request):
    def make():
        return RedisStore(request.getfixturevalue("redis_url")) if kind == "redis" else MemoryStore()

    http = requests.Session()
    with AuthServer(SessionAuth(make(), 60)) as first:
        login(http, first.url)
    with AuthServer(SessionAuth(make(), 60)) as second:
        status = http.get(second.url + "/profile").status_code
    assert status == (200 if kind == "redis" else 401)


def test_serve_with_redis_survives_its_own_restart(redis_url):
    http = requests.Session()
    statuses = []
    for round_ in range(2):
        with ServeProcess("--store", "redis", "--redis-url", redis_url, "--port", "0") as serve:
            url = serve.url()
            if round_ == 0:
                login(http, url)
            statuses.append(http.get(url + "/profile").status_code)
            assert serve.stop(signal.SIGINT) == 0
        assert f"Using Redis at {redis_url}" in serve.err
    assert statuses == [200, 200]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_concurrent_clients_never_cross_sessions(kind, request):
    store = RedisStore(request.getfixturevalue("redis_url")) if kind == "redis" else MemoryStore()
    issued, lock = [], threading.Lock()
    with AuthServer(SessionAuth(store, 60)) as server:
        def client(n: int) -> None:
            for _ in range(4):
                with requests.Session() as http:
                    sid = login(http, server.url)
                    for _ in range(5):
                        resp = http.get(server.url + "/profile")
                        assert resp.status_code == 200 and resp.request.headers["Cookie"] == f"sessionId={sid}"
                    assert http.post(server.url + "/logout").status_code == 200
                    assert http.get(server.url + "/profile").status_code == 401, "alive after logout"
                    with lock:
                        issued.append(sid)

        assert hammer(client) == []
        assert server.handler_errors == 0
    assert len(issued) == len(set(issued)) == 32
    assert store.snapshot().rows == []
    store.close()


def test_redis_going_away_gives_503_then_recovers(redis_server):
    binary = shutil.which("redis-server")  # present: the fixture skips (or fails, in CI) otherwise
    port = free_port()
    redis = ThrowawayRedis(binary, port)
    store = RedisStore(redis.url)
    try:
        with AuthServer(SessionAuth(store, 60)) as server:
            http = requests.Session()
            login(http, server.url)
            redis.stop()
            down = http.get(server.url + "/profile")
            assert down.status_code == 503 and "Session store unavailable" in down.text
            assert requests.post(server.url + "/login", json=CREDS).status_code == 503
            assert requests.get(server.url + "/nope").status_code == 404  # still serving
            redis = ThrowawayRedis(binary, port)
            # Back: after at most RETRY_AFTER (the store fails fast meanwhile, never hangs)...
            deadline = time.monotonic() + RETRY_AFTER + 1
            while (status := http.get(server.url + "/profile").status_code) == 503 and time.monotonic() < deadline:
                time.sleep(0.1)
            # ...and a throwaway Redis has no persistence, so log in again; it all works.
            assert status == 401
            login(http, server.url)
            assert http.get(server.url + "/profile").status_code == 200
            assert server.handler_errors == 0
    finally:
        redis.stop()
        store.close()


def test_connection_starts_a_throwaway_when_nothing_answers(redis_server):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with RedisConnection(dead) as conn:
        assert conn.url != dead and "started a throwaway redis-server" in conn.note
        store = RedisStore(conn.url)
        store.ping()
        store.close()
        url = conn.url
    with pytest.raises(Exception):
        RedisStore(url).ping()


def test_connection_uses_a_live_url_and_redis_url_env(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    with RedisConnection() as conn:
        assert conn.url == redis_url and conn.note == f"Using Redis at {redis_url}."


def test_no_redis_anywhere_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreMissing, match="apt-get install redis-server"):
        RedisConnection(dead).__enter__()
    result = CliRunner().invoke(app, ["demo", "session", "--store", "redis", "--redis-url", dead])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no redis-server is installed" in lines[0]


def test_demo_session_redis_json(redis_url):
    result = CliRunner().invoke(app, ["demo", "session", "--store", "redis", "--redis-url", redis_url,
                                      "--ttl", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json
    doc = json.loads(result.stdout)
    login_step = next(s for s in doc["steps"] if s["number"] == 2)
    assert login_step["store"]["backend"] == "redis"
    assert login_step["store"]["rows"][0]["key"].startswith("session:")


def test_redis_dying_mid_demo_ends_with_one_clear_error(redis_server):
    from authcli.errors import AuthcliError

    redis = ThrowawayRedis(shutil.which("redis-server"))
    steps = session_walkthrough(1, make_store=lambda: RedisStore(redis.url))
    try:
        next(steps)
        redis.stop()
        with pytest.raises(AuthcliError) as caught:
            list(steps)
        message = str(caught.value)
        assert "\n" not in message and ("503" in message or "not answering" in message)
    finally:
        steps.close()
        redis.stop()
