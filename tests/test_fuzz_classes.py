"""Each class of server bug an attack run found, generated rather than replayed.

One example found each class (a 10**309 exp, a "\\ud800" password, `Content-Length: ²`, an
ESC in a path, a cross-site form); these tests generate its variants and assert the class
is closed: never a 5xx, the documented 4xx, and nothing a terminal would obey in any output.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.encoding import b64url
from authcli.render.escape import UNPRINTABLE, printable
from authcli.render.serve import log_line
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.events import Refused
from authcli.server.journal import Request, RequestRecord
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key
from conftest import raw_exchange

EXAMPLES = int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SECRET = b"q" * 32
CREDS = {"email": "a@b.com", "password": "123"}

# --- the strategies: what the attack run used, generalised --------------------------------------

# Integers and floats no NumericDate can be: past float range, past year 9999, negative huge.
HUGE_NUMBERS = st.one_of(
    st.integers(min_value=2**1024, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-(2**1024)),
    st.integers(min_value=253402300800, max_value=2**1024),
    st.floats(min_value=2.6e11, allow_infinity=False, allow_nan=False),
    st.floats(max_value=-2.6e11, allow_infinity=False, allow_nan=False),
)
LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT_WITH_SURROGATES = st.tuples(st.text(max_size=8), LONE_SURROGATES, st.text(max_size=8)).map("".join)
CONTROL_TEXT = st.text(alphabet=st.one_of(st.characters(max_codepoint=0x1F), st.sampled_from(
    "\x7f\x9b\u202e\u2028\x1b[2J\x1b]0;pwned\x07"), st.characters(min_codepoint=32, max_codepoint=126)),
    max_size=40)
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
NOT_A_STRING = st.one_of(st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
                         st.dictionaries(st.sampled_from(["id", "x"]), st.integers(), max_size=2))


def sign(payload: dict, header: dict | None = None) -> str:
    """HS256 by hand, with SECRET: PyJWT would refuse to write some of these claims."""
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    mac = hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


@pytest.fixture(scope="module")
def jwt_server():
    with AuthServer(JwtAuth(make_signing_key("HS256", SECRET), 60), request_timeout=2.0) as server:
        yield server


@pytest.fixture(scope="module")
def session_server():
    with AuthServer(SessionAuth(MemoryStore(), 60), request_timeout=2.0) as server:
        yield server


# --- 1. NumericDates no float can hold ----------------------------------------------------------

@FUZZ
@given(claim=st.sampled_from(["exp", "nbf", "iat"]), value=HUGE_NUMBERS, signed=st.booleans())
def test_numeric_dates_out_of_range_are_401_never_500(jwt_server, claim, value, signed):
    now = 1_700_000_000
    payload = {"sub": "1", "iat": now, "exp": 4_000_000_000, claim: value}
    token = sign(payload) if signed else sign(payload)[:-4] + "AAAA"
    resp = requests.get(jwt_server.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


# --- 2. lone surrogates in JSON -----------------------------------------------------------------

@FUZZ
@given(field=st.sampled_from(["email", "password"]), value=TEXT_WITH_SURROGATES,
       mode=st.sampled_from(["session", "jwt"]))
def test_lone_surrogates_at_login_are_400(jwt_server, session_server, field, value, mode):
    server = session_server if mode == "session" else jwt_server
    body = json.dumps({**CREDS, field: value})  # ensure_ascii: the surrogate travels as \udXXX
    resp = requests.post(server.url + "/login", data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert resp.status_code == 400 and "Unicode" in resp.text


@FUZZ
@given(part=st.sampled_from(["header", "payload"]), value=TEXT_WITH_SURROGATES)
def test_lone_surrogates_in_tokens_are_401(jwt_server, part, value):
    payload = {"sub": "1", "iat": 1_700_000_000, "exp": 4_000_000_000}
    header = {"alg": "HS256", "typ": "JWT"}
    (header if part == "header" else payload)["note"] = value
    resp = requests.get(jwt_server.url + "/profile", headers={"Authorization": f"Bearer {sign(payload, header)}"},
                        timeout=5)
    assert resp.status_code == 401 and "surrogate" in resp.text


# --- 3. request heads RFC 9112 says to refuse ---------------------------------------------------

SMUGGLED = b"GET /profile HTTP/1.1\r\nHost: localhost\r\n\r\n"
DEFECTS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).map(lambda n: n.encode()),  # no colon
    st.tuples(st.sampled_from(["Transfer-Encoding", "Content-Length", "X-A"]), st.sampled_from([" ", "\t", "  "]))
    .map(lambda t: f"{t[0]}{t[1]}: chunked".encode()),                                        # space before ':'
    st.text(alphabet="abc", min_size=1, max_size=5).map(lambda v: b"X-A: " + v.encode() + b"\rInjected: 1"),  # bare CR
    st.sampled_from([b" folded", b"\tfolded"]).map(lambda f: b"X-A: a\r\n" + f),            # obs-fold
    NON_ASCII_DIGITS.map(lambda d: b"Content-Length: " + d.encode("utf-8")),                   # non-ASCII digits
)


@FUZZ
@given(defect=DEFECTS)
def test_malformed_header_lines_get_one_400_and_a_close(session_server, defect):
    head = b"POST /login HTTP/1.1\r\nHost: localhost\r\n" + defect + b"\r\nContent-Length: 0\r\n\r\n"
    answer = raw_exchange(session_server, head + SMUGGLED)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert answer.count(b"HTTP/1.1 ") == 1  # the bytes after it were never read as a request
    assert b"Connection: close" in answer


@FUZZ
@given(version=st.sampled_from([b"HTTP/01.1", b"HTTP/1.1x", b"HTTP/1", b"http/1.1", b"HTTP/1.1 "]))
def test_malformed_versions_are_refused(session_server, version):
    answer = raw_exchange(session_server, b"GET /profile " + version + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


# --- 4. terminal escapes from the network -------------------------------------------------------

@FUZZ
@given(method=CONTROL_TEXT, target=CONTROL_TEXT, message=CONTROL_TEXT)
def test_the_serve_log_shows_no_control_characters(method, target, message):
    record = RequestRecord(Request(method, "/" + target, "HTTP/1.1", []), 400, [Refused(message)])
    plain = log_line(record, "[stateless]", color=False)
    assert not UNPRINTABLE.search(plain) and plain.count("\n") == 1
    coloured = log_line(record, "[stateless]", color=True)  # only our own SGR codes, no others
    assert not UNPRINTABLE.search(re.sub(r"\x1b\[[0-9;]*m", "", coloured))


@FUZZ
@given(text=st.text())
def test_printable_leaves_nothing_a_terminal_obeys(text):
    shown = printable(text)
    assert not UNPRINTABLE.search(shown) and "\n" not in shown
    assert printable(shown) == shown  # already safe text stays as it is


def test_balancer_refuses_control_characters_in_the_target():
    from authcli.server.transport.balancer import Backend, Balancer

    backend = AuthServer(SessionAuth(MemoryStore(), 60)).start()
    try:
        with AuthServer(Balancer([Backend("A", backend)])) as balancer:
            for target in (b"/\x1b[2J", b"/\x7f", b"/\x1b]0;pwned\x07"):
                answer = raw_exchange(balancer, b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
                assert answer.startswith(b"HTTP/1.1 400 ")
            assert requests.get(balancer.url + "/profile", timeout=5).status_code == 401
    finally:
        backend.stop()


# --- 5. login CSRF ------------------------------------------------------------------------------

FOREIGN_ORIGINS = st.one_of(
    st.just("null"),
    st.tuples(st.sampled_from(["http", "https"]), st.sampled_from(["evil.example", "localhost", "127.0.0.2",
                                                                    "127.0.0.1", "127.0.0.1:1"]))
    .map(lambda t: f"{t[0]}://{t[1]}"),
)


@FUZZ
@given(origin=FOREIGN_ORIGINS, path=st.sampled_from(["/login", "/logout"]),
       mode=st.sampled_from(["session", "jwt"]))
def test_cross_site_origins_get_403_and_no_cookie(jwt_server, session_server, origin, path, mode):
    server = session_server if mode == "session" else jwt_server
    resp = requests.post(server.url + path, json=CREDS, headers={"Origin": origin}, timeout=5)
    assert resp.status_code == 403 and "Cross-origin request refused" in resp.text
    assert "Set-Cookie" not in resp.headers


@FUZZ
@given(site=st.sampled_from(["cross-site", "same-site", "Cross-Site"]), path=st.sampled_from(["/login", "/logout"]))
def test_cross_site_fetch_metadata_gets_403(session_server, site, path):
    resp = requests.post(session_server.url + path, json=CREDS, headers={"Sec-Fetch-Site": site}, timeout=5)
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers


def test_the_same_origin_and_non_browsers_are_served(session_server):
    own = session_server.url
    assert requests.post(own + "/login", json=CREDS, headers={"Origin": own, "Sec-Fetch-Site": "same-origin"},
                         timeout=5).status_code == 200
    assert requests.post(own + "/login", json=CREDS, timeout=5).status_code == 200  # curl, requests


@FUZZ
@given(content_type=st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]))
def test_the_bodies_a_cross_site_form_can_send_are_refused(session_server, content_type):
    resp = requests.post(session_server.url + "/login", data=json.dumps(CREDS),
                         headers={"Content-Type": content_type}, timeout=5)
    assert resp.status_code == 415 and "Set-Cookie" not in resp.headers


# --- 6. missing headers -------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/profile"), ("POST", "/login"), ("GET", "/nope"),
                                          ("DELETE", "/login"), ("GET", "/session.js")])
def test_every_response_says_nosniff_and_pages_carry_a_csp(session_server, method, path):
    resp = requests.request(method, session_server.url + path, json=CREDS, timeout=5)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    if resp.headers["Content-Type"].startswith("text/html"):
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


# --- 7. JWT claim types and bearer syntax -------------------------------------------------------

@FUZZ
@given(claim=st.sampled_from(["sub", "iss", "jti"]), value=NOT_A_STRING)
def test_string_claims_of_other_types_are_401(jwt_server, claim, value):
    payload = {"sub": "1", "iat": 1_700_000_000, "exp": 4_000_000_000, claim: value}
    resp = requests.get(jwt_server.url + "/profile", headers={"Authorization": f"Bearer {sign(payload)}"}, timeout=5)
    assert resp.status_code == 401 and "Welcome" not in resp.text


@FUZZ
@given(aud=st.one_of(st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3)))
def test_a_token_with_aud_is_refused_when_no_audience_is_configured(jwt_server, aud):
    payload = {"sub": "1", "iat": 1_700_000_000, "exp": 4_000_000_000, "aud": aud}
    resp = requests.get(jwt_server.url + "/profile", headers={"Authorization": f"Bearer {sign(payload)}"}, timeout=5)
    assert resp.status_code == 401 and "aud" in resp.text


@FUZZ
@given(prefix=st.sampled_from(["Bearer Bearer ", "Bearer  Bearer ", "Bearer x ", "bearer Basic "]))
def test_a_bearer_value_is_one_token(jwt_server, prefix):
    token = sign({"sub": "1", "iat": 1_700_000_000, "exp": 4_000_000_000})
    resp = requests.get(jwt_server.url + "/profile", headers={"Authorization": prefix + token}, timeout=5)
    assert resp.status_code == 401 and "Welcome" not in resp.text


@FUZZ
@given(defect=DEFECTS, cuts=st.lists(st.integers(min_value=1, max_value=200), max_size=8))
def test_malformed_heads_are_refused_however_the_bytes_arrive(defect, cuts):
    """The same refusal whether the head comes in one packet or dribbles in pieces (a fold can
    straddle two reads)."""
    from authcli.errors import HttpError
    from authcli.server.transport.wire import Reader

    head = b"POST /login HTTP/1.1\r\nHost: localhost\r\n" + defect + b"\r\nContent-Length: 0\r\n\r\n"
    pieces, rest = [], head
    for cut in cuts:
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    reader = Reader()
    with pytest.raises(HttpError) as refused:
        for piece in pieces:
            reader.feed(piece)
            reader.next_request()
    assert refused.value.status == 400


# --- an error message quoting what the user gave: one line, nothing a terminal obeys ----------

@FUZZ
@given(message=st.text(max_size=80))
def test_every_error_is_one_escaped_line_whatever_it_quotes(message):
    """A JWK with kty "\\n" once made `decode --key` print a two-line error: any message, from
    any AuthcliError, leaves through one exit that escapes it."""
    import io
    import sys

    import typer
    from typer.testing import CliRunner

    from authcli.cli.common import reports_errors
    from authcli.cli.inspecting import fast_decode
    from authcli.errors import BadKey

    app = typer.Typer()

    @app.command()
    @reports_errors
    def fail() -> None:
        raise BadKey(message)

    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert not UNPRINTABLE.search(result.stderr)

    from unittest import mock

    with mock.patch("authcli.cli.inspecting.run_decode", side_effect=BadKey(message)), \
            mock.patch.object(sys, "stderr", io.StringIO()) as err:
        assert fast_decode(["x.y.z"]) == 2
    assert err.getvalue().count("\n") == 1 and not UNPRINTABLE.search(err.getvalue())
