"""DPoP (RFC 9449) over real HTTP: a token bound to the client's key, every proof check, the
replay cache's bounds, and `demo jwt --dpop` in every format."""

from __future__ import annotations

import json
import re

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.encoding import b64url
from authcli.server.policy import DpopPolicy
from authcli.server.schemes.dpop import DpopJwtAuth, ReplayCache
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.dpop import check_proof, make_proof, make_proof_key, target_uri, token_hash
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.dpop import dpop_walkthrough
from conftest import CREDS, FakeClock

KEY = make_proof_key()  # one key pair for the module: making one costs a few ms


@pytest.fixture
def dpop_server(clock):
    auth = DpopJwtAuth(make_signing_key("ES256"), 300, clock=clock)
    with AuthServer(auth) as server:
        yield server, auth


def _login(url: str, clock, key=KEY) -> str:
    answer = requests.post(url + "/login", json=CREDS, headers={"DPoP": make_proof(key, "POST", url + "/login", clock())},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    return answer.json()["token"]


def _profile(url: str, token: str, proof: str | None, scheme: str = "DPoP") -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.get(url + "/profile", headers=headers, timeout=10)


def test_the_token_names_the_key_and_a_fresh_proof_works(dpop_server, clock):
    server, _ = dpop_server
    token = _login(server.url, clock)
    assert split(token).payload["cnf"] == {"jkt": KEY.jkt}
    answer = _profile(server.url, token, make_proof(KEY, "GET", server.url + "/profile", clock(), token=token))
    assert answer.status_code == 200 and answer.text == "Welcome user 1\n"
    # a second request, a second proof: each is used once
    again = _profile(server.url, token, make_proof(KEY, "GET", server.url + "/profile", clock(), token=token))
    assert again.status_code == 200


def test_the_stolen_token_alone_is_refused_every_way(dpop_server, clock):
    server, _ = dpop_server
    url = server.url + "/profile"
    token = _login(server.url, clock)
    bearer = _profile(server.url, token, None, "Bearer")
    assert bearer.status_code == 401 and bearer.headers["WWW-Authenticate"] == 'DPoP algs="ES256"'
    bare = _profile(server.url, token, None)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')
    thief = _profile(server.url, token, make_proof(make_proof_key(), "GET", url, clock(), token=token))
    assert thief.status_code == 401
    assert thief.headers["WWW-Authenticate"] == ('DPoP error="invalid_token", error_description="Invalid DPoP key '
                                                 'binding", algs="ES256"')
    proof = make_proof(KEY, "GET", url, clock(), token=token)
    assert _profile(server.url, token, proof).status_code == 200
    replayed = _profile(server.url, token, proof)
    assert replayed.status_code == 401 and "already used" in replayed.headers["WWW-Authenticate"]


def test_login_without_a_good_proof_gets_400_and_no_token(dpop_server, clock):
    server, _ = dpop_server
    for headers in ({}, {"DPoP": "x.y.z"}, {"DPoP": make_proof(KEY, "GET", server.url + "/login", clock())}):
        answer = requests.post(server.url + "/login", json=CREDS, headers=headers, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_dpop_proof"
        assert "token" not in answer.json()


def test_an_expired_token_with_a_good_proof_gets_a_dpop_challenge(dpop_server, clock):
    server, _ = dpop_server
    token = _login(server.url, clock)
    clock.advance(301)
    answer = _profile(server.url, token, make_proof(KEY, "GET", server.url + "/profile", clock(), token=token))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith('DPoP realm="authcli", algs="ES256", error="invalid_token"')


def test_the_replay_cache_is_bounded_in_size_and_time(clock):
    cache = ReplayCache(2, 65, clock)
    assert [cache.add(k) for k in "aab"] == ["new", "seen", "new"]
    assert cache.add("c") == "full"  # never forgets a live jti to make room
    clock.advance(66)
    assert cache.add("a") == "new" and len(cache) == 1  # a's proof could no longer pass the iat check


def test_a_full_replay_cache_answers_503_with_retry_after(clock):
    auth = DpopJwtAuth(make_signing_key("HS256"), 300, clock=clock, dpop=DpopPolicy(replay_entries=1))
    with AuthServer(auth) as server:
        token = _login(server.url, clock)
        answer = _profile(server.url, token, make_proof(KEY, "GET", server.url + "/profile", clock(), token=token))
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"


def test_htu_ignores_query_and_default_ports():
    assert target_uri("HTTP://Example.COM:80/a?b=c#d") == "http://example.com/a"
    assert target_uri("https://h:8443/p") == "https://h:8443/p"
    assert target_uri("http://[::1]:9/") == "http://[::1]:9/"


# --- every mutation of a proof is refused: as data, and as 401 over HTTP -----------------

URL = "http://127.0.0.1:8000/profile"
NOW = 1_800_000_000.0


def _resign(header: dict, claims: dict, key=KEY) -> str:
    import jwt

    return jwt.encode(claims, key.private, algorithm="ES256", headers=header)


def _mutants(token: str) -> dict[str, str]:
    """A good proof for (GET, URL, NOW, token) and each way of breaking it."""
    good = make_proof(KEY, "GET", URL, NOW, token=token)
    parts = split(good)
    header, claims = {k: v for k, v in parts.header.items() if k != "alg"}, parts.payload
    return {
        "htm": _resign(header, {**claims, "htm": "POST"}),
        "htu": _resign(header, {**claims, "htu": "http://127.0.0.1:8000/other"}),
        "iat old": _resign(header, {**claims, "iat": NOW - 3600}),
        "iat ahead": _resign(header, {**claims, "iat": NOW + 3600}),
        "jti": _resign(header, {**claims, "jti": 7}),
        "ath": _resign(header, {**claims, "ath": token_hash(token + "x")}),
        "typ": _resign({**header, "typ": "JWT"}, claims),
        "jwk private": _resign({**header, "jwk": {**KEY.jwk, "d": "AAAA"}}, claims),
        "jwk other": _resign({**header, "jwk": make_proof_key().jwk}, claims),
        "signature": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB"),
        "alg none": f"{b64url(json.dumps({**header, 'alg': 'none'}).encode())}.{parts.payload_b64}.",
    }


def test_each_mutated_proof_fails_its_own_check():
    token = "a.b.c"
    good = check_proof(make_proof(KEY, "GET", URL, NOW, token=token), method="GET", url=URL, now=NOW,
                       token=token, bound_jkt=KEY.jkt)
    assert good.ok, good.checks
    expected = {"htm": "htm", "htu": "htu", "iat old": "iat", "iat ahead": "iat", "jti": "jti", "ath": "ath",
                "typ": "typ", "jwk private": "jwk", "jwk other": "signature", "signature": "signature",
                "alg none": "alg"}
    for name, proof in _mutants(token).items():
        verdict = check_proof(proof, method="GET", url=URL, now=NOW, token=token, bound_jkt=KEY.jkt)
        assert verdict.failed is not None and verdict.failed.name == expected[name], (name, verdict.checks)


@pytest.fixture(scope="module")
def fuzz_server():
    clock = FakeClock(NOW)
    auth = DpopJwtAuth(make_signing_key("HS256"), 10 ** 6, clock=clock)
    with AuthServer(auth) as server:
        yield server, _login(server.url, clock)


def _proof_mutation():
    """A good proof's claims and header, each changed to a value of any JSON-ish kind."""
    value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
                      st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                            max_size=3))
    where = st.one_of(st.tuples(st.just("header"), st.sampled_from(["typ", "jwk", "alg"])),
                      st.tuples(st.just("claims"), st.sampled_from(["htm", "htu", "iat", "jti", "ath"])))
    return st.tuples(where, value, st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(mutation=_proof_mutation())
def test_mutated_proofs_get_401_never_5xx(fuzz_server, mutation):
    server, token = fuzz_server
    (where, name), value, resign = mutation
    parts = split(make_proof(KEY, "GET", server.url + "/profile", NOW, token=token))
    header = {k: v for k, v in parts.header.items() if k != "alg"}
    claims = dict(parts.payload)
    assume(value != (parts.header if where == "header" else claims).get(name))
    if name == "iat" and isinstance(value, (int, float)) and not isinstance(value, bool):
        assume(not NOW - 60 <= value <= NOW + 5)  # an iat inside the window is a good proof
    assume(not (name == "jti" and resign and isinstance(value, str) and 0 < len(value) <= 256))  # a new jti: good
    (header if where == "header" else claims)[name] = value
    if resign and not (where == "header" and name in ("alg", "jwk")):
        proof = _resign(header, claims)
    else:  # edited under the old signature (a new alg or jwk header needs no key to write)
        proof = ".".join([b64url(json.dumps({**parts.header, **header} if where == "header" else parts.header)
                                 .encode()), b64url(json.dumps(claims).encode()), parts.signature_b64])
    answer = _profile(server.url, token, proof)
    assert answer.status_code == 401, (mutation, answer.text)
    assert answer.headers["WWW-Authenticate"].startswith("DPoP ")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(header=st.text(max_size=300), auth=st.text(max_size=60))
def test_garbage_dpop_headers_never_get_a_5xx(fuzz_server, header, auth):
    server, token = fuzz_server
    try:
        answer = requests.get(server.url + "/profile", headers={"Authorization": f"DPoP {token}{auth}",
                                                                "DPoP": header.encode("utf-8", "replace")}, timeout=10)
    except (ValueError, requests.exceptions.InvalidHeader):
        return  # requests itself refuses to send a header with a newline
    assert 400 <= answer.status_code < 500, answer.text


# --- the walkthrough -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def steps():
    clock = FakeClock()
    return list(dpop_walkthrough(make_signing_key("HS256"), 3, clock=clock, sleep=clock.advance))


def test_the_walkthrough_is_real_traffic(steps):
    numbered = [s for s in steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 8))
    statuses = [s.exchange.response.status if s.exchange else None for s in numbered]
    assert statuses == [None, 200, 200, 401, 401, 401, 401]
    login = numbered[1]
    assert login.exchange.request.header("DPoP") and json.loads(login.exchange.response.body)["token_type"] == "DPoP"
    assert [c.name for c in numbered[5].checks if c.ok is False] == ["cnf.jkt"]
    assert [c.name for c in numbered[6].checks if c.ok is False] == ["jti"]
    assert steps[-1].title.startswith("Recap")


@pytest.mark.parametrize("fmt", ["rich", "markdown", "html", "json"])
def test_demo_jwt_dpop_in_every_format(fmt):
    result = CliRunner().invoke(app, ["demo", "jwt", "--dpop", "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        doc = json.loads(out)
        with_http = [s for s in doc["steps"] if "request" in s]
        assert [s["response"]["status"] for s in with_http] == [200, 200, 401, 401, 401, 401]
    else:
        assert "invalid_dpop_proof" in out and "Invalid DPoP key binding" in out
        assert "Traceback" not in out and not re.search(r"\[\^rfc", out) or fmt == "markdown"


def test_demo_jwt_dpop_in_step_mode(tmux):
    from test_stepper import _check_screens

    titles = _check_screens(tmux("authcli demo jwt --dpop --step", 80, 24), 24)
    assert {t.split(" · ")[0] for t in titles if t.startswith("Step ")} == {f"Step {n}" for n in range(1, 8)}
