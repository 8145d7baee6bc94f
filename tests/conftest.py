"""Shared fixtures: a movable clock and a session server on port 0 that is always stopped."""

from __future__ import annotations

import os

import pytest
import requests

from authcli.server import AuthServer, SessionAuth
from authcli.stores import MemoryStore

CREDS = {"email": "a@b.com", "password": "123"}


class FakeClock:
    """A clock tests move by hand, so expiry needs no sleeping."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def memory_store(clock):
    return MemoryStore(clock=clock)


@pytest.fixture
def session_server(memory_store, clock):
    auth = SessionAuth(memory_store, ttl=60, clock=clock)
    with AuthServer(auth, request_timeout=2.0) as server:
        yield server


REDIS_HINT = ("Redis tests need a redis-server binary: apt-get install redis-server "
              "(set AUTHCLI_REQUIRE_REDIS=1 to make its absence a failure, as CI does)")


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server for the whole run, on a free port, stopped at the end."""
    import shutil

    from authcli.stores.redis import ThrowawayRedis

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("AUTHCLI_REQUIRE_REDIS"):
            pytest.fail("AUTHCLI_REQUIRE_REDIS is set but " + REDIS_HINT)
        pytest.skip(REDIS_HINT)
    server = ThrowawayRedis(binary)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The shared test Redis, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def login(http: requests.Session, url: str) -> str:
    resp = http.post(url + "/login", json=CREDS, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.cookies["sessionId"]


def hammer(client, threads: int = 8) -> list:
    """Run client(n) in `threads` threads at once; every exception is returned, none lost."""
    import threading

    errors: list = []

    def run(n: int) -> None:
        try:
            client(n)
        except Exception as err:
            errors.append((n, repr(err)))

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors
