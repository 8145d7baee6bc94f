"""HTTPS: the throwaway CA and certificate, the server's TLS, the __Host- Secure cookie kept off
plain HTTP, and every kind of bad TLS input refused without hurting the server."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import stat

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.policy import HTTPS_SESSIONS
from authcli.stores.memory import MemoryStore
from authcli.tls import TlsError, given_files, inspect, make_files
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.model import ExchangeBlock

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)) // 2, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CREDS = {"email": "a@b.com", "password": "123"}


@pytest.fixture(scope="module")
def files():
    made = make_files()
    yield made
    made.remove()


@pytest.fixture
def https_server(files):
    with AuthServer(SessionAuth(MemoryStore(), 60, policy=HTTPS_SESSIONS), tls=files.server_context()) as server:
        yield server


def test_the_throwaway_ca_and_certificate(files):
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    assert cert.issuer == ca.subject and cert.issuer != cert.subject
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == {"localhost", "127.0.0.1", "::1"}
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(hours=25)
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                           __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ECDSA"]).ECDSA(
                               cert.signature_hash_algorithm))
    assert stat.S_IMODE(os.stat(files.directory).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in (files.cert, files.key, files.ca))
    other = make_files()
    other.remove()
    assert not other.directory.exists()


def test_https_login_gives_a_host_prefixed_secure_cookie_and_hsts(https_server, files):
    with requests.Session() as http:
        answer = http.post(https_server.url + "/login", json=CREDS, timeout=5, verify=str(files.ca))
        assert answer.status_code == 200 and https_server.url.startswith("https://")
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("__Host-sessionId=")
        assert all(flag in cookie for flag in ("; Secure", "; HttpOnly", "; Path=/")) and "Domain" not in cookie
        assert answer.headers["Strict-Transport-Security"] == "max-age=300"
        assert http.get(https_server.url + "/profile", timeout=5, verify=str(files.ca)).text == "Welcome user 1\n"


def test_the_secure_cookie_is_not_sent_over_plain_http(https_server, files):
    with requests.Session() as http, AuthServer(https_server.app) as plain:
        http.post(https_server.url + "/login", json=CREDS, timeout=5, verify=str(files.ca))
        assert len(http.cookies) == 1
        answer = http.get(plain.url + "/profile", timeout=5)
        assert answer.status_code == 401 and "Cookie" not in answer.request.headers


def test_a_client_that_does_not_trust_the_ca_is_refused_and_the_server_goes_on(https_server, files):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_server.url + "/profile", timeout=5, verify=True)  # the system's CAs only
    assert requests.get(https_server.url + "/profile", timeout=5, verify=str(files.ca)).status_code == 401
    assert https_server.handler_errors == 0


def test_plain_http_to_the_tls_port_gets_one_plain_400(https_server, files):
    with socket.create_connection((https_server.host, https_server.port), timeout=5) as raw:
        raw.sendall(b"GET /profile HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"This port speaks HTTPS" in answer
    assert requests.get(https_server.url + "/profile", timeout=5, verify=str(files.ca)).status_code == 401


def test_an_expired_certificate_is_refused_by_the_client(files):
    old = make_files(now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3), lifetime=dt.timedelta(days=1))
    try:
        with AuthServer(SessionAuth(MemoryStore(), 60), tls=old.server_context()) as server:
            with pytest.raises(requests.exceptions.SSLError, match="expired"):
                requests.get(server.url + "/profile", timeout=5, verify=str(old.ca))
            with pytest.raises(ssl.SSLCertVerificationError):
                inspect(server.host, server.port, old.ca)
            assert server.handler_errors == 0
        with pytest.raises(TlsError, match="expired at"):  # serve --cert refuses it up front
            given_files(old.cert, old.key, old.ca)
        result = CliRunner().invoke(app, ["serve", "--https", "--cert", str(old.cert), "--cert-key", str(old.key)])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "expired" in result.stderr
    finally:
        old.remove()


def test_a_key_that_does_not_match_is_one_line(files, tmp_path):
    other = make_files()
    try:
        assert given_files(files.cert, files.key, files.ca).ca == files.ca  # a good pair is taken
        with pytest.raises(TlsError, match="the key does not match the certificate"):
            given_files(files.cert, other.key, None)
        result = CliRunner().invoke(app, ["serve", "--https", "--cert", str(files.cert), "--cert-key", str(other.key)])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1
        garbage = tmp_path / "garbage.pem"
        garbage.write_bytes(b"not a certificate")
        with pytest.raises(TlsError, match="not a PEM certificate"):
            given_files(garbage, garbage, None)
    finally:
        other.remove()


@FUZZ
@given(data=st.binary(min_size=1, max_size=300))
def test_any_bytes_on_the_tls_port_never_hurt_the_server(https_server, files, data):
    """A TLS hello cut short, a garbled record, plain text: each connection ends, the server
    answers the next trusted client, and no handler error is counted."""
    with socket.create_connection((https_server.host, https_server.port), timeout=5) as raw:
        try:  # the server may hang up first (a garbled record): that is a refusal, not a failure
            raw.sendall(data)
            raw.shutdown(socket.SHUT_WR)
            raw.recv(4096)
        except OSError:
            pass
    assert requests.get(https_server.url + "/profile", timeout=5, verify=str(files.ca)).status_code == 401
    assert https_server.handler_errors == 0


def test_demo_session_over_https_shows_tls_and_the_plain_port():
    from authcli.walkthroughs.session import session_walkthrough

    made = make_files()
    try:
        steps = list(session_walkthrough(1, tls=made))
    finally:
        made.remove()
    titles = [s.title for s in steps]
    assert any(t.startswith("HTTPS: what the TLS handshake agreed") for t in titles)
    plain = next(s for s in steps if s.title.startswith("HTTPS: the Secure cookie"))
    sent = plain.first(ExchangeBlock).exchange
    assert sent.request.url.startswith("http://") and sent.request.header("Cookie") is None
    login = next(s for s in steps if s.number == 2).exchange
    assert login.request.url.startswith("https://")
    assert login.response.header("Set-Cookie").startswith("__Host-sessionId=")
    assert [c.name for c in next(s for s in steps if s.number == 3).cookie_jar] == ["__Host-sessionId"]


def test_demo_jwt_over_https():
    result = CliRunner().invoke(app, ["demo", "jwt", "--ttl", "1", "--https", "-f", "markdown"])
    assert result.exit_code == 0, result.stderr
    assert "## HTTPS: what the TLS handshake agreed" in result.stdout
    assert "a passive reader on the network sees no token" in result.stdout
    assert "Strict-Transport-Security: max-age=300" in result.stdout


def test_a_jwt_server_over_https(files):
    with AuthServer(JwtAuth(make_signing_key("HS256"), 60), tls=files.server_context()) as server:
        token = requests.post(server.url + "/login", json=CREDS, timeout=5, verify=str(files.ca)).json()["token"]
        ok = requests.get(server.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5,
                          verify=str(files.ca))
        assert ok.status_code == 200


@pytest.mark.parametrize("balancer", ["haproxy", "in-process"])
def test_the_balancer_terminates_tls(files, balancer):
    from authcli.walkthroughs.model import ConfigBlock
    from authcli.walkthroughs.scaling import scaling_walkthrough
    from conftest import require_haproxy

    haproxy = require_haproxy() if balancer == "haproxy" else None
    steps = list(scaling_walkthrough((1,), tls=files, haproxy=haproxy))
    assert any("the balancer terminates TLS" in p for p in steps[0].text)
    if haproxy:  # HAProxy's own bind line, with the certificate and key it was given
        config = next(s.first(ConfigBlock) for s in steps if s.first(ConfigBlock))
        assert any(line.strip().startswith("bind 127.0.0.1:") and " ssl crt " in line for line in config.lines)
    login = next(s for s in steps if s.exchange is not None).exchange
    assert login.request.url.startswith("https://")
    assert login.response.header("Set-Cookie").startswith("__Host-sessionId=")
    assert login.response.header("Strict-Transport-Security") == "max-age=300"


def test_demo_browser_over_https(files):
    from conftest import require_browser

    require_browser()
    import json

    result = CliRunner().invoke(app, ["demo", "browser", "--https", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    jar = next(s["cookie_jar"] for s in steps if s["number"] == 3)
    assert [(c["name"], c["secure"], c["http_only"]) for c in jar] == [("__Host-sessionId", True, True)]
    linked = next(s for s in steps if s["number"] == 6)  # the step's last exchange: the attacker's link
    assert linked["request"]["url"].startswith("https://") and linked["response"]["status"] == 200
    assert any(name == "Cookie" and value.startswith("__Host-sessionId=") for name, value in linked["request"]["headers"])


def test_chromium_sends_the_secure_cookie_to_plain_http_on_loopback_only(files):
    """requests keeps a Secure cookie off http:// everywhere; Chromium treats 127.0.0.1 as a
    secure context and sends it there (and only there). The demo says so instead of claiming
    browsers refuse: this test keeps that sentence true."""
    from conftest import require_browser

    require_browser()
    from authcli.browser import Browser

    with AuthServer(SessionAuth(MemoryStore(), 60, policy=HTTPS_SESSIONS), tls=files.server_context()) as server, \
            AuthServer(SessionAuth(MemoryStore(), 60)) as plain, Browser(server, tls=files) as chromium:
        chromium.tab.goto(server.url + "/style.css")  # this origin, no page script of its own
        status = chromium.run("""async () => { const r = await fetch("/login", {method: "POST",
            headers: {"Content-Type": "application/json"}, body: JSON.stringify({email: "a@b.com", password: "123"})});
            await r.text(); return r.status; }""")
        assert status == 200 and [c.name for c in chromium.cookies()] == ["__Host-sessionId"]
        mark = plain.mark()
        chromium.tab.goto(plain.url + "/profile")  # a top-level navigation: cookies go if they may
        sent = [r.request for r in plain.records_since(mark) if r.request.path == "/profile"]
        assert sent and sent[0].header_values("Cookie")[0].startswith("__Host-sessionId=")


def test_chromium_does_not_apply_this_demos_hsts(files):
    """The demo says its Strict-Transport-Security header has no effect here: 127.0.0.1 is an IP
    address (RFC 6797 8.1), and Chromium did not record localhost either. After an HTTPS answer
    with the header, a plain http:// request to the same host name still goes out as plain HTTP."""
    from conftest import require_browser

    require_browser()
    from authcli.browser import Browser

    with AuthServer(SessionAuth(MemoryStore(), 60, policy=HTTPS_SESSIONS), tls=files.server_context()) as server, \
            AuthServer(SessionAuth(MemoryStore(), 60)) as plain, Browser(server, tls=files) as chromium:
        for host in ("127.0.0.1", "localhost"):
            answer = chromium.tab.goto(server.url.replace("127.0.0.1", host) + "/style.css")
            assert answer.headers["strict-transport-security"] == "max-age=300"
            mark = plain.mark()
            chromium.tab.goto(plain.url.replace("127.0.0.1", host) + "/profile")
            assert chromium.tab.url.startswith(f"http://{host}:")
            assert "/profile" in [r.request.path for r in plain.records_since(mark)], host  # plain HTTP


def test_chromium_keeps_a_host_prefixed_secure_cookie_from_plain_http_on_loopback():
    """What the __Host- defence says of localhost: Chromium counts http://127.0.0.1 and
    http://localhost as secure, so it keeps a __Host- Secure cookie set over plain HTTP there and
    sends it back (Safari does not; browsers differ, httpwg issue 2605)."""
    from conftest import require_browser

    require_browser()
    from authcli.browser import Browser

    with AuthServer(SessionAuth(MemoryStore(), 60, policy=HTTPS_SESSIONS)) as plain, Browser(plain) as chromium:
        for host in ("127.0.0.1", "localhost"):
            chromium.fresh_profile()
            chromium.tab.goto(plain.url.replace("127.0.0.1", host) + "/style.css")
            got = chromium.run("""async () => { const r = await fetch("/login", {method: "POST",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify({email: "a@b.com", password: "123"})});
                await r.text(); const p = await fetch("/profile"); await p.text(); return p.status; }""")
            assert [(c.name, c.secure) for c in chromium.cookies()] == [("__Host-sessionId", True)], host
            assert got == 200, host
