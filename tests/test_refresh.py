"""Refresh tokens, rotation, reuse detection, family revocation and the jti denylist, on a
movable clock, with both stores; and the demo that narrates them."""

from __future__ import annotations

import json
import os

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.refresh_auth import RefreshAuth, digest
from authcli.stores.memory import MemoryStore
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.refresh import refresh_walkthrough
from conftest import FakeClock

CREDS = {"email": "a@b.com", "password": "123"}
FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _store(kind: str, clock, request):
    if kind == "memory":
        return MemoryStore(clock=clock)
    from authcli.stores.redis import RedisStore

    return RedisStore(request.getfixturevalue("redis_url"))


@pytest.fixture(params=["memory", "redis"])
def server(request):
    clock = FakeClock()
    store = _store(request.param, clock, request)
    app = RefreshAuth(make_signing_key("HS256"), store, 2, clock=clock)
    with AuthServer(app) as running:
        running.clock = clock
        yield running
    store.close()


def _login(server) -> tuple[str, str]:
    body = requests.post(server.url + "/login", json=CREDS, timeout=5).json()
    return body["access_token"], body["refresh_token"]


def _refresh(server, token: str) -> requests.Response:
    return requests.post(server.url + "/refresh", json={"refresh_token": token}, timeout=5)


def _profile(server, token: str) -> requests.Response:
    return requests.get(server.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_rotation_gives_a_new_pair_and_retires_the_old_refresh_token(server):
    access, refresh = _login(server)
    store = server.app.store
    assert store.get(f"refresh:{digest(refresh)}")["state"] == "active"
    assert all(refresh not in json.dumps(row.value) and refresh not in row.key for row in store.snapshot().rows)
    server.clock.advance(3)
    assert _profile(server, access).status_code == 401  # the access token expired
    rotated = _refresh(server, refresh)
    assert rotated.status_code == 200
    new_access, new_refresh = rotated.json()["access_token"], rotated.json()["refresh_token"]
    assert new_refresh != refresh and _profile(server, new_access).status_code == 200
    assert store.get(f"refresh:{digest(refresh)}")["state"] == "used"


def test_reuse_revokes_the_whole_family(server):
    _, stolen = _login(server)
    newest = _refresh(server, stolen).json()["refresh_token"]
    reuse = _refresh(server, stolen)
    assert reuse.status_code == 401 and "reuse" in reuse.text
    assert _refresh(server, newest).status_code == 401  # the legitimate client's token died too
    other_access, other_refresh = _login(server)  # a new login is a new family: unaffected
    assert _refresh(server, other_refresh).status_code == 200


def test_reuse_denylists_the_familys_unexpired_access_tokens(server):
    """What the 401 says is true: the access token from that login dies too, not only its refresh
    tokens (RFC 9700 4.14.2 promises only the refresh token; this server does more, and says so)."""
    first_access, stolen = _login(server)
    rotated = _refresh(server, stolen).json()
    assert _profile(server, first_access).status_code == 200 and _profile(server, rotated["access_token"]).status_code == 200
    other_access, _ = _login(server)  # another login: another family, untouched
    reuse = _refresh(server, stolen)
    assert reuse.status_code == 401 and "this login is revoked" in reuse.text
    for token in (first_access, rotated["access_token"]):
        denied = _profile(server, token)
        assert denied.status_code == 401 and "on the denylist" in denied.text
    assert _profile(server, other_access).status_code == 200
    family = server.app.store.get(f"family:{server.app.store.get(f'refresh:{digest(stolen)}')['family']}")
    assert family["state"] == "revoked" and set(family["access"]) == {split(first_access).payload["jti"],
                                                                       split(rotated["access_token"]).payload["jti"]}


def test_logout_denylists_the_jti_until_exp(server):
    access, refresh = _login(server)
    bye = requests.post(server.url + "/logout", json={"refresh_token": refresh},
                        headers={"Authorization": f"Bearer {access}"}, timeout=5)
    assert bye.status_code == 200
    denied = _profile(server, access)
    assert denied.status_code == 401 and "on the denylist" in denied.text
    assert _refresh(server, refresh).status_code == 401
    jti, exp = split(access).payload["jti"], split(access).payload["exp"]
    row = server.app.store.snapshot().get(f"deny:{jti}")
    assert row is not None and 0 < row.ttl <= exp - server.clock() + 1


def test_the_denylist_entry_expires_with_the_token():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    app = RefreshAuth(make_signing_key("HS256"), store, 2, clock=clock)
    with AuthServer(app) as server:
        access, refresh = _login(server)
        requests.post(server.url + "/logout", headers={"Authorization": f"Bearer {access}"}, timeout=5)
        jti = split(access).payload["jti"]
        assert store.get(f"deny:{jti}") is not None
        clock.advance(3)
        assert store.get(f"deny:{jti}") is None  # gone with the token's life...
        refused = _profile(server, access)
        assert refused.status_code == 401 and "exp" in refused.text  # ...and exp refuses it anyway


def test_only_a_valid_token_of_this_server_is_denylisted():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    with AuthServer(RefreshAuth(make_signing_key("HS256"), store, 2, clock=clock)) as server:
        forged = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.c2ln"
        for token in ("garbage", forged):
            answer = requests.post(server.url + "/logout", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert answer.status_code == 200
        assert store.snapshot().rows == [] and server.handler_errors == 0


@FUZZ
@given(body=st.one_of(st.binary(max_size=80), st.dictionaries(st.text(max_size=20), st.text(max_size=40)).map(
    lambda d: json.dumps(d).encode())))
def test_no_refresh_body_gets_a_5xx(body):
    clock = FakeClock()
    with AuthServer(RefreshAuth(make_signing_key("HS256"), MemoryStore(clock=clock), 2, clock=clock)) as server:
        for path in ("/refresh", "/logout"):
            answer = requests.post(server.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=5)
            assert answer.status_code < 500
        assert server.handler_errors == 0


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_demo_on_a_movable_clock(kind, request):
    clock = FakeClock()
    steps = list(refresh_walkthrough(2, make_store=lambda: _store(kind, clock, request), clock=clock,
                                     sleep=clock.advance))
    numbered = {s.number: s for s in steps if s.number is not None}
    assert sorted(numbered) == list(range(1, 10))

    def statuses(n):
        from authcli.walkthroughs.model import ExchangeBlock
        return [b.exchange.response.status for b in numbered[n].all(ExchangeBlock)]

    assert statuses(1) == [200] and statuses(2) == [200] and statuses(4) == [401, 200]
    assert statuses(5) == [401] and statuses(6) == [401, 401] and statuses(7) == [200, 200] and statuses(8) == [401]
    assert "deny:" in json.dumps([r.key for r in numbered[7].store.rows])
    assert steps[-1].title.startswith("Recap") and "401 after logout" in json.dumps(steps[-1].tables[0].rows)
