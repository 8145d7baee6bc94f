"""`authcli sign` and `authcli keys`: tokens and key files that authcli, PyJWT, a running
`authcli serve` and node's jsonwebtoken all accept."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jwt as pyjwt
import pytest
import requests
from typer.testing import CliRunner

from authcli.clock import now as clock_now
from authcli.cli.app import app
from conftest import CREDS, ServeProcess

runner = CliRunner()
SECRET = "k" * 40


def cli(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def sign(*args: str, input: str | None = None) -> str:
    result = cli("sign", *args, input=input)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture(scope="module", params=["RS256", "PS256", "ES256", "EdDSA"])
def key_files(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    result = cli("keys", "--alg", request.param, "--out", str(out))
    assert result.exit_code == 0, result.output
    prefix = out / f"authcli-{request.param.lower()}"
    return request.param, {s: Path(f"{prefix}.{s}") for s in ("private.pem", "public.pem", "jwks.json")}


def test_keys_writes_three_files_the_private_one_for_its_owner_only(key_files):
    alg, files = key_files
    assert stat.S_IMODE(files["private.pem"].stat().st_mode) == 0o600
    jwks = json.loads(files["jwks.json"].read_text())
    (jwk,) = jwks["keys"]
    assert jwk["alg"] == alg and jwk["use"] == "sig" and len(jwk["kid"]) == 43  # an RFC 7638 thumbprint
    assert "d" not in jwk  # public members only
    assert b"PRIVATE KEY" in files["private.pem"].read_bytes() and b"PUBLIC KEY" in files["public.pem"].read_bytes()


def test_keys_never_overwrites_without_force(key_files):
    alg, files = key_files
    result = cli("keys", "--alg", alg, "--out", str(files["jwks.json"].parent))
    assert result.exit_code == 2 and "pass --force" in result.stderr


def test_what_sign_makes_decode_and_pyjwt_verify(key_files):
    alg, files = key_files
    # A PEM does not say which algorithm: an RSA key signs RS256 unless told PS256.
    token = sign("--sub", "123", "--exp", "15m", "--aud", "class", "--jti", "random", "--key", str(files["private.pem"]),
                 "--alg", alg)
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == alg and header["kid"] == json.loads(files["jwks.json"].read_text())["keys"][0]["kid"]
    for key_file in (files["public.pem"], files["jwks.json"]):
        result = cli("decode", token, "--key", str(key_file), "--audience", "class")
        assert result.exit_code == 0 and "VERIFIED  signature genuine; claims acceptable now" in result.stdout
    public = files["public.pem"].read_bytes()
    claims = pyjwt.decode(token, public, algorithms=[alg], audience="class")
    assert claims["sub"] == "123" and claims["exp"] - claims["iat"] == 900 and len(claims["jti"]) == 22


@pytest.mark.parametrize("args, claims", [
    (['{"role": "admin", "n": 1}'], {"role": "admin", "n": 1}),
    (["-c", "n=5", "-c", "flag=true", "-c", "name=x", "-c", "list=[1,2]"], {"n": 5, "flag": True, "name": "x", "list": [1, 2]}),
    (["--sub", "1", "--iss", "me", "--no-iat"], {"sub": "1", "iss": "me"}),
])
def test_claims_from_json_pairs_and_options(args, claims):
    token = sign(*args, "--secret", SECRET)
    assert pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False}) == {
        **({"iat": pytest.approx(clock_now(), abs=5)} if "--no-iat" not in args else {}), **claims}


def test_claims_on_stdin_and_durations():
    token = sign("-", "--exp", "2h", "--nbf", "-5m", "--secret", SECRET, input='{"sub": "7"}')
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 7200 and claims["iat"] - claims["nbf"] == 300


def test_sign_warns_about_weak_secrets_exactly_as_decode_does():
    result = cli("sign", "--sub", "1", "--exp", "1m", "--secret", "mySecretKey")
    assert result.exit_code == 0 and result.stdout.count(".") == 2  # stdout: the token alone
    decoded = cli("decode", result.stdout.strip(), "--secret", "mySecretKey")
    assert "the HMAC secret is 11 bytes, shorter than HS256's 32-byte hash" in result.stderr
    assert "the HMAC secret is 11 bytes, shorter than HS256's 32-byte hash" in decoded.stdout


@pytest.mark.parametrize("args, says", [
    (["--sub", "1"], "give one key"),
    (["--secret", "a", "--key", "x.pem"], "give one key"),
    (["--alg", "RS256", "--secret", "a"], "signs with a private key"),
    (["--exp", "soon", "--secret", "a"], "--exp takes a duration"),
    (["-c", "novalue", "--secret", "a"], "--claim takes NAME=VALUE"),
    (["[1, 2]", "--secret", "a"], "must be a JSON object"),
])
def test_sign_usage_errors_are_one_line(args, says):
    result = cli("sign", *args)
    assert result.exit_code == 2 and says in result.stderr and result.stderr.count("\n") == 1


def test_a_public_key_cannot_sign(key_files):
    _, files = key_files
    result = cli("sign", "--sub", "1", "--key", str(files["public.pem"]))
    assert result.exit_code == 2 and "private key" in result.stderr


def test_serve_signs_with_a_key_from_authcli_keys_and_says_how_to_verify(key_files):
    alg, files = key_files
    with ServeProcess("--mode", "jwt", "--port", "0", "--key", str(files["private.pem"]), "--alg", alg) as serve:
        url = serve.url()
        lines = [serve.line() for _ in range(2)]
        assert "/.well-known/jwks.json" in lines[1]
        token = requests.post(url + "/login", json=CREDS, timeout=10).json()["token"]
        assert cli("decode", token, "--key", str(files["jwks.json"])).exit_code == 0
        assert requests.get(url + "/.well-known/jwks.json", timeout=10).json()["keys"][0]["kid"] == \
            json.loads(files["jwks.json"].read_text())["keys"][0]["kid"]
        assert serve.stop(15) == 0


def test_a_token_signed_with_serves_secret_works_against_it():
    with ServeProcess("--mode", "jwt", "--port", "0") as serve:
        url = serve.url()
        serve.line()
        secret_line = serve.line()
        assert secret_line.startswith("HS256 secret (256 random bits made at start")
        secret = secret_line.rsplit(": ", 1)[1].strip()
        token = sign("--sub", "42", "--exp", "5m", "--secret", secret)
        resp = requests.get(url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert (resp.status_code, resp.text) == (200, "Welcome user 42\n")
        assert serve.stop(15) == 0


# --- a second implementation: node's jsonwebtoken ----------------------------------------------

@pytest.fixture(scope="module")
def node_jwt():
    """node with the jsonwebtoken package (CI installs it; NODE_PATH says where)."""
    node = shutil.which("node")
    probe = subprocess.run([node, "-e", "require('jsonwebtoken')"], capture_output=True) if node else None
    if probe is None or probe.returncode != 0:
        if os.environ.get("AUTHCLI_REQUIRE_NODE"):
            pytest.fail("AUTHCLI_REQUIRE_NODE is set but node cannot require('jsonwebtoken')")
        pytest.skip("interop tests need node and its jsonwebtoken package (npm install jsonwebtoken)")
    return node


VERIFY_JS = """
const jwt = require('jsonwebtoken');
const [token, key, alg, now] = process.argv.slice(1);
const claims = jwt.verify(token, key, {algorithms: [alg], audience: 'class', clockTimestamp: Number(now)});
process.stdout.write(JSON.stringify(claims));
"""


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])  # jsonwebtoken 9 has no EdDSA
def test_node_jsonwebtoken_verifies_what_sign_makes(node_jwt, alg, tmp_path):
    assert cli("keys", "--alg", alg, "--out", str(tmp_path)).exit_code == 0
    files = {s: tmp_path / f"authcli-{alg.lower()}.{s}" for s in ("private.pem", "public.pem")}
    token = sign("--sub", "9", "--exp", "5m", "--aud", "class", "--key", str(files["private.pem"]), "--alg", alg)
    out = subprocess.run([node_jwt, "-e", VERIFY_JS, token, files["public.pem"].read_text(), alg, str(int(clock_now()))],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sub"] == "9"


def test_node_jsonwebtoken_verifies_hmac_tokens(node_jwt):
    token = sign("--sub", "9", "--exp", "5m", "--aud", "class", "--secret", SECRET)
    out = subprocess.run([node_jwt, "-e", VERIFY_JS, token, SECRET, "HS256", str(int(clock_now()))], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode == 0 and json.loads(out.stdout)["aud"] == "class", out.stderr


def test_decode_verifies_what_node_signs(node_jwt, tmp_path):
    # node signs at authcli's clock (iat sets jsonwebtoken's now), as on one machine.
    js = ("const jwt = require('jsonwebtoken'); process.stdout.write(jwt.sign({sub: '5', iat: Number(process.argv[2])}, "
          "process.argv[1], {expiresIn: '5m'}))")
    token = subprocess.run([node_jwt, "-e", js, SECRET, str(int(clock_now()))], capture_output=True, text=True,
                           timeout=20).stdout
    result = cli("decode", token, "--secret", SECRET)
    assert result.exit_code == 0 and "VERIFIED" in result.stdout
