"""The session walkthrough's data: run on a fake clock, so expiry costs no waiting."""

from __future__ import annotations

import pytest

from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.session import session_walkthrough
from authcli.events import FixationChecked, SessionCreated, SessionDeleted, SessionLookedUp
from authcli.render.jsonout import step_json
from authcli.walkthroughs.model import Defences, NotesBlock


@pytest.fixture(scope="module")
def steps():
    from conftest import FakeClock
    clock = FakeClock()
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    result = list(session_walkthrough(3, make_store=lambda: MemoryStore(clock=clock), clock=clock, sleep=sleep))
    assert len(slept) == 1 and slept[0] > 3  # the walkthrough itself made sure expiry happened
    return result


def by_number(steps, n):
    return next(s for s in steps if s.number == n)


def test_step_order_and_statuses(steps):
    numbered = [s for s in steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 13))
    statuses = [s.exchange.response.status if s.exchange else None for s in numbered]
    assert statuses == [401, 200, None, 200, 401, None, 401, 200, 200, 401, 200, 401]
    assert steps[0].title.startswith("A real server on http://127.0.0.1:")
    assert steps[-1].title == "Recap"


def test_every_step_teaches_something(steps):
    # A numbered step says something; the recap may be its table alone.
    assert all(s.text and all(p.strip() for p in s.text) for s in steps if s.number is not None)
    assert all(p.strip() for p in steps[-1].text) and steps[-1].tables


def test_wrong_password_leaves_store_empty(steps):
    step = by_number(steps, 1)
    assert step.exchange.request.body == '{"email": "a@b.com", "password": "wrong"}'
    assert step.exchange.response.body == "Wrong credentials\n"
    assert step.store.rows == []


def test_login_step_shows_set_cookie_and_store_row(steps):
    step = by_number(steps, 2)
    sid = step.exchange.event(SessionCreated).session_id
    assert step.exchange.response.header("Set-Cookie") == f"sessionId={sid}; Path=/; HttpOnly; SameSite=Lax"
    assert step.store.ids() == [sid]
    assert set(step.store.rows[0].value) == {"userId", "createdAt", "expiresAt"}
    jar_step = by_number(steps, 3)  # the attributes explained beside the jar that keeps them...
    assert {n.term for n in jar_step.first(NotesBlock).notes} >= {"Path=/", "Secure (left off)"}
    # ...while HttpOnly and SameSite, which only a browser acts on, are demo browser's to show
    assert jar_step.first(Defences) is None and "demo browser" in " ".join(jar_step.text)


def test_jar_then_cookie_goes_back_automatically(steps):
    sid = by_number(steps, 2).exchange.event(SessionCreated).session_id
    jar = by_number(steps, 3).cookie_jar
    assert [(c.name, c.value, c.http_only, c.same_site, c.secure) for c in jar] == [
        ("sessionId", sid, True, "Lax", False)]
    profile = by_number(steps, 4).exchange
    assert profile.request.header("Cookie") == f"sessionId={sid}"
    assert profile.response.body == "Welcome user 1\n"
    assert f'sessionStore["{sid}"] -> {{"userId": 1' in profile.event(SessionLookedUp).message


def test_forged_id_writes_nothing(steps):
    step = by_number(steps, 5)
    forged = step.exchange.request.header("Cookie").split("=", 1)[1]
    assert forged not in step.store.ids() and len(step.store.rows) == 1


def test_expiry_is_the_servers_doing(steps):
    wait = by_number(steps, 6)
    assert wait.wait and wait.wait > 2.5
    step = by_number(steps, 7)
    sid = by_number(steps, 2).exchange.event(SessionCreated).session_id
    assert step.exchange.request.header("Cookie") == f"sessionId={sid}"  # still sent
    assert step.exchange.response.status == 401 and step.store.rows == []
    assert [c.value for c in step.cookie_jar] == [sid]


def test_relogin_logout_and_replay(steps):
    old = by_number(steps, 2).exchange.event(SessionCreated).session_id
    relogin = by_number(steps, 8)
    new = relogin.exchange.event(SessionCreated).session_id
    assert new != old and relogin.exchange.events(FixationChecked)
    logout = by_number(steps, 9)
    assert "Max-Age=0" in logout.exchange.response.header("Set-Cookie")
    assert logout.cookie_jar == [] and logout.store.rows == []
    replay = by_number(steps, 10)
    assert replay.exchange.request.header("Cookie") == f"sessionId={new}"
    assert replay.exchange.response.status == 401


def test_restart_loses_memory_sessions(steps):
    login, after = by_number(steps, 11), by_number(steps, 12)
    sid = login.exchange.event(SessionCreated).session_id
    assert login.store.ids() == [sid]
    assert after.exchange.request.header("Cookie") == f"sessionId={sid}"
    assert after.exchange.response.status == 401 and after.store.rows == []
    assert "(401, step 12)" in steps[-1].tables[0].rows[3][1]


def test_recap_counts_real_bytes(steps):
    recap = steps[-1]
    cookie = by_number(steps, 4).exchange.request.header("Cookie")
    assert f"{len('Cookie: ' + cookie)} bytes" in recap.tables[0].rows[1][1]
    assert [row[0] for row in recap.tables[0].rows] == [
        "Data stored in", "Auth sent via", "Server checks", "Scaling"]


def test_json_shape(steps):
    data = step_json(by_number(steps, 2))
    assert set(data["request"]) >= {"method", "url", "headers", "body"}
    assert set(data["response"]) >= {"status", "headers", "body"}
    assert data["store"]["rows"][0]["value"]["userId"] == 1


def test_closing_early_stops_the_server():
    gen = session_walkthrough(3)
    intro = next(gen)
    url = intro.title.split(" on ")[1]
    gen.close()
    import requests
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/profile", timeout=1)


def test_long_pauses_between_steps_never_break_the_story():
    """--step: a teacher may talk for minutes on any step; the traffic shown stays consistent."""
    from conftest import FakeClock
    clock = FakeClock()
    steps = []
    for step in session_walkthrough(3, make_store=lambda: MemoryStore(clock=clock), clock=clock, sleep=clock.advance):
        steps.append(step)
        clock.advance(120)  # the class discusses this step for two minutes
    statuses = [s.exchange.response.status for s in steps if s.exchange]
    assert statuses == [401, 200, 200, 401, 401, 200, 200, 401, 200, 401]
    wait = by_number(steps, 6)
    assert "already passed" in wait.text[0] and wait.store.rows == []
    assert by_number(steps, 9).exchange.event(SessionDeleted).deleted
