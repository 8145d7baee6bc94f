"""demo jwt --cookie's data, on a fake clock: every step from real traffic, the token only in a cookie;
every format renders it, and demo compare's third column is filled from it."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.events import TokenCookieSet
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt_cookie import INFO, jwt_cookie_walkthrough
from authcli.walkthroughs.model import ExchangeBlock, TableBlock
from conftest import FakeClock, render_all


@pytest.fixture(scope="module")
def steps():
    clock = FakeClock()
    return list(jwt_cookie_walkthrough(make_signing_key("HS256"), 3, clock=clock, sleep=clock.advance))


def by_number(steps, n):
    return next(s for s in steps if s.number == n)


def test_order_and_statuses(steps):
    numbered = [s for s in steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 11))
    statuses = [s.exchange.response.status if s.exchange else None for s in numbered]
    assert statuses == [200, None, 200, 401, 401, 200, 200, None, 401, 200]
    assert steps[-1].title == "Recap"


def test_no_request_carries_an_authorization_header(steps):
    sent = [b.exchange.request for s in steps for b in s.all(ExchangeBlock)]
    assert len(sent) >= 8 and all(r.header("Authorization") is None for r in sent)
    assert all((r.header("Cookie") or "").startswith("token=") for r in sent if r.target == "/profile")


def test_login_sets_the_token_only_as_an_httponly_cookie(steps):
    login = by_number(steps, 1).exchange
    set_cookie = login.response.header("Set-Cookie")
    token = by_number(steps, 1).token.token
    assert set_cookie == f"token={token}; Path=/; HttpOnly; SameSite=Lax"
    assert token not in login.response.body
    [kept] = by_number(steps, 2).cookie_jar
    assert kept.name == "token" and kept.value == token and kept.http_only and kept.same_site == "Lax"


def test_logout_clears_the_jar_and_the_copy_still_works(steps):
    logout = by_number(steps, 6)
    assert logout.exchange.response.header("Set-Cookie").startswith("token=; Max-Age=0")
    assert logout.cookie_jar == []
    assert by_number(steps, 7).exchange.response.body == "Welcome user 1\n"


def test_grown_claims_pass_the_cookie_limit(steps):
    grown = by_number(steps, 10)
    said = grown.exchange.event(TokenCookieSet)
    assert said.size > COOKIE_LIMIT and not said.fits
    [kept] = grown.cookie_jar  # Python's jar has no limit: a browser's has (tests/test_browser.py)
    assert said.size == len(kept.name) + len(kept.value)
    assert f"{said.size} bytes of name and value" in " ".join(grown.text)


def test_the_recap_names_where_this_leads(steps):
    recap = steps[-1]
    rows = {row[0]: row[1] for row in recap.first(TableBlock).table.rows}
    assert "no Authorization header" in rows["Auth sent via"] and "step 10" in rows["Size"]
    assert "backend-for-frontend" in " ".join(recap.text) and "[^oauth-browser-bff]" in " ".join(recap.text)


def test_every_format_renders_the_same_run(steps):
    text, md, doc, html = render_all(INFO, steps)
    assert "Step 3 · GET /profile: the jar sends the cookie by itself" in text
    assert "## Step 10. The claims grow" in md
    assert "[^rfc6265bis-5.6]:" in md
    assert doc["walkthrough"] == "jwt" and len([s for s in doc["steps"] if s.get("number")]) == 10
    assert "JWT in an HttpOnly cookie" in html


def test_the_cli_runs_it_as_json_and_in_step_mode():
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "jwt", "--cookie", "--ttl", "3", "-f", "json"])
    assert result.exit_code == 0, result.output
    with_http = [s for s in json.loads(result.stdout)["steps"] if "request" in s]
    assert [s["response"]["status"] for s in with_http] == [200, 200, 401, 401, 200, 200, 401, 200]
    # --step on a pipe never blocks: the steps come out one after another
    stepped = runner.invoke(app, ["demo", "jwt", "--cookie", "--ttl", "3", "--step"], input="\n" * 20)
    assert stepped.exit_code == 0, stepped.output
    assert "Step 10 · The claims grow" in stepped.stdout


def test_compare_gets_its_third_column_from_the_cookie_run():
    result = CliRunner().invoke(app, ["demo", "compare", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    table = doc["steps"][-1]["tables"][0]
    assert "JWT in a cookie" in json.dumps({k: v for k, v in table.items() if k != "rows"})
    rows = {r[0]: r[1:] for r in table["rows"]}
    assert all(len(cells) == 3 for cells in rows.values())
    assert re.search(r"Cookie, added by the jar: \d{3} bytes", rows["Auth sent via"][2])
    assert "accepted the jar's cookie (200)" in rows["Scaling"][2]
    assert "a copy still got 200 until exp" in rows["Logout"][2]
    titles = [s["title"] for s in doc["steps"]]
    assert "What the JWT-in-a-cookie run saw" in titles and "JWT in a cookie: the same, on a new server" in titles


def test_over_https_the_cookie_is_host_prefixed_and_secure():
    from authcli.tls import make_files
    from authcli.walkthroughs.model import Defences

    files, clock = make_files(), FakeClock()
    try:
        steps = list(jwt_cookie_walkthrough(make_signing_key("HS256"), 3, clock=clock, sleep=clock.advance, tls=files))
    finally:
        files.remove()
    login = by_number(steps, 1)
    assert login.exchange.response.header("Set-Cookie").startswith("__Host-token=")
    assert login.exchange.response.header("Set-Cookie").endswith("; Secure")
    assert login.first(Defences).keys == ["secure", "host-prefix"]
    assert by_number(steps, 3).exchange.request.header("Cookie").startswith("__Host-token=")
