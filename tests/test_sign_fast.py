"""`authcli sign`'s typer-free fast path, and HMAC with the standard library (tokens/hmacjws.py):
the same tokens as PyJWT byte for byte, the same verdicts, the same output as the typer command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jwt.algorithms import HMACAlgorithm
from rich.console import Console
from typer.testing import CliRunner

from authcli.clock import now as clock_now
from authcli.cli.app import app
from authcli.cli.issuing import SIGN_OPTIONS, fast_sign, parse_sign
from authcli.render.jsonout import examination_json
from authcli.render.token import examination_renderable
from authcli.tokens import hmacjws
from authcli.tokens.keys import secret_key
from authcli.tokens.report import examine
from authcli.tokens.signing import issue, make_signing_key
from test_sign_keys import VERIFY_JS, node_jwt  # noqa: F401 (node_jwt is a fixture)

runner = CliRunner()
SECRET = "k" * 40
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
claim_sets = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
# Secrets near every shape PyJWT refuses: PEM armour, SSH keys, DER, JSON that could be a JWK.
tricky = st.sampled_from([b"-----BEGIN PUBLIC KEY-----", b"-----END PUBLIC KEY-----", b"---- BEGIN SSH2 PUBLIC KEY ----",
                          b"ssh-rsa ", b"ecdsa-sha2-nistp256", b"0", b"0\x82", b"{", b"}", b"[", b'"kty"', b":",
                          b'{"kty":"oct","k":"AA"}', b"\xef\xbb\xbf", b"\x00", b" "])
secrets_ = st.binary(min_size=1, max_size=80) | st.lists(tricky | st.binary(max_size=4), min_size=1, max_size=6).map(b"".join)
algs = st.sampled_from(["HS256", "HS384", "HS512"])


# --- the standard library's HMAC against PyJWT's ----------------------------------------------

@FUZZ
@given(secrets_)
def test_a_plain_secret_is_one_pyjwt_takes_as_it_is(secret):
    assume(secret)
    if hmacjws.plain_secret(secret):
        assert HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret) == secret


@FUZZ
@given(claim_sets, secrets_, algs, st.none() | st.text(max_size=12))
def test_tokens_are_byte_for_byte_pyjwts(claims, secret, alg, kid):
    """issue() signs a plain secret with the standard library, anything else with PyJWT: the
    token is the one jwt.encode makes, or the same refusal."""
    assume(secret)
    headers = {"kid": kid} if kid else None
    try:
        expected = pyjwt.encode(claims, secret, algorithm=alg, headers=headers)
    except (pyjwt.PyJWTError, ValueError, TypeError):
        expected = None
    try:
        got = issue(make_signing_key(alg, secret), claims, headers)
    except Exception as err:  # noqa: BLE001 - compared below
        got = None
        assert type(err).__name__ == "BadKey"
    assert got == expected
    if hmacjws.can_encode(alg, secret, claims, headers):
        assert hmacjws.encode(claims, secret, alg, headers) == expected
        assert pyjwt.decode(expected, secret, algorithms=[alg], options={"verify_signature": True, "verify_exp": False,
                            "verify_nbf": False, "verify_iat": False, "verify_aud": False, "verify_iss": False,
                            "verify_sub": False, "verify_jti": False}) == json.loads(json.dumps(claims))


@FUZZ
@given(st.binary(max_size=200), secrets_, secrets_, algs, st.integers(0, 3))
def test_stdlib_and_pyjwt_verify_alike(message, signer, verifier, alg, tamper):
    """Right key, wrong key, and a signature cut short or changed: the same answer."""
    assume(hmacjws.plain_secret(verifier))
    mac = hmacjws.mac(alg, signer, message)
    mac = [mac, mac[:-1], bytes([mac[0] ^ 1]) + mac[1:], b""][tamper]
    pyjwt_alg = HMACAlgorithm({"HS256": HMACAlgorithm.SHA256, "HS384": HMACAlgorithm.SHA384,
                               "HS512": HMACAlgorithm.SHA512}[alg])
    assert hmacjws.Verifier(alg).verify(message, verifier, mac) == pyjwt_alg.verify(message, verifier, mac)


def test_the_stdlib_verifier_compares_in_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    assert hmacjws.Verifier("HS256").verify(b"m", b"k", hmacjws.mac("HS256", b"k", b"m"))
    assert calls


def _both(token: str, secret: bytes, monkeypatch, **options):
    """examine() with the standard library's HMAC, then with PyJWT's: (JSON, text) each."""
    out = []
    for plain in (hmacjws.plain_secret, lambda key: False):
        with monkeypatch.context() as patch:
            patch.setattr(hmacjws, "plain_secret", plain)
            exam = examine(token, secret_key(secret, options.get("alg"), stdlib=True),
                           now=options.get("now", 1_700_000_000), leeway=options.get("leeway", 0),
                           audience=options.get("audience"), require=options.get("require", ()))
            console = Console(file=io.StringIO(), width=100, no_color=True)
            console.print(examination_renderable(exam))
            out.append((examination_json(exam), console.file.getvalue()))
    return out


times = st.none() | st.integers(1_700_000_000 - 400, 1_700_000_000 + 400) | st.sampled_from(["x", 1e20, True])


@settings(FUZZ, max_examples=60)  # each example renders the report twice
@given(secrets_, secrets_, algs, st.sampled_from([None, "HS256", "HS384", "HS512"]), times, times, times,
       st.floats(0, 60), st.none() | st.sampled_from(["class", "other"]), st.sampled_from([(), ("exp",), ("nbf", "iat")]))
def test_decode_reports_the_same_checks_with_either_hmac(monkeypatch, signer, verifier, alg, pinned, exp, nbf, iat,
                                                        leeway, audience, require):
    """Every check decode reports (alg allow-list, signature, exp/nbf/iat with leeway, aud) and
    every warning (a short or known secret) are the same whichever code computed the HMAC."""
    assume(verifier)
    claims = {"sub": "1", "aud": "class", **{k: v for k, v in (("exp", exp), ("nbf", nbf), ("iat", iat)) if v is not None}}
    token = pyjwt.encode(claims, signer, algorithm=alg) if hmacjws.plain_secret(signer) else \
        hmacjws.encode(claims, b"stand-in", alg)
    stdlib, with_pyjwt = _both(token, verifier, monkeypatch, alg=pinned, leeway=leeway, audience=audience,
                               require=require)
    assert stdlib == with_pyjwt


@pytest.mark.parametrize("secret", [b"mySecretKey", b"secret", SECRET.encode(), b"-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----",
                                    b'{"kty": "oct", "k": "AA"}'])
def test_weak_and_refused_secrets_read_the_same(secret, monkeypatch):
    token = hmacjws.encode({"sub": "1", "exp": 1_700_000_100}, b"mySecretKey", "HS256")
    stdlib, with_pyjwt = _both(token, secret, monkeypatch)
    assert stdlib == with_pyjwt


# --- the fast path against the typer command ---------------------------------------------------

def test_the_fast_path_and_the_typer_command_declare_the_same_options():
    import typer.main

    command = typer.main.get_command(app).commands["sign"]
    declared = {opt: param.name for param in command.params for opt in (*param.opts, *param.secondary_opts)
                if opt.startswith("-")}
    declared.pop("--help", None), declared.pop("-h", None)
    assert declared == {opt: param for opt, (param, _) in SIGN_OPTIONS.items()}


def run_main(*args: str, stdin: str | None = None, at: float | None = None) -> subprocess.CompletedProcess:
    """`authcli ARGS` through main() in a process of its own, its clock stopped at `at`; stderr
    ends with the modules it loaded."""
    code = ("import sys\nfrom authcli import clock\nfrom authcli.cli import main\n"
            "at, sys.argv = sys.argv[1], ['authcli', *sys.argv[2:]]\n"
            "if at != 'None': clock.now = lambda: float(at)\n"
            "try:\n    main()\nfinally:\n    sys.stderr.write('loaded: %s\\n' % sorted(m for m in ('typer', 'jwt', 'rich')"
            " if m in sys.modules))")
    return subprocess.run([sys.executable, "-c", code, str(at), *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, **ENV}, timeout=30)


def both_paths(args: list[str], stdin: str | None, monkeypatch):
    """The fast path in a process of its own, and the typer command, at one instant (a token
    holds iat and exp to the second)."""
    from authcli import clock

    at = float(int(clock_now()))
    monkeypatch.setattr(clock, "now", lambda: at)
    return run_main("sign", *args, stdin=stdin, at=at), runner.invoke(app, ["sign", *args], input=stdin, env=ENV)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(SECRET.encode() + b"\n")
    return str(path)


@pytest.mark.parametrize("args, stdin", [
    (["--sub", "1", "--exp", "5m", "--secret", SECRET], None),
    (['{"role": "admin", "n": 1.5, "name": "J\\u00e9r\\u00f4me"}', "--secret", SECRET, "--alg", "HS384"], None),
    (["-c", "n=5", "-c", "flag=true", "--claim=name=x", "-c", "list=[1,2]", "--no-iat", "--secret-file", "FILE",
      "--alg=HS512"], None),
    (["--sub", "1", "--nbf", "-5m", "--kid", "k1", "--iss", "me", "--aud", "class", "--secret=" + SECRET], None),
    (["--sub", "1", "--secret", "mySecretKey"], None),  # three warnings on stderr
    (["--sub", "1", "--iat", "--exp", "0", "--secret", "short"], None),
    (["-", "--exp", "2h", "--secret", SECRET], '{"sub": "7"}'),
    (["-", "--secret", SECRET], "[1, 2]"),
    (["--sub", "1"], None),
    (["--secret", ""], None),
    (["--exp", "soon", "--secret", "a"], None),
    (["-c", "novalue", "--secret", "a"], None),
    (['{"iat": "x"}', "--secret", SECRET], None),
    (["not json", "--secret", SECRET], None),
    (["--sub", "1", "--secret-file", "/nonexistent/secret"], None),
    (["--sub", "1", "--secret", "a", "--secret-file", "FILE"], None),
    (["--sub", "1", "--secret", "-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----"], None),  # PyJWT refuses
    (["--sub", "1", "--secret", '{"kty": "oct", "k": "AA"}'], None),
    (["--sub", "1", "--secret", "0123456789abcdef0123456789abcdef"], None),  # could be DER: PyJWT's call
])
def test_the_fast_path_prints_what_the_typer_command_prints(args, stdin, secret_file, monkeypatch):
    args = [secret_file if a == "FILE" else a for a in args]
    fast, typer_run = both_paths(args, stdin, monkeypatch)
    assert "'typer'" not in fast.stderr  # the fast path ran
    assert (fast.returncode, fast.stdout) == (typer_run.exit_code, typer_run.stdout)
    assert fast.stderr[:fast.stderr.rindex("loaded: ")] == typer_run.stderr


def test_the_fast_path_imports_neither_typer_nor_pyjwt_nor_rich():
    result = run_main("sign", "--sub", "1", "--exp", "5m", "--secret", SECRET)
    assert result.returncode == 0 and result.stderr == "loaded: []\n"
    decoded = run_main("decode", result.stdout.strip(), "--secret", SECRET, "--json")
    assert json.loads(decoded.stdout)["verified"] is True and decoded.stderr == "loaded: []\n"
    refused = run_main("decode", result.stdout.strip(), "--secret", SECRET + "x", "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["signature_valid"] is False


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--exp"], ["--bogus"], ["--iat=1"], ["--sub", "a", "--sub", "b"],
                                  ["--iat", "--no-iat"], ["--key", "x.pem"], ["--alg", "RS256", "--secret", "a"],
                                  ["--alg", "hs256", "--secret", "a"], ["a", "b", "--secret", "a"], ["--", "x"],
                                  ["-cn=5", "--secret", "a"]])
def test_help_and_usage_errors_go_to_typer(args):
    result = run_main("sign", *args)
    assert "'typer'" in result.stderr
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--secret", "\udcff"], ["--sub", "\udcff", "--secret", "a"], ["\udcff", "--secret", "a"],
                                  ["-c", "n=\udcff", "--secret", "a"]])
def test_text_that_is_not_utf8_goes_to_typer(args):
    assert parse_sign(args) is None and fast_sign(args) is None
    result = runner.invoke(app, ["sign", *args], env=ENV)
    assert result.exit_code == 2 and "is not valid UTF-8 text" in result.stderr


# --- a second implementation: node's jsonwebtoken ----------------------------------------------

@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_node_jsonwebtoken_verifies_what_the_fast_path_signs(node_jwt, alg):  # noqa: F811
    secret = "n" * 64  # long enough for HS512: no warning
    result = run_main("sign", "--sub", "9", "--exp", "5m", "--aud", "class", "--alg", alg, "--secret", secret)
    assert result.stderr == "loaded: []\n"
    token = result.stdout.strip()
    out = subprocess.run([node_jwt, "-e", VERIFY_JS, token, secret, alg, str(int(clock_now()))], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0 and json.loads(out.stdout)["sub"] == "9", out.stderr
    assert pyjwt.decode(token, secret, algorithms=[alg], audience="class", leeway=10**9)["sub"] == "9"


def test_servers_sign_and_verify_with_pyjwt_not_the_stdlib_path(monkeypatch):
    """The shortcut is the CLI's (sign, decode --secret); a server's tokens are PyJWT's, as the demos say."""
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.tokens.signing import make_signing_key
    import requests

    def refuse(*args, **kwargs):
        raise AssertionError("a server used the standard-library HMAC path")

    monkeypatch.setattr(hmacjws, "encode", refuse)
    monkeypatch.setattr(hmacjws, "Verifier", refuse)
    with AuthServer(JwtAuth(make_signing_key("HS256", b"x" * 32), 60)) as server:
        login = requests.post(server.url + "/login", json={"email": "a@b.com", "password": "123"}, timeout=10)
        token = login.json()["token"]
        got = requests.get(server.url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert got.status_code == 200
