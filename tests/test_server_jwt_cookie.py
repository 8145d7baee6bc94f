"""The JWT server with the token in an HttpOnly cookie (JwtPolicy.cookie), over real HTTP."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.policy import COOKIE_JWT, HTTPS_COOKIE_JWT
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.tls import make_files
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt_cookie import PERMISSIONS
from conftest import CREDS, login_response

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def key():
    return make_signing_key("HS256", b"k" * 32)


@pytest.fixture
def server(key, clock):
    with AuthServer(JwtAuth(key, 60, policy=COOKIE_JWT, clock=clock), request_timeout=2.0) as srv:
        yield srv


def test_login_sets_an_httponly_lax_cookie_and_the_body_holds_no_token(server, http):
    resp = login_response(http, server.url)
    set_cookie = resp.headers["Set-Cookie"]
    name, _, rest = set_cookie.partition("=")
    token, _, attributes = rest.partition("; ")
    assert name == "token" and token.count(".") == 2
    assert attributes == "Path=/; HttpOnly; SameSite=Lax"  # no Domain, no Max-Age: exp decides
    assert token not in resp.text and resp.json() == {"token_type": "cookie", "cookie": "token", "expires_in": 60}
    assert resp.headers["Cache-Control"] == "no-store"


def test_the_jar_sends_the_cookie_and_no_authorization_header_is_needed(server, http):
    login_response(http, server.url)
    resp = http.get(server.url + "/profile")
    assert resp.status_code == 200 and resp.text == "Welcome user 1\n"
    assert "Authorization" not in resp.request.headers and resp.request.headers["Cookie"].startswith("token=")


def test_a_bearer_header_alone_is_not_read(server, http):
    login_response(http, server.url)
    token = http.cookies["token"]
    resp = requests.get(server.url + "/profile", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and resp.text == "Not logged in: no token cookie\n"


@pytest.mark.parametrize("cookie, says", [
    (None, "no token cookie"),
    ("token=", "an empty token cookie"),
    ("token=a; token=b", "2 token cookies: ambiguous, none is used"),
])
def test_no_cookie_an_empty_one_or_two_get_401(server, cookie, says):
    resp = requests.get(server.url + "/profile", headers={"Cookie": cookie} if cookie else {})
    assert resp.status_code == 401 and resp.text == f"Not logged in: {says}\n"


def test_logout_clears_the_cookie_and_a_copy_still_works_until_exp(server, http, clock):
    login_response(http, server.url)
    copy = http.cookies["token"]
    bye = http.post(server.url + "/logout")
    assert bye.status_code == 200 and bye.headers["Set-Cookie"] == "token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    assert "token" not in http.cookies
    assert requests.get(server.url + "/profile", cookies={"token": copy}).status_code == 200
    clock.advance(61)
    late = requests.get(server.url + "/profile", cookies={"token": copy})
    assert late.status_code == 401 and "exp" in late.text


def test_a_cross_site_logout_is_refused_as_for_sessions(server, http):
    login_response(http, server.url)
    other = server.url.replace("127.0.0.1", "localhost")
    resp = http.post(server.url + "/logout", headers={"Origin": other, "Sec-Fetch-Site": "cross-site"})
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers and "token" in http.cookies


def test_a_tampered_token_in_the_cookie_gets_401(server, http):
    login_response(http, server.url)
    head, payload, sig = http.cookies["token"].split(".")
    resp = requests.get(server.url + "/profile", cookies={"token": f"{head}.{payload}x.{sig}"})
    assert resp.status_code == 401 and "invalid_token" in resp.headers["WWW-Authenticate"]


def test_claims_grown_past_4096_bytes_are_still_set_and_said_so(key, http):
    policy = replace(COOKIE_JWT, extra_claims=(("permissions", PERMISSIONS),))
    with AuthServer(JwtAuth(key, 60, policy=policy)) as server:
        mark = server.mark()
        resp = login_response(http, server.url)
        [record] = server.records_since(mark)
    token = resp.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert len("token") + len(token) > COOKIE_LIMIT
    said = [e for e in record.events if e.kind == "cookie"][0]
    assert said.size == len("token") + len(token) and not said.fits
    assert f"over the {COOKIE_LIMIT} RFC 6265bis lets a browser keep: Chromium drops" in said.message


def test_over_https_the_cookie_is_host_prefixed_and_secure(key):
    files = make_files()
    try:
        with AuthServer(JwtAuth(key, 60, policy=HTTPS_COOKIE_JWT), tls=files.server_context()) as server, \
                requests.Session() as http:
            resp = http.post(server.url + "/login", json=CREDS, timeout=5, verify=str(files.ca))
            assert resp.headers["Set-Cookie"].startswith("__Host-token=")
            assert resp.headers["Set-Cookie"].endswith("; Path=/; HttpOnly; SameSite=Lax; Secure")
            assert http.get(server.url + "/profile", timeout=5, verify=str(files.ca)).status_code == 200
    finally:
        files.remove()


@FUZZ
@given(st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=80), max_size=3))
def test_any_cookie_header_gets_an_answer_never_a_5xx(server, values):
    headers = [("Cookie", v) for v in values]
    with requests.Session() as s:
        req = requests.Request("GET", server.url + "/profile").prepare()
        for name, value in headers:  # several Cookie lines, as a raw client may send
            req.headers[name] = value if name not in req.headers else req.headers[name] + "; " + value
        resp = s.send(req, timeout=5)
    assert resp.status_code in (200, 401), resp.text
