"""The idle timeout beside the absolute one, on a movable clock, with both stores."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.policy import HARDENED_SESSIONS
from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.model import ExchangeBlock, TableBlock
from authcli.walkthroughs.session import session_walkthrough
from conftest import FakeClock

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

CREDS = {"email": "a@b.com", "password": "123"}


def _store(kind, clock, request):
    if kind == "memory":
        return MemoryStore(clock=clock)
    from authcli.stores.redis import RedisStore

    return RedisStore(request.getfixturevalue("redis_url"))


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_idle_ends_a_quiet_session_and_requests_slide_it(kind, request):
    clock = FakeClock()
    store = _store(kind, clock, request)
    auth = SessionAuth(store, 60, policy=replace(HARDENED_SESSIONS, idle=10), clock=clock)
    with AuthServer(auth) as server, requests.Session() as busy, requests.Session() as quiet:
        for client in (busy, quiet):
            client.post(server.url + "/login", json=CREDS, timeout=5)
        for _ in range(5):  # 40 s of activity, each request within the idle window
            clock.advance(8)
            assert busy.get(server.url + "/profile", timeout=5).status_code == 200
        answer = quiet.get(server.url + "/profile", timeout=5)
        assert answer.status_code == 401 and "idle" in answer.text
        assert len(store.snapshot().rows) == 1  # the quiet one's record was deleted
        clock.advance(8)
        assert busy.get(server.url + "/profile", timeout=5).status_code == 200
    store.close()


def test_the_absolute_limit_holds_however_busy():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    with AuthServer(SessionAuth(store, 30, policy=replace(HARDENED_SESSIONS, idle=10), clock=clock)) as server, \
            requests.Session() as busy:
        busy.post(server.url + "/login", json=CREDS, timeout=5)
        for _ in range(3):
            clock.advance(9)
            assert busy.get(server.url + "/profile", timeout=5).status_code == 200
        clock.advance(4)  # 31 s after login: past the absolute limit, 4 s after the last request
        assert busy.get(server.url + "/profile", timeout=5).status_code == 401


def test_the_demo_shows_a_quiet_and_a_busy_client():
    clock = FakeClock()
    steps = list(session_walkthrough(3, clock=clock, sleep=clock.advance, idle=1))
    quiet = next(s for s in steps if s.title.startswith("Idle timeout"))
    assert quiet.first(ExchangeBlock).exchange.response.status == 401
    rows = quiet.first(TableBlock).table.rows
    assert [r[1] for r in rows][:-1] == ["200 OK"] * (len(rows) - 1) and rows[-1][1] == "401 Unauthorized"
    busy = next(s for s in steps if s.title.startswith("B reaches the absolute limit"))
    assert busy.exchange.response.status == 401


def test_idle_must_be_shorter_than_the_absolute_timeout():
    result = CliRunner().invoke(app, ["demo", "session", "--ttl", "3", "--idle", "3"])
    assert result.exit_code == 2 and "must be shorter than --ttl" in result.stderr


def test_the_session_demo_narrates_the_deadline_that_really_ended_the_session():
    """With --idle, steps 6 and 7 wait for the idle deadline, which comes first, and say so: the
    server's own event is the idle one, never the absolute deadline. Without it, step 6 says the
    run has only an absolute timeout."""
    from authcli.events import SessionDeleted

    clock = FakeClock()
    steps = {s.number: s for s in session_walkthrough(3, clock=clock, sleep=clock.advance, idle=1)}
    assert steps[6].title.startswith("Waiting for the idle timeout")
    assert "The idle one comes first" in " ".join(steps[6].text)
    assert not any("would instead" in p for p in steps[6].text)
    ended = [e for e in steps[7].exchange.server if isinstance(e, SessionDeleted)]
    assert ended and ended[0].message.startswith("idle")
    said = " ".join(steps[7].text)
    assert "more than 1 s ago" in said and "before the absolute deadline" in said

    clock = FakeClock()
    plain = {s.number: s for s in session_walkthrough(3, clock=clock, sleep=clock.advance)}
    assert "only an absolute timeout" in " ".join(plain[6].text).lower()
    assert "expired at" in " ".join(plain[7].text)


def test_a_request_made_during_a_pause_moves_the_idle_wait_with_it():
    """A "try it" line run while a step is on screen (--step) is a real request: it slides the
    idle deadline. Step 6 waits for the deadline in the record as the wait begins and names that
    last request; the session still ends by its idle timeout, and the demo says so truthfully."""
    import re

    from authcli.events import SessionCreated, SessionDeleted

    clock = FakeClock()
    run = session_walkthrough(5, clock=clock, sleep=clock.advance, idle=2)
    steps, url, session_id = {}, None, None
    for each in run:
        steps[each.number] = each
        url = url or re.search(r"http://127\.0\.0\.1:\d+", each.title).group(0)
        for block in each.blocks:
            if isinstance(block, ExchangeBlock) and session_id is None:
                created = [e for e in block.exchange.server if isinstance(e, SessionCreated)]
                session_id = created[0].session_id if created else None
        if each.number == 5:  # the student runs the try-it line before step 6
            clock.advance(1)
            assert requests.get(url + "/profile", cookies={"sessionId": session_id}, timeout=5).status_code == 200
    moved = [r for r in steps[6].text if "that was at" in r]
    assert moved
    ended = [e for e in steps[7].exchange.server if isinstance(e, SessionDeleted)]
    assert ended and ended[0].message.startswith("idle")
