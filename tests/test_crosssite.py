"""The cross-site lab without a browser: which victim the attacker page aims at, the policy it
is served under, and a log that never hands another site a whole credential."""

from __future__ import annotations

import json
import os
import re

import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.lab.crosssite import ORIGIN, SHOWN, CrossSiteLab, other_site
from authcli.server.journal import Journal, Request, RequestRecord
from authcli.events import SessionLookedUp
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
# What a CSP source list may hold here: no ';' or ',' to start another directive, no quotes.
SAFE_POLICY = re.compile(r"[A-Za-z0-9 :/.\[\]'*-]+(; [A-Za-z0-9 :/.\[\]'*-]+)*")


def get(lab: CrossSiteLab, target: str, host: str = "localhost:8000", **headers: str):
    request = Request("GET", target, "HTTP/1.1", [("Host", host), *headers.items()])
    return lab.handle(request)


def lab(journal: Journal | None = None, mode: str = "session") -> CrossSiteLab:
    return CrossSiteLab(journal or Journal(10), mode)


def test_the_attacker_page_aims_at_the_other_name_for_this_server():
    assert other_site("localhost:8000") == "http://127.0.0.1:8000"
    assert other_site("127.0.0.1:8000") == "http://localhost:8000"
    assert other_site("LOCALHOST:1") == "http://127.0.0.1:1"
    assert other_site("[::1]:8000") == "http://localhost:8000"
    answer = get(lab(), "/attacker")
    policy = dict(answer.headers)["Content-Security-Policy"]
    assert "form-action http://127.0.0.1:8000;" in policy and "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and 'data-victim="http://127.0.0.1:8000"' in answer.body


def test_a_named_victim_must_be_a_bare_origin_on_another_host():
    ok = get(lab(), "/attacker?victim=http%3A%2F%2F192.168.1.5%3A8000", host="teacher.local:8000")
    assert ok.status == 200 and 'data-victim="http://192.168.1.5:8000"' in ok.body
    for bad in ["javascript:alert(1)", "http://x/path", "http://a b", "http://localhost:8000",
                "http://x;script-src *", "http://x'"]:
        answer = get(lab(), "/attacker?" + requests.compat.urlencode({"victim": bad}))
        assert answer.status == 400, bad


@FUZZ
@given(victim=st.text(max_size=60), host=st.text(max_size=60))
def test_no_victim_or_host_can_write_into_the_policy_or_the_page(victim, host):
    target = "/attacker?" + requests.compat.urlencode({"victim": victim})
    answer = get(lab(), target, host=host)
    assert answer.status in (200, 400)
    if answer.status == 200:
        policy = dict(answer.headers)["Content-Security-Policy"]
        assert SAFE_POLICY.fullmatch(policy), policy
        assert len(policy.split("; ")) == 6
        shown = re.search(r'data-victim="([^"]*)"', answer.body).group(1)
        assert ORIGIN.fullmatch(shown)


@FUZZ
@given(value=st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';".'),
                     min_size=SHOWN + 1, max_size=80))
def test_the_log_never_shows_another_site_a_whole_credential(value):
    # A value that is itself part of the log's fixed words ("sessionId") is shown by those words.
    assume(all(value not in fixed for fixed in ("sessionId=", "Bearer ", 'sessionStore["', '"] -> ...')))
    journal = Journal(10)
    request = Request("GET", "/profile", "HTTP/1.1", [("Host", "127.0.0.1:1"),
                                                     ("Cookie", f"sessionId={value}"),
                                                     ("Authorization", f"Bearer {value}x")])
    journal.record(RequestRecord(request, 200, [SessionLookedUp(f'sessionStore["{value}"] -> ...',
                                                               session_id=value, found=True)]))
    body = get(lab(journal), "/attacker/log?since=0").body
    log = json.loads(body)
    entry = log["requests"][0]
    # Every value the log shows (the JSON's own key names aside, which a short value can match).
    shown = [entry["cookie"], entry["authorization"], *entry["server"]]
    assert not any(value in text for text in shown), shown
    assert entry["cookie"].startswith("sessionId=" + value[:SHOWN] + "...")
    assert entry["authorization"].startswith("Bearer " + value[:SHOWN] + "...")


def test_the_log_lists_only_the_handouts_routes_since_the_mark():
    journal = Journal(10)
    for path in ["/profile", "/style.css", "/attacker/log", "/session/record", "/logout"]:
        journal.record(RequestRecord(Request("GET", path, "HTTP/1.1", []), 200, []))
    log = json.loads(get(lab(journal), "/attacker/log?since=1").body)
    assert [e["request"] for e in log["requests"]] == ["GET /logout"] and log["mark"] == 5
    assert json.loads(get(lab(journal), "/attacker/log").body)["requests"] == []
    assert json.loads(get(lab(journal), "/attacker/log?since=-3").body)["requests"] == []
    assert json.loads(get(lab(journal), "/attacker/log?since=99999999999999999999").body)["requests"] == []


def test_how_a_request_was_sent_comes_from_the_browsers_sec_fetch_headers():
    journal = Journal(10)
    for mode, dest in [("navigate", "document"), ("navigate", "iframe"), ("no-cors", "empty"), ("", "")]:
        headers = [("Sec-Fetch-Mode", mode), ("Sec-Fetch-Dest", dest)] if mode else []
        journal.record(RequestRecord(Request("GET", "/profile", "HTTP/1.1", headers), 401, []))
    log = json.loads(get(lab(journal), "/attacker/log?since=0").body)
    assert [e["how"] for e in log["requests"]] == [
        "top-level navigation", "navigation in a frame (iframe)", "script request (no-cors)",
        "no Sec-Fetch headers: not a browser, or an old one"]


def test_every_server_serves_the_lab_over_real_http_under_both_schemes():
    for app in (SessionAuth(MemoryStore(), 60), JwtAuth(make_signing_key("HS256"), 60)):
        with AuthServer(app) as server, requests.Session() as http:
            page = http.get(server.url + "/attacker", timeout=5)
            assert page.status_code == 200
            assert f"form-action {server.url.replace('127.0.0.1', 'localhost')};" in page.headers["Content-Security-Policy"]
            assert f'data-mode="{app.mode}"' in page.text
            mark = json.loads(http.get(server.url + "/attacker/log", timeout=5).text)["mark"]
            http.get(server.url + "/profile", timeout=5)
            log = json.loads(http.get(f"{server.url}/attacker/log?since={mark}", timeout=5).text)
            assert [(e["request"], e["status"]) for e in log["requests"]] == [("GET /profile", 401)]
            assert http.post(server.url + "/attacker", timeout=5).status_code == 404
            assert isinstance(server.app, type(app)) and server.handler_errors == 0


@FUZZ
@given(issued=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=17, max_size=86))
def test_the_log_never_shows_an_id_the_server_issued(issued):
    """A login's event names the session ID it just issued, which no header of the request
    carried: on a classroom server anyone could have read it from /attacker/log."""
    from authcli.events import SessionCreated

    journal = Journal(10)
    request = Request("POST", "/login", "HTTP/1.1", [("Host", "0.0.0.0:1")])
    journal.record(RequestRecord(request, 200, [SessionCreated(f'sessionStore["{issued}"] = {{}}',
                                                               session_id=issued)]))
    body = get(lab(journal), "/attacker/log?since=0").body
    assert issued not in body and issued[:SHOWN] in body


def test_a_real_login_leaves_no_usable_id_or_token_in_the_log():
    for app in (SessionAuth(MemoryStore(), 60), JwtAuth(make_signing_key("HS256"), 60)):
        with AuthServer(app) as server, requests.Session() as http:
            answer = http.post(server.url + "/login", json={"email": "a@b.com", "password": "123"}, timeout=5)
            secret = answer.cookies.get("sessionId") or answer.json()["token"]
            http.get(server.url + "/profile", timeout=5,
                     headers={} if app.mode == "session" else {"Authorization": f"Bearer {secret}"})
            body = http.get(server.url + "/attacker/log?since=0", timeout=5).text
            assert len(json.loads(body)["requests"]) == 2
            for part in secret.split("."):
                assert part not in body
