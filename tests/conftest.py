"""Shared fixtures: a movable clock and a session server on port 0 that is always stopped."""

from __future__ import annotations

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


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def login(http: requests.Session, url: str) -> str:
    resp = http.post(url + "/login", json=CREDS, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.cookies["sessionId"]
