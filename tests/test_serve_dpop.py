"""`authcli serve --mode jwt --dpop` in a real process: a token bound to the client's key,
usable only with a fresh proof from that key; the options it does not support refused."""

from __future__ import annotations

import re
import signal

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.clock import now
from authcli.tokens.dpop import make_proof, make_proof_key
from conftest import CREDS, ServeProcess

runner = CliRunner()


def test_serve_dpop_binds_the_token_to_the_clients_key():
    key, other = make_proof_key(), make_proof_key()
    with ServeProcess("--mode", "jwt", "--dpop", "--port", "0") as serve:
        banner = serve.line()
        assert "DPoP-bound (ES256 proofs)" in banner
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        login = requests.post(url + "/login", json=CREDS, timeout=10,
                              headers={"DPoP": make_proof(key, "POST", url + "/login", now())})
        assert login.status_code == 200 and login.json()["token_type"] == "DPoP", login.text
        token = login.json()["token"]

        def profile(headers: dict[str, str]) -> requests.Response:
            return requests.get(url + "/profile", headers=headers, timeout=10)

        proof = make_proof(key, "GET", url + "/profile", now(), token=token)
        assert profile({"Authorization": f"DPoP {token}", "DPoP": proof}).status_code == 200
        # The same token: without a proof, as a Bearer token, with another key's proof, a replayed proof.
        assert profile({"Authorization": f"DPoP {token}"}).status_code == 401
        assert profile({"Authorization": f"Bearer {token}"}).status_code == 401
        stolen = profile({"Authorization": f"DPoP {token}",
                          "DPoP": make_proof(other, "GET", url + "/profile", now(), token=token)})
        assert stolen.status_code == 401 and 'error="invalid_token"' in stolen.headers["WWW-Authenticate"]
        assert profile({"Authorization": f"DPoP {token}", "DPoP": proof}).status_code == 401
        assert serve.stop(signal.SIGTERM) == 0
    assert serve.err == ""


def test_a_login_without_a_proof_is_refused():
    with ServeProcess("--mode", "jwt", "--dpop", "--port", "0", "--quiet") as serve:
        url = serve.url()
        hint = next(line for line in iter(serve.line, None) if line.startswith("DPoP:"))
        assert f"(400 at /login, 401 at /profile). Open {url}/ in a browser" in hint
        answer = requests.post(url + "/login", json=CREDS, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_dpop_proof"
        assert serve.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("args, message", [
    (["--dpop"], "error: --dpop belongs to --mode jwt"),
    (["--mode", "session", "--dpop"], "error: --dpop belongs to --mode jwt"),
    (["--mode", "jwt", "--dpop", "--cookie"], "error: give --dpop or --cookie, not both"),
    (["--weak", "alg-none", "--dpop"], "error: --weak servers are the lab's: leave out --dpop"),
])
def test_serve_refuses_what_dpop_does_not_support(args, message):
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
