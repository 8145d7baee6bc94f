"""`authcli decode` on tokens made by PyJWT, with every kind of key input, and on malformed input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jwt as pyjwt
import pytest
from hypothesis import given, settings, strategies as st
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from authcli.clock import now as clock_now
from authcli.cli.app import app
from authcli.tokens.signing import make_signing_key

runner = CliRunner()
SECRET = "s" * 32


def decode(*args, input=None):
    result = runner.invoke(app, ["decode", *args], input=input, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    return result


def claims(**over):
    now = int(clock_now())
    return {"sub": "123", "iat": now, "exp": now + 300, **over}


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def pair(request):
    key = make_signing_key(request.param)
    token = pyjwt.encode(claims(), key.private, algorithm=key.alg, headers={"kid": key.kid})
    return key, token


def pem(key) -> bytes:
    return key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


def test_unverified_without_a_key():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = decode(token)
    assert result.exit_code == 0
    out = result.stdout
    assert "UNVERIFIED" in out and '"sub": "123"' in out and "Registered claims" in out
    assert "encoded, not encrypted" in out
    assert "(32 bytes)" in out  # HS256 signature length


def test_hs256_with_secret_and_secret_file(tmp_path):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    assert decode(token, "--secret", SECRET).exit_code == 0
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    result = decode(token, "--secret-file", str(path))
    assert result.exit_code == 0 and "VERIFIED" in result.stdout and "UNVERIFIED" not in result.stdout


def test_wrong_secret_exits_1_and_names_the_check():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = decode(token, "--secret", "t" * 32)
    assert result.exit_code == 1
    assert "FAIL signature" in result.stdout and "NOT VERIFIED" in result.stdout


def test_key_pair_with_pem(pair, tmp_path):
    key, token = pair
    path = tmp_path / "pub.pem"
    path.write_bytes(pem(key))
    result = decode(token, "--key", str(path))
    assert result.exit_code == 0, result.output
    assert f"PASS algorithm: {key.alg}" in result.stdout


def test_key_pair_with_jwk_and_jwks(pair, tmp_path):
    key, token = pair
    jwk = key.jwks["keys"][0]
    (tmp_path / "jwk.json").write_text(json.dumps(jwk))
    assert decode(token, "--key", str(tmp_path / "jwk.json")).exit_code == 0
    other = make_signing_key("ES256").jwks["keys"][0]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [other, jwk]}))
    assert decode(token, "--key", str(tmp_path / "jwks.json")).exit_code == 0  # picked by kid


def test_jwks_without_the_kid_is_a_usage_error(pair, tmp_path):
    key, token = pair
    other = make_signing_key("ES256").jwks["keys"][0]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [other]}))
    result = decode(token, "--key", str(tmp_path / "jwks.json"))
    assert result.exit_code == 2 and "no key with kid" in result.stderr


def test_wrong_public_key_fails_signature(pair, tmp_path):
    key, token = pair
    path = tmp_path / "pub.pem"
    path.write_bytes(pem(make_signing_key(key.alg)))
    result = decode(token, "--key", str(path))
    assert result.exit_code == 1 and "FAIL signature" in result.stdout


def test_alg_pinning():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    assert decode(token, "--secret", SECRET, "--alg", "HS256").exit_code == 0
    result = decode(token, "--secret", SECRET, "--alg", "HS512")
    assert result.exit_code == 1 and "not in the allow-list [HS512]" in result.stdout
    assert decode(token, "--secret", SECRET, "--alg", "RS256").exit_code == 2
    assert decode(token, "--secret", SECRET, "--alg", "none").exit_code == 2
    assert decode(token, "--alg", "HS256").exit_code == 2  # an algorithm without a key


def test_rsa_public_key_used_as_hmac_secret_is_refused(tmp_path):
    # The classic confusion attack: HS256 "signed" with the server's public PEM as the secret.
    rs = make_signing_key("RS256")
    public_pem = pem(rs)
    header = {"alg": "HS256", "typ": "JWT"}
    import base64, hashlib, hmac  # noqa: E401
    def b64(raw): return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}"
    sig = b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    path = tmp_path / "pub.pem"
    path.write_bytes(public_pem)
    result = decode(f"{signing_input}.{sig}", "--key", str(path))
    assert result.exit_code == 1 and "FAIL algorithm" in result.stdout
    # The public key is never tried as an HMAC secret: the signature is not even computed.
    assert "SKIP signature: not checked: the algorithm was refused" in result.stdout


def test_expired_token_explains_when():
    token = pyjwt.encode({"sub": "1", "iat": 1300000000, "exp": 1300819380}, SECRET, algorithm="HS256")
    result = decode(token, "--secret", SECRET)
    assert result.exit_code == 1
    assert "FAIL exp: expired 2011-03-22 18:43:00 UTC" in result.stdout and "years ago" in result.stdout


def test_leeway_audience_issuer():
    now = int(clock_now())
    token = pyjwt.encode(claims(exp=now - 5, aud="api", iss="auth.example"), SECRET, algorithm="HS256")
    assert decode(token, "--secret", SECRET, "--audience", "api").exit_code == 1  # expired
    assert decode(token, "--secret", SECRET, "--leeway", "30", "--audience", "api").exit_code == 0
    assert decode(token, "--secret", SECRET, "--leeway", "30", "--audience", "api",
                  "--issuer", "auth.example").exit_code == 0
    # RFC 7519 4.1.3: a verifier that names no audience must refuse a token that has one.
    result = decode(token, "--secret", SECRET, "--leeway", "30")
    assert result.exit_code == 1 and "FAIL aud: the token is meant for \"api\"" in result.stdout
    result = decode(token, "--secret", SECRET, "--leeway", "30", "--audience", "web")
    assert result.exit_code == 1 and "FAIL aud" in result.stdout
    assert decode(token, "--secret", SECRET, "--leeway", "30", "--audience", "api", "--issuer", "evil").exit_code == 1


def test_nbf_in_the_future_fails():
    token = pyjwt.encode(claims(nbf=int(clock_now()) + 600), SECRET, algorithm="HS256")
    result = decode(token, "--secret", SECRET)
    assert result.exit_code == 1 and "FAIL nbf" in result.stdout


def test_json_output():
    token = pyjwt.encode(claims(email="a@b.com"), "short", algorithm="HS256")
    doc = json.loads(decode(token, "--json").stdout)
    assert doc["verified"] is None and doc["checks"] == []
    assert doc["header"] == {"alg": "HS256", "typ": "JWT"} and doc["payload"]["sub"] == "123"
    assert doc["signature_bytes"] == 32 and doc["signature"] == token.split(".")[2]
    assert any("email" in w for w in doc["warnings"])
    checked = decode(token, "--json", "--secret", "short")
    doc = json.loads(checked.stdout)
    assert checked.exit_code == 0 and doc["verified"] is True
    assert [c["name"] for c in doc["checks"]] == ["algorithm", "signature", "exp", "iat"]
    assert any("HMAC secret is 5 bytes" in w for w in doc["warnings"])


def test_warnings():
    none_token = "eyJhbGciOiJub25lIn0." + pyjwt.utils.base64url_encode(b'{"sub":"1"}').decode() + "."
    doc = json.loads(decode(none_token, "--json").stdout)
    assert any("unsigned" in w for w in doc["warnings"]) and any("no exp" in w for w in doc["warnings"])
    long_lived = pyjwt.encode(claims(exp=int(clock_now()) + 90 * 86400, password="hunter2"), SECRET)
    doc = json.loads(decode(long_lived, "--json").stdout)
    assert any("very long lifetime: 90 days" in w for w in doc["warnings"])
    assert any("password" in w for w in doc["warnings"])


def test_stdin_and_bearer_prefix():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = decode("-", "--secret", SECRET, input=f"  Bearer {token}\n")
    assert result.exit_code == 0 and "VERIFIED" in result.stdout


@pytest.mark.parametrize("token, words", [
    ("", "empty"),
    ("abc", "3 parts"),
    ("a.b", "3 parts separated by '.', this has 2"),
    ("a.b.c.d.e", "encrypted JWE"),
    ("e30.e30.%%", "signature is not base64url"),
    ("e30=.e30.", "header is not base64url"),
    ("e.e30.", "not a possible length"),
    ("bm90IGpzb24.e30.", "header is not JSON"),
    ("e30.W1199.", "payload is not"),
    ("_w.e30.", "not UTF-8"),
])
def test_malformed_input_is_one_line_and_exit_2(token, words):
    result = decode(token)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr


def test_two_keys_is_a_usage_error(tmp_path):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    (tmp_path / "s").write_text(SECRET)
    result = decode(token, "--secret", SECRET, "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == 2 and "give one key" in result.stderr


def test_missing_key_file_is_a_usage_error(tmp_path):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = decode(token, "--key", str(tmp_path / "nope.pem"))
    assert result.exit_code == 2 and "cannot read key file" in result.stderr


def test_garbage_key_file(tmp_path):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    for content in (b"not a key", b"{not json", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                    b'{"kty": "RSA"}', b'{"keys": "x"}', b"[]"):
        (tmp_path / "k").write_bytes(content)
        result = decode(token, "--key", str(tmp_path / "k"))
        assert result.exit_code == 2 and result.stderr.startswith("error: "), (content, result.output)


def test_short_secret_warns_in_the_report_not_on_stderr():
    import subprocess
    import sys
    token = pyjwt.encode(claims(), "short", algorithm="HS256")
    out = subprocess.run([sys.executable, "-m", "authcli", "decode", token, "--secret", "short"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""
    assert "HMAC secret is 5 bytes" in out.stdout


# RFC 7520 4.4's payload: a JWS can sign any bytes, and then there are no claims.
PROSE = ("It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, and if you "
         "don't keep your feet, there\u2019s no knowing where you might be swept off to.")


def test_a_jws_that_is_not_a_jwt_is_decoded_and_verified():
    token = pyjwt.api_jws.encode(PROSE.encode(), SECRET, algorithm="HS256", headers={"kid": "rfc7520"})
    result = decode(token, "--secret", SECRET)
    assert result.exit_code == 0
    assert "Payload (JWS content, not JWT claims)" in result.stdout and "dangerous business, Frodo" in result.stdout
    assert "VERIFIED  signature genuine; claims none to check (a JWS, not a JWT)" in result.stdout
    assert "JWS, not a JWT" in result.stdout
    doc = json.loads(decode(token, "--json").stdout)
    assert doc["jwt"] is False and doc["payload"] is None and doc["content"] == PROSE and doc["claims"] == []
    forged = token.rsplit(".", 1)[0] + "." + "A" * 43
    assert decode(forged, "--secret", SECRET).exit_code == 1


def test_binary_jws_content_is_described_not_printed():
    token = pyjwt.api_jws.encode(b"\xff\x00\x1b[2J", SECRET, algorithm="HS256")
    result = decode(token)
    assert result.exit_code == 0 and "(6 bytes, not UTF-8 text)" in result.stdout and "\x1b" not in result.stdout


def test_the_jwt_io_sample_verifies_without_exp_unless_exp_is_required():
    token = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2"
             "MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    result = decode(token, "--secret", "your-256-bit-secret")
    assert result.exit_code == 0 and "no exp claim: this token never expires" in result.stdout
    required = decode(token, "--secret", "your-256-bit-secret", "--require", "exp")
    assert required.exit_code == 1 and "FAIL exp" in required.stdout


def test_at_judges_an_old_token_at_its_own_time_and_ignore_exp_skips():
    token = pyjwt.encode({"sub": "1", "iat": 1600000000, "exp": 1600003600}, SECRET, algorithm="HS256")
    assert decode(token, "--secret", SECRET).exit_code == 1
    at = decode(token, "--secret", SECRET, "--at", "2020-09-13T12:30:00Z")
    assert at.exit_code == 0 and "claims acceptable at 2020-09-13 12:30:00 UTC" in at.stdout
    assert decode(token, "--secret", SECRET, "--at", "1600001000").exit_code == 0
    ignored = decode(token, "--secret", SECRET, "--ignore-exp")
    assert ignored.exit_code == 0 and "SKIP exp" in ignored.stdout
    doc = json.loads(decode(token, "--secret", SECRET, "--json").stdout)
    assert (doc["signature_valid"], doc["claims_valid"], doc["verified"]) == (True, False, False)
    assert [c["status"] for c in doc["checks"]][:2] == ["PASS", "PASS"]
    assert next(c for c in doc["claims"] if c["name"] == "exp")["value"] == 1600003600  # native, not a string


@pytest.mark.parametrize("at", ["yesterday", "nan", "1e999", "2020-13-45"])
def test_at_refuses_what_is_not_a_time(at):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = decode(token, "--secret", SECRET, "--at", at)
    assert result.exit_code == 2 and result.stderr.startswith("error: --at")


# --- decode's typer-free fast path --------------------------------------------------------------

def test_the_fast_path_and_the_typer_command_declare_the_same_options():
    import typer.main

    from authcli.cli.inspecting import DECODE_OPTIONS

    command = typer.main.get_command(app).commands["decode"]
    declared = {opt: param.name for param in command.params for opt in param.opts if opt.startswith("-")}
    declared.pop("--help", None), declared.pop("-h", None)
    assert declared == {opt: param for opt, (param, _) in DECODE_OPTIONS.items()}


def run_main(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    code = ("import sys\nfrom authcli.cli import main\nsys.argv = ['authcli', *sys.argv[1:]]\n"
            "try:\n    main()\nfinally:\n    sys.stderr.write('typer loaded: %s\\n' % ('typer' in sys.modules))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, timeout=30)


@pytest.mark.parametrize("extra", [
    ["--json"], [], ["--secret", SECRET], ["--secret", SECRET, "--json"], ["--secret=" + SECRET, "--leeway", "5"],
    ["--secret", "wrong"], ["--secret", SECRET, "--require", "exp", "--require", "nbf", "--at", "2030-01-01"],
    ["--alg", "none", "--secret", SECRET], ["--secret", SECRET, "--ignore-exp", "--audience", "x", "--issuer", "y"],
])
def test_the_fast_path_prints_what_the_typer_command_prints(extra):
    now = int(clock_now())  # dates far from a unit's edge: "in 10 days" whichever second it runs
    token = pyjwt.encode({"sub": "1", "aud": "x", "iat": now - 12600, "exp": now + 907200}, SECRET, algorithm="HS256")
    fast = run_main("decode", token, *extra)
    typer_run = decode(token, *extra)
    assert "typer loaded: False" in fast.stderr  # the fast path ran
    assert (fast.returncode, fast.stdout) == (typer_run.exit_code, typer_run.stdout)
    assert fast.stderr.replace("typer loaded: False\n", "") == typer_run.stderr


@pytest.mark.parametrize("args", [["--help"], ["--leeway", "nan"], ["--leeway"], ["--bogus"], ["--json=1"],
                                  ["--secret", "a", "--secret", "b"], ["--", "x"]])
def test_help_and_usage_errors_go_to_typer(args):
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = run_main("decode", token, *args)
    assert "typer loaded: True" in result.stderr
    assert result.returncode in (0, 1, 2) and "Traceback" not in result.stderr


def test_the_fast_path_reads_stdin():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    result = run_main("decode", "-", "--secret", SECRET, "--json", stdin=token)
    assert result.returncode == 0 and json.loads(result.stdout)["verified"] is True


def test_check_texts_cite_the_rule_they_apply():
    """jti is a string, iss and sub StringOrURI (RFC 7519 4.1); a secret people use is flagged
    whatever its length, a random one never."""
    from authcli.tokens.checks import verify
    from authcli.tokens.keys import secret_key
    from authcli.tokens.parse import split
    from authcli.tokens.keys import key_warnings

    token = pyjwt.encode({"sub": 5, "jti": 7, "exp": int(clock_now()) + 60}, "k" * 32, algorithm="HS256")
    checks = {c.name: c for c in verify(split(token), secret_key(b"k" * 32), now=clock_now()).checks}
    assert "StringOrURI [^rfc7519-4.1]" in checks["sub"].detail
    assert "case-sensitive string [^rfc7519-4.1.7]" in checks["jti"].detail
    assert "[^rfc8725-3.1]" in verify(split(token), secret_key(b"k" * 32, "HS384"), now=clock_now()).checks[0].detail
    parts = split(token)
    assert key_warnings(secret_key(b"k" * 32), parts) == []
    known, short = key_warnings(secret_key(b"changeme"), parts)
    assert "wordlist" in known and "[^rfc8725-3.5]" in known and "guessed offline" in known
    assert "[^rfc7518-3.2]" in short and "guessed" not in short  # length alone makes no key guessable
    [random_but_short] = key_warnings(secret_key(b"\x8f" * 11), parts)
    assert "11 bytes" in random_but_short and "wordlist" not in random_but_short


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.tuples(st.integers(min_value=1, max_value=400), st.sampled_from(["\n", "\r\n", " ", "\t", "\n  "])),
                     min_size=1, max_size=6))
def test_a_token_wrapped_by_a_terminal_decodes_the_same_and_says_so(cuts):
    """Copied from a terminal that folded it (or pasted across lines inside quotes), a token has
    line breaks inside: decode removes them, says so on stderr, and verifies what it would
    verify whole. A leading Bearer stays a prefix, not part of the token."""
    token = pyjwt.encode(claims(), SECRET, algorithm="HS256")
    broken = token
    for at, gap in sorted(cuts, reverse=True):
        at = min(at, len(broken) - 1)
        broken = broken[:at] + gap + broken[at:]
    result = decode(f"Bearer {broken}", "--secret", SECRET)
    assert result.exit_code == 0 and "VERIFIED" in result.stdout, result.stderr
    assert "from inside the token" in result.stderr
    assert token in result.stdout.replace("\n", "")
