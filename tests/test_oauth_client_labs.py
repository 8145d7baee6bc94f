"""The client app's own checks (state, aud, nonce) as the lab weakens them, and its ID-token login."""

from __future__ import annotations

from contextlib import ExitStack
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.server.lab.weaknesses import WEAKNESSES, oauth_policy, relying_policy
from authcli.server.policy import HARDENED_OAUTH, HARDENED_RELYING
from authcli.walkthroughs.lab.model import start_pair
from authcli.walkthroughs.lab.oauth_client import _setup, client_app

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_client_side_values_never_reach_the_authorization_server():
    for name in ("wrong-aud", "no-nonce"):
        assert oauth_policy([WEAKNESSES[name]]) == HARDENED_OAUTH
    assert relying_policy([WEAKNESSES["wrong-aud"]]).check_aud is False
    assert relying_policy([WEAKNESSES["no-nonce"]]) == HARDENED_RELYING.__class__(check_nonce=False)
    state = relying_policy([WEAKNESSES["no-state"]])
    assert not (state.check_state or state.use_pkce or state.check_nonce) and state.check_aud
    assert oauth_policy([WEAKNESSES["implicit"]]).allow_implicit and not HARDENED_OAUTH.allow_implicit


def test_serve_refuses_a_client_side_weakness_in_one_line():
    result = CliRunner().invoke(app, ["serve", "--mode", "oauth", "--weak", "no-nonce"])
    assert result.exit_code != 0 and "client app's mistake" in result.output
    assert "Traceback" not in result.output


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(token=st.text(max_size=300), with_login=st.booleans())
def test_the_id_token_login_never_answers_5xx(token, with_login):
    with ExitStack() as stack:
        pair = start_pair(stack, client_app(HARDENED_RELYING, HARDENED_OAUTH), client_app(HARDENED_RELYING, HARDENED_OAUTH))
        _setup(pair, pair.hard)
        browser = pair.client(pair.hard)
        if with_login:
            browser.send("GET", "/login")
        ex = browser.send("POST", "/login/id-token", data=urlencode({"id_token": token}).encode(), headers=FORM)
        assert ex.response.status in (400, 401)
        assert all(name.lower() != "set-cookie" for name, _ in ex.response.headers)  # no one logged in
