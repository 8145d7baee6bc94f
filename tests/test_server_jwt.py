"""The JWT server over real HTTP: every JWT row of the security bar's bad-input table (shared/SECURITY.md)."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
import requests

from authcli.clock import now as clock_now
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.encoding import b64url
from authcli.server.policy import JwtPolicy
from authcli.tokens.signing import make_signing_key
from conftest import CREDS, hammer, login_response

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

SECRET = b"k" * 32


@pytest.fixture(scope="module")
def key():
    return make_signing_key("HS256", SECRET)


@pytest.fixture
def server(key, clock):
    with AuthServer(JwtAuth(key, 60, clock=clock), request_timeout=2.0) as srv:
        yield srv


def get_token(server) -> str:
    return login_response(requests, server.url).json()["token"]


def profile(server, token: str | None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(server.url + "/profile", headers=headers)


def sign(claims, key=SECRET, alg="HS256", headers=None):
    return pyjwt.encode(claims, key, algorithm=alg, headers=headers)


def good_claims(clock, **over):
    now = int(clock())
    return {"sub": "1", "iat": now, "exp": now + 60, **over}


def test_login_returns_a_bearer_token_and_stores_nothing(server, clock):
    resp = requests.post(server.url + "/login", json=CREDS)
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    assert resp.headers["Cache-Control"] == "no-store"
    # The fake clock is in 2027: PyJWT's own time checks would refuse it, its signature check not.
    claims = pyjwt.decode(body["token"], SECRET, algorithms=["HS256"],
                          options={"verify_exp": False, "verify_iat": False})
    assert claims["sub"] == "1" and claims["userId"] == 1
    assert claims["exp"] - claims["iat"] == 60 and len(claims["jti"]) >= 22
    assert server.app.store is None


def test_wrong_credentials(server):
    resp = requests.post(server.url + "/login", json={"email": "a@b.com", "password": "x"})
    assert (resp.status_code, resp.text) == (401, "Wrong credentials\n")


def test_profile_with_the_token(server):
    resp = profile(server, get_token(server))
    assert (resp.status_code, resp.text) == (200, "Welcome user 1\n")


def test_no_authorization_header_gets_a_plain_bearer_challenge(server):
    resp = profile(server, None)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="authcli"'


def test_token_in_the_query_string_is_ignored(server):
    resp = requests.get(server.url + "/profile?access_token=" + get_token(server))
    assert resp.status_code == 401


def test_other_schemes_and_duplicates(server):
    token = get_token(server)
    assert profile(server, None, Authorization=f"Basic {token}").status_code == 401
    assert profile(server, None, Authorization="Bearer").status_code == 401


def test_duplicate_authorization_headers_raw(server):
    import socket
    token = get_token(server)
    request = (f"GET /profile HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
               f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400") and b'error="invalid_request"' in answer


def expect_invalid(resp, words: str):
    assert resp.status_code == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="authcli", error="invalid_token"')
    assert words in resp.text, resp.text


def test_alg_none_is_refused(server, clock):
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    payload = b64url(json.dumps(good_claims(clock)).encode())
    expect_invalid(profile(server, f"{header}.{payload}."), "'none' means unsigned")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_algorithms_outside_the_allow_list(server, clock, alg):
    expect_invalid(profile(server, sign(good_claims(clock), SECRET * 2, alg)), "not in the allow-list [HS256]")


def test_rs256_token_against_hs256_server_key_confusion(server, clock):
    rs = make_signing_key("RS256")
    token = pyjwt.encode(good_claims(clock), rs.private, algorithm="RS256")
    expect_invalid(profile(server, token), "not in the allow-list")


def test_tampered_payload(server, clock):
    head, _, sig = get_token(server).split(".")
    forged = b64url(json.dumps(good_claims(clock, sub="1")).encode())
    expect_invalid(profile(server, f"{head}.{forged}.{sig}"), "signature")


def test_wrong_key(server, clock):
    expect_invalid(profile(server, sign(good_claims(clock), b"w" * 32)), "signature")


def test_empty_signature(server):
    head, payload, _ = get_token(server).split(".")
    expect_invalid(profile(server, f"{head}.{payload}."), "signature")


def test_kid_jku_jwk_headers_never_pick_the_key(server, clock):
    attacker = b"a" * 32
    token = sign(good_claims(clock), attacker, headers={
        "kid": "../../dev/null", "jku": "http://127.0.0.1:1/jwks.json",
        "jwk": {"kty": "oct", "k": b64url(attacker)}})
    expect_invalid(profile(server, token), "signature")


def test_expired_token(server, clock):
    token = get_token(server)
    clock.advance(60)
    expect_invalid(profile(server, token), "exp: expired")


def test_already_expired_token_built_by_hand(server, clock):
    expect_invalid(profile(server, sign(good_claims(clock, exp=int(clock()) - 1))), "expired")


def test_nbf_in_the_future(server, clock):
    expect_invalid(profile(server, sign(good_claims(clock, nbf=int(clock()) + 30))), "nbf")


@pytest.mark.parametrize("exp", ["tomorrow", None, True, [1]])
def test_exp_not_a_number(server, clock, exp):
    expect_invalid(profile(server, sign(good_claims(clock, exp=exp))), "exp")


def test_no_exp(server, clock):
    claims = good_claims(clock)
    del claims["exp"]
    expect_invalid(profile(server, sign(claims)), "no exp claim")


def test_no_sub(server, clock):
    claims = good_claims(clock)
    del claims["sub"]
    expect_invalid(profile(server, sign(claims)), "sub")


@pytest.mark.parametrize("token, words", [
    ("abc", "3 parts"),
    ("a.b.c.d.e", "encrypted JWE"),
    ("e30.e30.%%%", "not base64url"),
    ("W10.e30.", "not an object"),
    ("bm90IGpzb24.e30.", "not JSON"),
    ("eyJhbGciOiJIUzI1NiJ9.e30.x" + "A" * 5000, "signature"),
])
def test_malformed_tokens(server, token, words):
    expect_invalid(profile(server, token), words)


def test_control_characters_in_the_description_stay_out_of_the_header(server):
    resp = profile(server, "\x01\x02.e30.e30")
    assert resp.status_code == 401 and "\x01" not in resp.headers["WWW-Authenticate"]


def test_logout_says_the_token_still_works(server):
    token = get_token(server)
    resp = requests.post(server.url + "/logout", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and "stays valid until it expires" in resp.text
    assert profile(server, token).status_code == 200


def test_leeway_is_small_and_explicit(key, clock):
    with AuthServer(JwtAuth(key, 60, clock=clock, policy=JwtPolicy(leeway=2))) as server:
        token = get_token(server)
        clock.advance(61)
        assert profile(server, token).status_code == 200
        clock.advance(1)
        assert profile(server, token).status_code == 401


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_key_pairs_sign_verify_and_publish_a_jwks(alg, clock):
    signing = make_signing_key(alg)
    with AuthServer(JwtAuth(signing, 60, clock=clock)) as server:
        token = get_token(server)
        assert pyjwt.get_unverified_header(token)["kid"] == signing.kid
        assert profile(server, token).status_code == 200
        jwks = requests.get(server.url + "/.well-known/jwks.json").json()
        public = pyjwt.PyJWK(jwks["keys"][0])
        # Another service verifies with the published key alone, on the real clock.
        claims = pyjwt.decode(token, public, algorithms=[alg], options={"verify_exp": False, "verify_iat": False})
        assert claims["sub"] == "1"
        assert "d" not in jwks["keys"][0]  # never the private part


def test_real_clock_agrees_with_pyjwt(key):
    with AuthServer(JwtAuth(key, 60)) as server:
        token = get_token(server)
        assert profile(server, token).status_code == 200
        assert pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "iat", "sub"]})
        expired = sign({"sub": "1", "iat": int(clock_now()) - 10, "exp": int(clock_now()) - 1})
        assert profile(server, expired).status_code == 401
        with pytest.raises(pyjwt.ExpiredSignatureError):
            pyjwt.decode(expired, SECRET, algorithms=["HS256"])


def test_concurrent_clients_all_verify(key):
    import threading
    tokens, lock = [], threading.Lock()
    with AuthServer(JwtAuth(key, 60)) as server:
        def client(n: int) -> None:
            for _ in range(2):
                token = get_token(server)
                for _ in range(5):
                    resp = profile(server, token)
                    assert (resp.status_code, resp.text) == (200, "Welcome user 1\n")
                with lock:
                    tokens.append(token)

        assert hammer(client) == []
        assert server.handler_errors == 0
    assert len(tokens) == len(set(tokens)) == 16  # jti makes every token unique


def test_crit_extensions_are_refused(server, clock):
    token = sign(good_claims(clock), headers={"crit": ["exp-ext"], "exp-ext": 1})
    expect_invalid(profile(server, token), "crit")


def test_the_key_is_prepared_once_not_per_request(clock, monkeypatch):
    from authcli.tokens.keys import VerifyKey

    calls = []
    original = VerifyKey.prepared  # PyJWT's prepare_key, or the standard library's HMAC (tokens/hmacjws.py)

    def spy(self, alg):
        if alg not in self._prepared:
            calls.append(alg)
        return original(self, alg)

    monkeypatch.setattr(VerifyKey, "prepared", spy)
    with AuthServer(JwtAuth(make_signing_key("HS256", SECRET), 60, clock=clock)) as server:
        assert calls == ["HS256"]  # prepared once, as the server started (JwtAuth.warm)
        token = get_token(server)  # signing with a key object or bytes parses nothing either
        for _ in range(5):
            assert profile(server, token).status_code == 200
    assert calls == ["HS256"]  # no request prepared it again


def test_a_server_refuses_a_jws_that_is_not_a_jwt(server):
    token = pyjwt.api_jws.encode(b"not claims", SECRET, algorithm="HS256")
    resp = profile(server, token)
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_an_answer_on_the_wire_carries_no_source_marker(server, clock):
    """Check texts cite their sources for the narration; a 401 body and its WWW-Authenticate
    header are plain."""
    none = b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(good_claims(clock)).encode()) + "."
    for token in (none, sign(good_claims(clock, sub=5))):
        resp = profile(server, token)
        assert resp.status_code == 401 and "[^" not in resp.text
        assert "[^" not in resp.headers["WWW-Authenticate"]
