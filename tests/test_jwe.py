"""decode and JWE: an encrypted token's header shown escaped, what it is said plainly, and with the
recipient's key it is decrypted (joserfc) and the nested JWT inspected; JWEs made by joserfc
and by node's `jose` package both open; malformed ones get one line, never a traceback."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app

joserfc = pytest.importorskip("joserfc", reason="the JWE tests need joserfc (pip install 'authcli[jwe]')")
from joserfc import jwe, jwt  # noqa: E402
from joserfc.jwk import ECKey, OctKey, RSAKey  # noqa: E402

runner = CliRunner()
INNER_SECRET = OctKey.import_key(b"s" * 32)
CLAIMS = {"sub": "1", "exp": 4102444800}


def decode(*args: str):
    return runner.invoke(app, ["decode", *args], env={"COLUMNS": "100", "NO_COLOR": "1"})


def _encrypt(header: dict, payload: str | bytes, key) -> str:
    return jwe.encrypt_compact(header, payload, key, algorithms=[header["alg"], header["enc"]])


@pytest.fixture(scope="module")
def rsa(tmp_path_factory):
    key = RSAKey.generate_key(2048)
    path = tmp_path_factory.mktemp("jwe") / "rsa.pem"
    path.write_bytes(key.as_pem(private=True))
    return key, path


def test_without_a_key_the_header_is_shown_and_the_payload_is_not(rsa):
    key, _ = rsa
    token = _encrypt({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"}, jwt.encode({"alg": "HS256"}, CLAIMS,
                                                                                      INNER_SECRET), key)
    result = decode(token)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())  # as read, whatever the wrapping
    assert "ENCRYPTED token, not a signed-only JWT" in out and '"alg": "RSA-OAEP-256"' in out
    assert "RSAES-OAEP, SHA-256" in out and "AES-256 in GCM" in out and "nested" in out
    assert "4102444800" not in out  # the claims are inside the ciphertext


def test_a_nested_jwt_is_decrypted_then_inspected(rsa):
    key, path = rsa
    inner = jwt.encode({"alg": "HS256"}, CLAIMS, INNER_SECRET)
    token = _encrypt({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"}, inner, key)
    result = decode(token, "--key", str(path))
    assert result.exit_code == 0, result.output
    assert "DECRYPTED" in result.stdout and inner in result.stdout.replace("\n", "")
    assert '"exp": 4102444800' in result.stdout and "UNVERIFIED" in result.stdout
    doc = json.loads(decode(token, "--key", str(path), "--json").stdout)
    assert doc["decrypted"] and doc["inner"]["payload"] == CLAIMS and doc["header"]["cty"] == "JWT"


@pytest.mark.parametrize("alg, enc", [("dir", "A128CBC-HS256"), ("A256KW", "A256GCM"), ("ECDH-ES", "A128GCM"),
                                      ("RSA-OAEP", "A192CBC-HS384")])
def test_joserfc_jwes_of_every_kind_open(alg, enc, tmp_path):
    if alg == "ECDH-ES":
        key = ECKey.generate_key("P-256")
    elif alg.startswith("RSA"):
        key = RSAKey.generate_key(2048)
    else:
        key = OctKey.generate_key({"dir": 256, "A256KW": 256}[alg])
    (tmp_path / "key.json").write_text(json.dumps(key.as_dict(private=True)))
    token = _encrypt({"alg": alg, "enc": enc}, json.dumps({"sub": "2"}), key)
    result = decode(token, "--key", str(tmp_path / "key.json"))
    assert result.exit_code == 0, result.output
    assert "DECRYPTED" in result.stdout and '"sub": "2"' in result.stdout


def test_a_wrong_key_or_a_changed_byte_is_one_line_and_exit_1(rsa, tmp_path):
    key, path = rsa
    token = _encrypt({"alg": "RSA-OAEP-256", "enc": "A256GCM"}, "hello", key)
    other = tmp_path / "other.pem"
    other.write_bytes(RSAKey.generate_key(2048).as_pem(private=True))
    head, ek, iv, ct, tag = token.split(".")
    flipped = ".".join([head, ek, iv, ct, ("A" if tag[0] != "A" else "B") + tag[1:]])
    for args in ((token, "--key", str(other)), (flipped, "--key", str(path))):
        result = decode(*args)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]
        assert "does not open with this key" in result.stderr
    result = decode(token, "--secret", "abc")
    assert result.exit_code == 2 and "not a secret" in result.stderr


def test_the_header_is_shown_escaped(rsa):
    key, path = rsa
    token = _encrypt({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "\x1b]0;owned\x07"}, "x", key)
    for args in ((token,), (token, "--key", str(path))):
        result = decode(*args)
        assert "\x1b" not in result.stdout and "\\x1b]0;owned" in result.stdout


def test_without_joserfc_decode_says_so_in_one_line(rsa):
    key, path = rsa
    token = _encrypt({"alg": "RSA-OAEP-256", "enc": "A256GCM"}, "x", key)
    code = ("import sys; sys.modules['joserfc'] = None; from authcli.cli import main; "
            f"sys.argv = ['authcli', 'decode', {token!r}, '--key', {str(path)!r}]; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "error: decrypting a JWE needs joserfc: pip install 'authcli[jwe]' (or pip install joserfc)"
    shown = subprocess.run([sys.executable, "-c", code.replace(f", '--key', {str(path)!r}", "")],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "ENCRYPTED" in shown.stdout  # the header needs no joserfc


# --- a JWE made by another implementation: node's `jose` ------------------------------------

NODE_JS = r"""
const jose = require('jose');
(async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('RSA-OAEP-256', { extractable: true });
  const inner = await new jose.SignJWT({ sub: '7' }).setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(4102444800).sign(new TextEncoder().encode('s'.repeat(32)));
  const token = await new jose.CompactEncrypt(new TextEncoder().encode(inner))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(publicKey);
  console.log(JSON.stringify({ token, inner, pem: await jose.exportPKCS8(privateKey) }));
})();
"""


@pytest.fixture(scope="module")
def node_jose(tmp_path_factory):
    """node with `jose` installed by npm into a folder of the test's own."""
    def unavailable(why: str):
        if os.environ.get("AUTHCLI_REQUIRE_NODE"):
            pytest.fail(f"AUTHCLI_REQUIRE_NODE is set but {why}")
        pytest.skip(f"the node interop test needs node and npm's `jose` package: {why}")

    node, npm = shutil.which("node"), shutil.which("npm")
    if node and subprocess.run([node, "-e", "require('jose')"], capture_output=True, timeout=30).returncode == 0:
        return node, None  # already on NODE_PATH (.ci/run installs it beside jsonwebtoken)
    if not node or not npm:
        unavailable("node or npm is not installed")
    folder = tmp_path_factory.mktemp("node-jose")
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "jose@5"], cwd=folder,
                              capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        unavailable("npm install jose timed out (is the registry reachable?)")
    if done.returncode != 0:
        unavailable(f"npm install jose failed (is the registry reachable?): {done.stderr.strip()[-200:]}")
    return node, folder


def test_a_jwe_made_by_node_jose_decodes_and_decrypts(node_jose, tmp_path):
    node, folder = node_jose
    made = subprocess.run([node, "-e", NODE_JS], cwd=folder, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    (tmp_path / "key.pem").write_text(doc["pem"])
    result = decode(doc["token"], "--key", str(tmp_path / "key.pem"))
    assert result.exit_code == 0, result.output
    assert "DECRYPTED" in result.stdout and doc["inner"] in result.stdout.replace("\n", "")
    assert '"sub": "7"' in result.stdout


# --- garbage in five parts: one line, never a traceback -------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


segment = st.one_of(st.text(alphabet="ABCabc-_019.%= \x1b", max_size=30), st.binary(max_size=40).map(_b64))
header = st.one_of(segment, st.dictionaries(st.sampled_from(["alg", "enc", "cty", "zip", "kid"]),
                                            st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                                      st.sampled_from(["RSA-OAEP-256", "dir", "A256GCM", "JWT"])),
                                            max_size=5).map(lambda d: _b64(json.dumps(d).encode())))


@settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 200)) // 3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(head=header, rest=st.lists(segment, min_size=4, max_size=4), secret=st.booleans())
def test_garbage_jwes_never_get_a_traceback(rsa, head, rest, secret):
    token = ".".join([head, *rest])
    if token.count(".") != 4:
        return
    args = (["--secret", "x" * 32] if secret else ["--key", str(rsa[1])]) + ["--", token]
    result = decode(*args)
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "\x1b" not in result.stdout
    if result.exit_code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
