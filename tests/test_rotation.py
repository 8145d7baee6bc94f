"""Key rotation over real HTTP: the issuer's JWKS and kid lookup, and a verifier that caches the set
as its Cache-Control says and refetches at a bounded rate, on a clock the tests move."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.encoding import b64url
from authcli.errors import BadKey
from authcli.server.schemes.jwks import JWKS_MAX_AGE, KeyRing, RotatingJwtAuth
from authcli.server.schemes.jwks_verifier import COOLDOWN, MAX_AGE_CAP, JwksCache, JwksVerifier, max_age
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.signing import issue, make_signing_key
from conftest import CREDS, FakeClock

JWKS = "/.well-known/jwks.json"
runner = CliRunner()


def forged(header: dict, payload: dict) -> str:
    """A token with any header at all (PyJWT signs only string kids), and a signature that fits nothing."""
    part = [b64url(json.dumps(x).encode()) for x in (header, payload)]
    return f"{part[0]}.{part[1]}.{b64url(bytes(64))}"


class Pair:
    """An issuer and a verifier on port 0, each with a clock the test moves."""

    def __init__(self, alg: str = "ES256", max_age: int = JWKS_MAX_AGE):
        self.clock, self.vclock = FakeClock(), FakeClock()
        self.ring = KeyRing(make_signing_key(alg))
        self.auth = RotatingJwtAuth(self.ring, 3600, clock=self.clock, max_age=max_age)

    def __enter__(self) -> Pair:
        self.issuer = AuthServer(self.auth, request_timeout=2.0).start()
        self.cache = JwksCache(self.issuer.url + JWKS, clock=self.vclock)
        self.verifier = AuthServer(JwksVerifier(self.cache), request_timeout=2.0).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.verifier.stop()
        self.issuer.stop()

    def login(self) -> str:
        return requests.post(self.issuer.url + "/login", json=CREDS, timeout=5).json()["token"]

    def at(self, server: AuthServer, token: str) -> requests.Response:
        return requests.get(server.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5)

    def jwks_requests(self) -> int:
        return sum(r.request.path == JWKS for r in self.issuer.records_since(0))


def test_the_issuer_publishes_both_keys_then_refuses_a_withdrawn_kid_with_the_reason():
    with Pair("RS256") as p:
        old = p.login()
        p.auth.rotate()
        new = p.login()
        jwks = requests.get(p.issuer.url + JWKS, timeout=5)
        assert jwks.headers["Cache-Control"] == f"public, max-age={JWKS_MAX_AGE}"
        assert [k["kid"] for k in jwks.json()["keys"]] == p.ring.kids() and len(p.ring.kids()) == 2
        assert all("d" not in k for k in jwks.json()["keys"])  # public halves only
        assert p.at(p.issuer, old).status_code == 200 and p.at(p.issuer, new).status_code == 200
        old_kid = p.ring.published[0].kid
        p.auth.withdraw(old_kid)
        refused = p.at(p.issuer, old)
        assert refused.status_code == 401
        assert f"unknown kid {old_kid!r}" in refused.headers["WWW-Authenticate"]
        assert p.at(p.issuer, new).status_code == 200
        with pytest.raises(BadKey):
            p.auth.withdraw(p.ring.current.kid)  # the signing key stays published


def test_a_token_without_kid_or_with_a_foreign_kid_is_refused_by_the_issuer():
    with Pair() as p:
        stranger = make_signing_key("ES256")
        no_kid = forged({"alg": "ES256", "typ": "JWT"}, {"sub": "1", "exp": int(p.clock()) + 60})
        assert "no kid" in p.at(p.issuer, no_kid).headers["WWW-Authenticate"]
        foreign = issue(stranger, {"sub": "1", "exp": int(p.clock()) + 60, "iat": int(p.clock())},
                        {"kid": p.ring.current.kid})  # the right kid, the wrong key
        assert "signature" in p.at(p.issuer, foreign).headers["WWW-Authenticate"]


def test_hmac_cannot_rotate_through_a_jwks():
    with pytest.raises(BadKey, match="cannot be published"):
        KeyRing(make_signing_key("HS256"))


def test_the_verifier_fetches_once_caches_for_max_age_and_refetches_when_stale():
    with Pair(max_age=60) as p:
        token = p.login()
        p.vclock.now = p.clock.now
        assert p.at(p.verifier, token).status_code == 200 and p.jwks_requests() == 1
        p.vclock.advance(59)
        assert p.at(p.verifier, token).status_code == 200 and p.jwks_requests() == 1  # fresh: no request
        p.vclock.advance(2)  # 61 s: past the max-age the answer gave, and past the cooldown
        assert p.at(p.verifier, token).status_code == 200 and p.jwks_requests() == 2


def test_an_unknown_kid_refetches_only_after_the_cooldown():
    with Pair() as p:
        p.vclock.now = p.clock.now
        assert p.at(p.verifier, p.login()).status_code == 200
        p.auth.rotate()
        new = p.login()
        inside = p.at(p.verifier, new)
        assert inside.status_code == 401 and "unknown kid" in inside.headers["WWW-Authenticate"]
        assert p.jwks_requests() == 1
        p.vclock.advance(COOLDOWN)
        assert p.at(p.verifier, new).status_code == 200 and p.jwks_requests() == 2
        # Withdrawn at the issuer: the verifier keeps the old key until its copy is stale.
        old_token = issue(p.ring.published[0], {"sub": "1", "iat": int(p.clock()), "exp": int(p.clock()) + 3600})
        p.auth.withdraw(p.ring.published[0].kid)
        assert p.at(p.verifier, old_token).status_code == 200
        p.vclock.advance(JWKS_MAX_AGE + 1)
        gone = p.at(p.verifier, old_token)
        assert gone.status_code == 401 and "unknown kid" in gone.headers["WWW-Authenticate"]
        assert p.jwks_requests() == 3


kids = st.one_of(st.text(min_size=1, max_size=300), st.integers(), st.none(), st.lists(st.integers(), max_size=2))


@pytest.fixture(scope="module")
def flooded():
    with Pair() as p:
        p.vclock.now = p.clock.now
        assert p.at(p.verifier, p.login()).status_code == 200  # the set is cached, its cooldown running
        yield p


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kid=kids)
def test_a_flood_of_unknown_kids_never_makes_the_verifier_fetch_per_request(flooded, kid):
    p = flooded
    token = forged({"alg": "ES256", "kid": kid}, {"sub": "1", "iat": int(p.clock()), "exp": int(p.clock()) + 60})
    answer = p.at(p.verifier, token)
    assert answer.status_code == 401  # an unknown kid, or the known one with a signature that fits nothing
    assert p.jwks_requests() == 1 and p.cache.fetches == 1  # the clock stands still: no refetch


def test_the_rate_bound_holds_as_the_clock_moves_and_under_concurrency():
    with Pair() as p:
        p.vclock.now = p.clock.now
        forged = [issue(p.ring.current, {"sub": "1"}, {"kid": f"guess-{i}"}) for i in range(40)]
        for i, token in enumerate(forged):
            p.vclock.advance(3)  # 120 s of guesses, 3 s apart
            assert p.at(p.verifier, token).status_code == 401
        assert p.jwks_requests() <= 1 + 120 // COOLDOWN
        before = p.jwks_requests()
        p.vclock.advance(COOLDOWN)
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda t=t: statuses.append(p.at(p.verifier, t).status_code))
                   for t in forged[:16]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [401] * 16 and p.jwks_requests() == before + 1


@pytest.mark.parametrize("header, seconds", [
    ("public, max-age=300", 300), ("max-age=60", 60), ("MAX-AGE = 5", 5), ("no-store, max-age=300", 0),
    ("no-cache", 0), (None, 0), ("max-age=abc", 0), ("s-maxage=60", 0), ("max-age=9999999999", MAX_AGE_CAP),
    ('max-age="30"', 30),
])
def test_max_age_is_read_as_rfc_9111_says(header, seconds):
    assert max_age(header) == seconds


def test_the_verifier_only_fetches_loopback_urls():
    for url in ("http://10.0.0.1/jwks.json", "https://127.0.0.1/jwks.json", "http://127.0.0.2:80\\@127.0.0.1/"):
        with pytest.raises(BadKey):
            JwksCache(url)


def test_a_broken_issuer_answer_keeps_the_set_and_stays_rate_limited():
    with Pair() as p:
        p.vclock.now = p.clock.now
        token = p.login()
        assert p.at(p.verifier, token).status_code == 200
        p.cache.url = p.issuer.url + "/profile"  # answers 401 text: not a key set
        p.vclock.advance(JWKS_MAX_AGE + 1)
        assert p.at(p.verifier, token).status_code == 200  # stale, the fetch failed: the set held stays
        assert p.at(p.verifier, token).status_code == 200 and p.cache.fetches == 2  # no retry inside the cooldown


def test_the_walkthrough_tells_the_rotation_from_real_traffic():
    from authcli.walkthroughs.rotation import rotation_walkthrough

    clock = FakeClock()
    steps = list(rotation_walkthrough("ES256", clock=clock))
    numbered = [s for s in steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 9))
    status = {s.number: [b.exchange.response.status for b in s.blocks if hasattr(b, "exchange")] for s in numbered}
    assert status[2] == [200, 200]  # the verifier's answer, then its JWKS fetch
    assert status[3] == [200]
    assert status[5] == [401, 401]
    assert status[6] == [200, 200]
    assert status[7] == [200, 401, 200]  # the JWKS, the issuer refusing, the verifier still accepting
    assert status[8] == [401, 200, 200]
    fetch = numbered[1].blocks[2].exchange
    assert fetch.request.target == JWKS and fetch.response.header("Cache-Control").endswith("max-age=300")
    assert [k["kid"] for k in json.loads(fetch.response.body)["keys"]] == ["key-1"]
    recap = steps[-1].tables[0]
    assert [row[3] for row in recap.rows] == ["1", "0", "0", "0", "1", "0", "1", "0"]


@pytest.mark.parametrize("fmt", ["json", "markdown", "html", "rich"])
def test_every_format_and_step_mode(fmt):
    result = runner.invoke(app, ["demo", "jwt", "--alg", "EdDSA", "--rotate", "-f", fmt, "--step"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        doc = json.loads(out)
        assert len([s for s in doc["steps"] if s.get("number")]) == 8
    assert "unknown kid" in out and "max-age=300" in out


def test_rotate_refuses_hmac_and_https_in_one_line():
    for args in (["--rotate"], ["--rotate", "--alg", "RS256", "--secret", "x"], ["--rotate", "--alg", "RS256", "--https"]):
        result = runner.invoke(app, ["demo", "jwt", *args])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr


class Hostile:
    """An 'issuer' whose JWKS answer is whatever the test says: the verifier must stay calm."""

    store = None

    def __init__(self):
        self.answer = (200, "{}", [])

    def handle(self, request):
        from authcli.server.journal import Response

        status, body, headers = self.answer
        return Response(status, body, headers)

    def slow(self, request):
        return False


jwk_values = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=2))
documents = st.one_of(
    st.text(max_size=200),
    st.builds(lambda keys: json.dumps({"keys": keys}), st.lists(st.dictionaries(
        st.sampled_from(["kty", "kid", "use", "alg", "crv", "x", "y", "n", "e", "k"]), jwk_values, max_size=6),
        max_size=40)),
)


@pytest.fixture(scope="module")
def hostile():
    app = Hostile()
    with AuthServer(app, request_timeout=2.0) as issuer:
        clock = FakeClock()
        cache = JwksCache(issuer.url + JWKS, clock=clock)
        with AuthServer(JwksVerifier(cache), request_timeout=2.0) as verifier:
            yield app, cache, clock, verifier


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=documents, cache_control=st.one_of(st.none(), st.text(alphabet="max-ge=0123456789,; nocstr\"", max_size=30)),
       status=st.sampled_from([200, 200, 404, 500]))
def test_whatever_the_jwks_answer_says_the_verifier_answers_401_and_fetches_at_its_rate(hostile, body, cache_control,
                                                                                       status):
    app, cache, clock, verifier = hostile
    app.answer = (status, body, [("Cache-Control", cache_control)] if cache_control else [])
    clock.advance(COOLDOWN)  # each example may fetch once
    before = cache.fetches
    token = forged({"alg": "ES256", "kid": "k"}, {"sub": "1", "exp": int(clock()) + 60})
    for _ in range(3):
        answer = requests.get(verifier.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 401
    assert cache.fetches - before <= 1
