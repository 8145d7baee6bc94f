"""Bad input at every OAuth endpoint: a 4xx with the RFCs' error codes, never a 5xx or a hang."""

from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.server.schemes.oauth import OAuthProvider
from authcli.server.transport.httpd import AuthServer

EXAMPLES = int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 100))
CALLBACK = "http://127.0.0.1:9/cb"
# RFC 6749 5.2's codes, and RFC 7591 3.2.2's for registration.
TOKEN_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                "unsupported_grant_type", "invalid_scope"}
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def provider():
    auth = OAuthProvider()
    with AuthServer(auth, request_timeout=5.0) as server:
        auth.bind(server.url)
        client = requests.post(server.url + "/register", json={"redirect_uris": [CALLBACK]}, timeout=5).json()
        yield server, client
        assert server.handler_errors == 0


junk = st.text(max_size=60)
values = st.one_of(junk, st.sampled_from(["authorization_code", "refresh_token", CALLBACK, "a" * 43, "", "openid"]))
names = st.sampled_from(["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "client_id",
                         "client_secret", "scope"]) | junk


@SETTINGS
@given(fields=st.lists(st.tuples(names, values), max_size=8), auth=st.sampled_from(["good", "wrong", "none", "junk"]),
       kind=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]),
       raw=st.binary(max_size=80) | st.none())
def test_malformed_token_requests_get_the_rfcs_errors(provider, fields, auth, kind, raw):
    server, client = provider
    body = raw if raw is not None else urlencode(fields).encode()
    headers = {"Content-Type": kind} if kind else {}
    if auth == "good":
        headers["Authorization"] = requests.auth._basic_auth_str(client["client_id"], client["client_secret"])
    elif auth == "wrong":
        headers["Authorization"] = requests.auth._basic_auth_str(client["client_id"], "nope")
    elif auth == "junk":
        headers["Authorization"] = "Basic %%%"
    got = requests.post(server.url + "/token", data=body, headers=headers, timeout=5)
    assert got.status_code in (400, 401), got.text
    assert got.json()["error"] in TOKEN_ERRORS
    assert got.headers["Cache-Control"] == "no-store"


@SETTINGS
@given(fields=st.lists(st.tuples(st.sampled_from(["response_type", "client_id", "redirect_uri", "scope", "state",
                                                  "nonce", "code_challenge", "code_challenge_method"]) | junk,
                                 values), max_size=9), method=st.sampled_from(["GET", "POST"]))
def test_malformed_authorization_requests_are_4xx_or_an_error_redirect(provider, fields, method):
    server, client = provider
    fields = [(n, client["client_id"] if n == "client_id" and v == "" else v) for n, v in fields]
    if method == "GET":
        got = requests.get(server.url + "/authorize?" + urlencode(fields), allow_redirects=False, timeout=5)
    else:
        got = requests.post(server.url + "/authorize", data=urlencode(fields + [("email", "a@b.com")]),
                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                            allow_redirects=False, timeout=5)
    assert got.status_code in (200, 302, 400, 401), got.text
    if got.status_code == 302:  # only to a redirect URI the client registered, exactly
        location = got.headers["Location"]
        assert location.startswith(CALLBACK + "?")
        assert "error=" in location and "code=" not in location


@SETTINGS
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                            st.sampled_from(["redirect_uris", "token_endpoint_auth_method", "grant_types",
                                             "response_types", "client_name"]) | st.text(max_size=10), inner,
                            max_size=5), max_leaves=12))
def test_malformed_registrations_get_rfc7591_errors(provider, doc):
    server, _ = provider
    got = requests.post(server.url + "/register", json=doc, timeout=5)
    assert got.status_code in (201, 400, 429), got.text  # 429: this address registered its share
    if got.status_code in (400, 429):
        assert got.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


@SETTINGS
@given(value=st.text(max_size=200).filter(lambda v: "\n" not in v and "\r" not in v))
def test_userinfo_refuses_anything_but_a_good_token(provider, value):
    server, _ = provider
    try:
        got = requests.get(server.url + "/userinfo", headers={"Authorization": value.encode("utf-8").decode("latin-1")},
                           timeout=5)
    except ValueError:  # a header requests itself will not send
        return
    assert got.status_code in (400, 401)


@pytest.fixture(scope="module")
def signed_in(provider):
    """A real sign-in at the AS: its cookie's value, to be mangled."""
    from authcli.tokens.pkce import make_verifier, s256

    server, client = provider
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CALLBACK,
             "scope": "openid", "code_challenge": s256(make_verifier()), "code_challenge_method": "S256"}
    answer = requests.post(server.url + "/authorize", data={**query, "email": "a@b.com", "password": "123",
                                                            "decision": "allow"}, allow_redirects=False, timeout=10)
    return query, answer.cookies["as_session"]


@SETTINGS
@given(change=st.sampled_from(["cut", "extend", "flip", "junk", "twice", "quoted", "prompt"]), junk=junk,
       at=st.integers(min_value=0, max_value=42))
def test_only_the_sign_in_cookie_the_as_issued_skips_the_password(provider, signed_in, change, junk, at):
    """A truncated, extended, altered, duplicated or quoted sign-in cookie, or prompt=login, is no
    sign-in: no code without the password, and never a 5xx."""
    server, _ = provider
    query, sid = signed_in
    more = "".join(ch for ch in junk if ch.isprintable() and ch.isascii() and ch not in "; ") or "x"  # `;` ends a value
    value = {"cut": sid[:at], "extend": sid + more, "flip": sid[:at] + ("A" if sid[at] != "A" else "B")
             + sid[at + 1:], "junk": junk, "twice": f"{sid}; as_session={sid}", "quoted": f'"{sid}"',
             "prompt": sid}[change]
    cookie = "".join(ch for ch in f"as_session={value}" if ch.isprintable() and ch.isascii())
    data = {**query, "decision": "allow", **({"prompt": "login"} if change == "prompt" else {})}
    got = requests.post(server.url + "/authorize", data=data, headers={"Cookie": cookie},
                        allow_redirects=False, timeout=5)
    assert got.status_code < 500
    assert "code=" not in got.headers.get("Location", "")
    page = requests.get(server.url + "/authorize?" + urlencode(data), headers={"Cookie": cookie}, timeout=5)
    assert page.status_code < 500 and "Signed in as" not in page.text
