"""demo oauth on real traffic: what each party sent, checked and stored, as data."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from authcli.events import GrantChecked, IdTokenChecked, TokenChecked
from authcli.tokens.pkce import s256
from authcli.walkthroughs.model import ClientStorage, ExchangeBlock, StoreBlock
from authcli.walkthroughs.oauth import INFO, oauth_walkthrough


@pytest.fixture(scope="module")
def steps():
    return list(oauth_walkthrough())


def test_nine_steps_and_a_recap(steps):
    assert [s.number for s in steps] == [*range(1, INFO.steps + 1), None]
    assert [s.exchange.response.status for s in steps[:-1]] == [201, 302, 200, 302, 302, 200, 200, 200, 200]


def test_the_authorization_request_carries_state_nonce_and_the_challenge_of_the_kept_verifier(steps):
    location = steps[1].exchange.response.header("Location")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    kept = steps[1].first(StoreBlock).snapshot.rows[0].value
    assert query["state"] == kept["state"] and query["nonce"] == kept["nonce"]
    assert query["code_challenge"] == s256(kept["code_verifier"]) and query["code_challenge_method"] == "S256"
    assert kept["code_verifier"] not in location  # only its hash travels
    shown = steps[1].first(ClientStorage).items
    assert shown["code_challenge (sent)"] == query["code_challenge"]


def test_the_code_comes_back_with_the_same_state_and_is_redeemed_once(steps):
    back = parse_qs(urlsplit(steps[3].exchange.response.header("Location")).query)
    sent = parse_qs(urlsplit(steps[1].exchange.response.header("Location")).query)
    assert back["state"] == sent["state"] and "code" in back
    token = steps[5].exchange
    assert token.request.header("Authorization").startswith("Basic ")
    form = parse_qs(token.request.body)
    assert form["code"] == back["code"] and "code_verifier" in form
    assert [c.name for c in token.event(GrantChecked).checks] == ["client", "code", "redirect_uri", "code_verifier"]
    codes = steps[5].all(StoreBlock)[0].snapshot.rows
    assert codes[0].value["used"] is True


def test_the_id_token_and_the_access_token_pass_every_check(steps):
    id_checks = steps[4].exchange.event(IdTokenChecked).checks
    assert {c.name for c in id_checks} >= {"kid", "signature", "iss", "aud", "exp", "nonce", "at_hash"}
    assert all(c.ok for c in id_checks)
    api = steps[7].all(ExchangeBlock)[1].exchange  # the app's call to the API
    assert api.request.target == "/api" and api.response.status == 200
    assert all(c.ok for c in api.event(TokenChecked).checks)


def test_the_browser_never_holds_a_token(steps):
    # The app's session and the AS's own sign-in: IDs that mean nothing outside their server's store.
    assert sorted(c.name for c in steps[4].cookie_jar) == ["app_session", "as_session"]
    tokens = json.loads(steps[5].exchange.response.body)
    # What the browser received: steps 2 to 5, and the app's profile page in step 8.
    seen_by_browser = [steps[i].exchange for i in (1, 2, 3, 4, 7)]
    for exchange in seen_by_browser:
        answer = exchange.response.body + str(exchange.response.headers)
        assert tokens["access_token"] not in answer and tokens["refresh_token"] not in answer
        assert tokens["id_token"] not in answer


def test_the_refresh_rotates(steps):
    rows = steps[8].first(StoreBlock).snapshot.rows
    assert sorted(r.value["used"] for r in rows) == [False, True]
    assert len({r.value["family"] for r in rows}) == 1


@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_every_format(fmt):
    done = subprocess.run([sys.executable, "-m", "authcli", "demo", "oauth", "-f", fmt], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        doc = json.loads(done.stdout)
        assert len(doc["steps"]) == INFO.steps + 1
    else:
        assert "code_verifier" in done.stdout and "Traceback" not in done.stderr


def test_the_id_token_is_shown_whole_once_where_step_7_says_decode_it(steps):
    """By default a second JWT is shortened where it first appears (the /token response), so its
    token view is where it is born: step 7 says "try authcli decode", and the ID token must be
    there whole, unbroken by anything but the terminal's wrapping."""
    import io

    from rich.console import Console

    from authcli.render.terminal import TerminalRenderer

    out = io.StringIO()
    renderer = TerminalRenderer(Console(file=out, width=80, color_system=None), concise=True)
    renderer.start(INFO)
    for step in steps:
        renderer.step(step)
    text = out.getvalue()
    id_token = json.loads(steps[5].exchange.response.body)["id_token"]
    assert id_token in text.replace("\n", "")
    assert text.replace("\n", "").count(id_token) == 1  # whole once; shortened everywhere else
