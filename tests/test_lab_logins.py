"""The lab's /login attacks: user-enum and no-rate-limit, over real HTTP on port 0, and the
hardened server's one answer and its failed-login limits (a fake clock, never a sleep)."""

from __future__ import annotations

import json
import os

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.clock import now as clock_now
from authcli.cli.app import app
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD, lab_users
from authcli.server.lab.weaknesses import parse, session_policy
from authcli.server.policy import LoginLimits
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.throttle import LoginThrottle
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.lab.logins import EMAILS, passwords

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)) // 6 or 1, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Clock:
    def __init__(self) -> None:
        self.t = clock_now()

    def __call__(self) -> float:
        return self.t


def login(server: AuthServer, email: str, password: str) -> requests.Response:
    return requests.post(server.url + "/login", json={"email": email, "password": password}, timeout=10)


def test_the_lists_are_what_the_lab_says():
    assert len(EMAILS) == 20 == len(set(EMAILS)) and DEMO_EMAIL in EMAILS
    assert len(passwords()) == 10 and passwords()[-1] == DEMO_PASSWORD == "123"


def test_the_weak_server_names_unknown_emails_and_the_hardened_one_never_does():
    weak = SessionAuth(MemoryStore(), 60, policy=session_policy(parse("user-enum")), users=lab_users(),
                       weak=("user-enum",))
    with AuthServer(weak) as w, AuthServer(SessionAuth(MemoryStore(), 60, users=lab_users())) as h:
        assert login(w, "nobody@b.com", "x").text.strip() == "No user with this email"
        assert login(w, DEMO_EMAIL, "x").text.strip() == "Wrong password"
        assert login(w, DEMO_EMAIL, DEMO_PASSWORD).status_code == 200
        answers = {(r.status_code, r.text) for r in (login(h, "nobody@b.com", "x"), login(h, DEMO_EMAIL, "x"))}
        assert answers == {(401, "Wrong credentials\n")}


@FUZZ
@given(local=st.from_regex(r"[a-z0-9._-]{1,20}", fullmatch=True), domain=st.sampled_from(["b.com", "example.org"]),
       casing=st.lists(st.booleans(), min_size=40, max_size=40), pad=st.sampled_from(["", " ", "\t", "  "]))
def test_any_variant_of_an_unknown_email_gets_the_wrong_password_answer(hardened, local, domain, casing, pad):
    email = "".join(c.upper() if casing[i % 40] else c for i, c in enumerate(f"{local}@{domain}"))
    email = pad + email + pad[::-1]
    server, clock = hardened
    clock.t += 61  # a new window per example: the per-address limit never decides this test
    unknown, wrong = login(server, email, "guess"), login(server, DEMO_EMAIL, "guess")
    if email == DEMO_EMAIL:
        return
    assert (unknown.status_code, unknown.text) == (wrong.status_code, wrong.text) == (401, "Wrong credentials\n")


@pytest.fixture(scope="module")
def hardened():
    clock = Clock()
    with AuthServer(SessionAuth(MemoryStore(), 60, users=lab_users(), clock=clock)) as server:
        yield server, clock


def test_the_hardened_server_answers_429_then_lets_the_user_in_after_the_window():
    clock = Clock()
    with AuthServer(SessionAuth(MemoryStore(), 60, users=lab_users(), clock=clock)) as server:
        assert [login(server, DEMO_EMAIL, p).status_code for p in passwords()[:5]] == [401] * 5
        clock.t += 10
        blocked = login(server, DEMO_EMAIL, DEMO_PASSWORD)  # the right password, from the same address
        assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "50"
        assert "Too many failed logins" in blocked.text
        assert login(server, "eve@example.com", "eve").status_code == 200  # another account: not locked
        clock.t += 50
        assert login(server, DEMO_EMAIL, DEMO_PASSWORD).status_code == 200


def test_the_weak_server_takes_every_guess():
    weak = SessionAuth(MemoryStore(), 60, policy=session_policy(parse("no-rate-limit")), users=lab_users(),
                       weak=("no-rate-limit",))
    with AuthServer(weak) as server:
        statuses = [login(server, DEMO_EMAIL, p).status_code for p in passwords()]
        assert statuses == [401] * 9 + [200]


def test_limits_are_per_account_and_address_per_address_and_reset_by_a_success():
    clock = Clock()
    limits = LoginLimits(per_account=3, per_address=5, window=60)
    throttle = LoginThrottle(limits, clock)
    for _ in range(3):
        throttle.failed(" A@B.com", "10.0.0.1")  # casing and spaces: the same account
    assert throttle.blocked("a@b.com", "10.0.0.1") == 60
    assert throttle.blocked("a@b.com", "10.0.0.2") == 0  # the real user elsewhere is not locked out
    throttle.succeeded("a@b.com", "10.0.0.2")
    throttle.failed("x@b.com", "10.0.0.1")
    throttle.failed("y@b.com", "10.0.0.1")
    assert throttle.blocked("z@b.com", "10.0.0.1") == 60  # five failures from one address, any accounts
    clock.t += 59.5
    assert throttle.blocked("a@b.com", "10.0.0.1") == 1
    clock.t += 0.5
    assert throttle.blocked("a@b.com", "10.0.0.1") == 0 == throttle.blocked("z@b.com", "10.0.0.1")
    throttle.failed("a@b.com", "10.0.0.3")
    throttle.succeeded("a@b.com", "10.0.0.3")
    assert throttle.blocked("a@b.com", "10.0.0.3") == 0


def test_the_counters_are_bounded_and_a_full_table_refuses_only_new_failures():
    clock = Clock()
    throttle = LoginThrottle(LoginLimits(entries=6, window=60), clock)
    for n in range(3):
        throttle.failed(f"u{n}@b.com", f"10.0.0.{n}")  # two counters each
    assert len(throttle) == 6
    assert throttle.full("new@b.com", "10.0.0.9") and not throttle.full("u0@b.com", "10.0.0.0")
    clock.t += 60
    assert not throttle.full("new@b.com", "10.0.0.9")
    throttle.failed("new@b.com", "10.0.0.9")
    assert len(throttle) <= 6


def test_a_full_table_answers_503_with_retry_after_over_http():
    from dataclasses import replace

    from authcli.server.policy import HARDENED_SESSIONS

    policy = replace(HARDENED_SESSIONS, login_limits=LoginLimits(entries=2))
    with AuthServer(SessionAuth(MemoryStore(), 60, policy=policy, users=lab_users(), clock=Clock())) as server:
        assert login(server, "one@b.com", "x").status_code == 401
        full = login(server, "two@b.com", "x")  # a second account from the same address: one more counter
        assert full.status_code == 503 and full.headers["Retry-After"] == "60"
        assert login(server, DEMO_EMAIL, DEMO_PASSWORD).status_code == 503  # refused before the hash: honest


@pytest.mark.parametrize("fmt", ["rich", "markdown", "html", "json"])
def test_the_login_labs_run_in_every_format(fmt):
    result = CliRunner().invoke(app, ["lab", "no-rate-limit", "--summary", "-f", fmt])
    assert result.exit_code == 0, result.output
    assert "no-rate-limit" in result.stdout and "429" in result.stdout
    if fmt == "json":
        assert "200 Welcome user 1" in json.dumps(json.loads(result.stdout)["steps"][-1])


def test_the_login_labs_in_full_and_listed():
    result = CliRunner().invoke(app, ["lab", "user-enum", "no-rate-limit", "-f", "markdown"])
    assert result.exit_code == 0, result.output
    assert "| user-enum | found a@b.com among 20 | one answer for all 20: 401 Wrong credentials |" in result.stdout
    assert "2 different answers (401 No user with this email; 401 Wrong password)" in result.stdout
    assert "the same answer every time (401 Wrong credentials)" in result.stdout
    assert "Retry-After: " in result.stdout and "9 x 401, 1 x 200" in result.stdout
    listed = CliRunner().invoke(app, ["lab", "--list"]).stdout
    assert "user-enum" in listed and "no-rate-limit" in listed


@settings(max_examples=50, deadline=None)
@given(hosts=st.lists(st.integers(1, 2**64 - 1), min_size=4, max_size=12),
       emails=st.lists(st.sampled_from(["a@b.com", "x@b.com", "root@b.com"]), min_size=12, max_size=12))
def test_failures_count_for_the_whole_ipv6_64_whatever_address_in_it_sends(hosts, emails):
    """The throttle keyed the raw address: a laptop rotating through its /64 (SLAAC hands it
    2^64 addresses) had a fresh counter each time, so guesses were unlimited."""
    import ipaddress

    from authcli.server.journal import Request
    from authcli.server.throttle import client_address, gate

    throttle = LoginThrottle(LoginLimits(per_account=2, per_address=3), clock=lambda: 0.0)
    answers = []
    for host, email in zip(hosts, emails):
        peer = (str(ipaddress.IPv6Address((0x20010db8_00010002 << 64) | host)), 5000)
        request = Request("POST", "/login", "HTTP/1.1", [], peer=peer)
        refused = gate(throttle, email, request)
        answers.append(refused.status if refused else None)
        if refused is None:
            throttle.failed(email, client_address(request))
    assert set(answers) <= {None, 429} and answers.count(None) <= 3  # per_address, for the whole /64
    if answers.count(None) == 3:
        third = [i for i, a in enumerate(answers) if a is None][2]
        assert all(a == 429 for a in answers[third + 1:])
    assert len(throttle) <= 1 + len(set(emails))  # one address counter, not one per address used
