"""demo browser --cookie: the token in an HttpOnly cookie, in a real Chromium; the data from one
run, rendered in every format (the 4096-byte limit itself: tests/test_jwt_cookie_chromium.py)."""

from __future__ import annotations


import pytest

from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.walkthroughs.browser_cookie import INFO, browser_cookie_walkthrough
from authcli.walkthroughs.model import ExchangeBlock, TableBlock
from conftest import render_all, require_browser


@pytest.fixture(scope="module")
def steps():
    require_browser()
    return list(browser_cookie_walkthrough(60))


def number(steps, n):
    return next(s for s in steps if s.number == n)


def test_thirteen_steps_the_session_half_unchanged(steps):
    assert [s.number for s in steps if s.number is not None] == list(range(1, 14))
    assert number(steps, 4).exchange.request.header("Cookie").startswith("sessionId=")


def test_the_token_is_in_the_cookie_store_and_page_script_reads_nothing(steps):
    login = number(steps, 8)
    [cookie] = login.cookie_jar
    assert cookie.name == "token" and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.value not in login.exchange.response.body
    profile = number(steps, 9).exchange.request
    assert profile.header("Authorization") is None and profile.header("Cookie") == f"token={cookie.value}"
    injected = number(steps, 10)
    [result] = [b.result for b in injected.blocks if hasattr(b, "result")]
    assert result["stolen"] == {"cookie": "", "storage": None} and result["profile"].startswith("200")


def test_another_site_gets_the_cookie_sent_on_a_link_as_for_sessions(steps):
    forged, linked = [b.exchange for b in number(steps, 11).all(ExchangeBlock)]
    assert forged.response.status == 403 and forged.request.header("Cookie") is None
    assert linked.response.status == 200 and linked.request.header("Cookie").startswith("token=")
    assert linked.request.header("Sec-Fetch-Site") == "cross-site"


def test_logout_clears_the_cookie_but_the_copy_works(steps):
    logout, replay = [b.exchange for b in number(steps, 12).all(ExchangeBlock)]
    assert logout.response.header("Set-Cookie").startswith("token=; Max-Age=0")
    assert number(steps, 12).cookie_jar == [] and replay.response.status == 200


def test_chromium_drops_the_grown_token_and_the_user_is_not_logged_in(steps):
    grown = number(steps, 13)
    login, profile = [b.exchange for b in grown.all(ExchangeBlock)]
    assert len(login.response.header("Set-Cookie").split(";")[0]) - 1 > COOKIE_LIMIT
    assert grown.cookie_jar == [] and profile.response.status == 401
    assert profile.request.header("Cookie") is None


def test_the_recap_puts_both_cookies_side_by_side(steps):
    rows = {row[0]: row[1:] for row in steps[-1].first(TableBlock).table.rows}
    assert rows["Other site's link"] == ["cookie sent: 200 (step 6)", "cookie sent: 200 (step 11)"]
    assert rows["Logout"][1] == "cookie cleared; a copy still works: 200 (step 12)"
    assert "backend-for-frontend" in " ".join(steps[-1].text)


def test_every_format_renders_the_cookie_run(steps):
    text, md, doc, html = render_all(INFO, steps)
    assert "Step 13 · The claims grow: Chromium drops a cookie past 4096 bytes" in text
    assert "## Step 11. Another site: CSRF is back" in md
    assert doc["walkthrough"] == "browser" and doc["steps"][-1]["title"].startswith("Recap")
    assert "JWT in a cookie" in html
