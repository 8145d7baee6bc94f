"""The kid SQL injection lab: the formatted query runs what the attacker wrote, the hardened
lookup never runs anything but its own parameterised statement, and neither ever hangs or 500s."""

from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli import clock
from authcli.errors import BadKey
from authcli.passwords import lab_users
from authcli.server.lab.kid_sql import KID_NAME, SAFE_QUERY, KeyTable
from authcli.server.lab.weaknesses import WEAKNESSES, jwt_policy
from authcli.server.schemes.kid_table import KeyTableJwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.forge import sign_hmac
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.lab.injection import INJECTED_KID, KNOWN_SECRET
from authcli.walkthroughs.lab.runner import run_attack
from authcli.walkthroughs.lab.attacks import ATTACKS

SECRET = b"s" * 32


@pytest.fixture
def table():
    keys = KeyTable({"server-key": SECRET})
    yield keys
    keys.close()


# The injection variants attackers try: the comment style, case, spacing, the quote closed or
# balanced, a literal built by char() or hex, a second column, a WHERE that is always true.
COMMENTS = st.sampled_from(["--", "-- ", "/*", "/* an unclosed comment runs to the end", ""])
UNION = st.sampled_from(["UNION SELECT", "union select", "UnIoN SeLeCt", "UNION ALL SELECT", "UNION\tSELECT"])


@st.composite
def injections(draw) -> tuple[str, bytes]:
    secret = draw(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1, max_size=24))
    literal = draw(st.sampled_from([f"'{secret}'", "char(" + ",".join(str(ord(c)) for c in secret) + ")",
                                    f"lower('{secret.upper()}')" if secret == secret.lower() else f"'{secret}'"]))
    prefix = draw(st.sampled_from(["x", "nope", "", "server-key' AND 1=0 AND 'a'='a"]))
    tail = draw(COMMENTS)
    kid = f"{prefix}' {draw(UNION)} {literal} {tail}" if tail else f"{prefix}' {draw(UNION)} {literal} WHERE '1'='1"
    return kid, secret.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(injections())
def test_the_formatted_query_returns_the_attackers_key(table, case):
    kid, secret = case
    found, query = table.formatted(kid)
    assert found == secret
    assert kid in query  # the attacker's text became SQL


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(injections().map(lambda c: c[0]), st.text(max_size=200),
                 st.sampled_from(["server-key", "server-key'--", "'; DROP TABLE keys; --", "x' OR '1'='1"])))
def test_the_hardened_lookup_never_runs_the_attackers_sql(table, kid):
    table.statements.clear()
    try:
        found = table.lookup(kid)
    except BadKey:
        found = None
    # Only the one parameterised statement ever ran, and only for a key name: SQLite's own trace
    # shows it with the bound kid expanded as one quoted literal, never as SQL.
    literal = "'" + kid.replace("'", "''") + "'" if isinstance(kid, str) else ""
    assert all(s == SAFE_QUERY.replace("?", literal) for s in table.statements), table.statements
    assert bool(table.statements) == bool(KID_NAME.fullmatch(kid))
    assert found == (SECRET if kid == "server-key" else None)
    assert table.lookup("server-key") == SECRET  # the table is intact


@pytest.mark.parametrize("kid", [
    "x'; DROP TABLE keys; --",
    "x' UNION SELECT randomblob(1000000000) --",
    "x' UNION SELECT zeroblob(1000000000) --",
    "x' UNION SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c) --",
    "x' UNION SELECT 1 FROM keys a, keys b, keys c, keys d, keys e, keys f --",
    "x' ; ATTACH DATABASE '/tmp/authcli-kid-sql.db' AS pwn --",
    "x",
])
def test_even_the_weak_query_only_reads_and_ends_quickly(table, kid):
    start = time.monotonic()
    try:
        table.formatted(kid)
    except BadKey:
        pass
    assert time.monotonic() - start < 1
    assert table.lookup("server-key") == SECRET


def _servers():
    key = make_signing_key("HS256")
    weak = KeyTableJwtAuth(key, 300, policy=jwt_policy([WEAKNESSES["kid-sql"]]), users=lab_users(), weak=("kid-sql",))
    hard = KeyTableJwtAuth(key, 300, users=lab_users())
    return weak, hard


def test_the_lab_works_on_the_weak_server_and_the_hardened_one_says_why_not():
    weak, hard = run_attack(ATTACKS["kid-sql"])
    assert weak.won and "Welcome user 1" in weak.exchanges[-1][1].response.body
    refusal = hard.exchanges[-1][1].response
    assert refusal.status == 401 and "not a key name this server gives" in refusal.body


def test_both_servers_accept_their_own_tokens_over_http():
    for app in _servers():
        with AuthServer(app) as server:
            login = requests.post(f"{server.url}/login", json={"email": "a@b.com", "password": "123"}, timeout=10)
            token = login.json()["token"]
            answer = requests.get(f"{server.url}/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert answer.status_code == 200 and answer.text.strip() == "Welcome user 1"
        app.close()


@settings(max_examples=40, deadline=None)
@given(st.one_of(injections().map(lambda c: c[0]), st.text(max_size=300), st.integers(), st.none(),
                 st.lists(st.text(max_size=5), max_size=3)))
def test_no_kid_ever_gets_a_500(kid):
    weak, hard = _servers()
    try:
        with AuthServer(weak) as w, AuthServer(hard) as h:
            now = int(clock.now())
            claims = {"sub": "1", "iat": now, "exp": now + 60}
            token = sign_hmac({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, KNOWN_SECRET)
            for server in (w, h):
                answer = requests.get(f"{server.url}/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
                assert answer.status_code in (200, 401), answer.text
            refused = requests.get(f"{h.url}/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert refused.status_code == 401
    finally:
        weak.close()
        hard.close()


def test_the_injected_kid_is_the_one_the_lab_teaches():
    assert "UNION SELECT" in INJECTED_KID and json.dumps(INJECTED_KID)
    table = KeyTable({"server-key": SECRET})
    try:
        assert table.formatted(INJECTED_KID)[0] == KNOWN_SECRET
    finally:
        table.close()


@pytest.mark.parametrize("fmt", ["rich", "markdown", "json", "html"])
def test_the_kid_lab_renders_in_every_format(fmt):
    from typer.testing import CliRunner

    from authcli.cli.app import app

    result = CliRunner().invoke(app, ["lab", "kid-sql", "-f", fmt])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the terminal view wraps lines
    assert "UNION SELECT" in text and "not a key name this server gives" in text
    if fmt == "json":
        assert json.loads(result.output)["steps"][-1]["title"] == "Summary"
