"""Property tests for decoding: whatever the input, a result or one clear error, never a traceback."""

from __future__ import annotations

import base64
import os
import re
import json

import jwt as pyjwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.clock import now as clock_now
from authcli.cli.app import app
from authcli.errors import AuthcliError, MalformedToken
from authcli.tokens.keys import secret_key
from authcli.tokens.parse import split
from authcli.tokens.report import examine

SECRET = "f" * 32
TOKEN = pyjwt.encode({"sub": "123", "iat": int(clock_now()), "exp": int(clock_now()) + 3600}, SECRET)
runner = CliRunner()
FAST = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 200)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 200)) // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_library(text: str) -> None:
    try:
        parts = split(text)
    except MalformedToken as err:
        assert str(err) and "\n" not in str(err)
        return
    assert isinstance(parts.header, dict) and isinstance(parts.payload, dict)
    try:
        result = examine(text, secret_key(SECRET.encode()), now=clock_now())
    except AuthcliError as err:  # e.g. a key that cannot verify the header's algorithm
        assert "\n" not in str(err)
        return
    assert result.verified in (True, False)


def check_cli(text: str) -> None:
    for args in (["decode", text, "--json"], ["decode", text, "--secret", SECRET]):
        if text.startswith("-"):
            args.insert(1, "--")
        result = runner.invoke(app, args, env={"COLUMNS": "100", "NO_COLOR": "1"})
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            # One `error:` line; a usage error adds where the help is (tests/test_cli.py).
            assert lines and lines[0].startswith("error: ") and lines[1:] in ([], ["(authcli decode --help)"]), \
                result.stderr


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_library(text):
    check_library(text)


@CLI
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200))
def test_arbitrary_text_cli(text):
    check_cli(text)


@FAST
@given(st.binary(max_size=200), st.binary(max_size=200), st.binary(max_size=100))
def test_arbitrary_bytes_as_base64url_parts(header, payload, signature):
    check_library(f"{b64(header)}.{b64(payload)}.{b64(signature)}")


@FAST
@given(st.dictionaries(st.sampled_from(["alg", "typ", "kid", "jku", "crit", "x"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                                 st.lists(st.integers(), max_size=3)), max_size=5),
       st.dictionaries(st.sampled_from(["sub", "exp", "nbf", "iat", "aud", "iss", "jti", "email"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                                 st.lists(st.text(max_size=4), max_size=3)), max_size=8))
def test_arbitrary_json_headers_and_claims(header, payload):
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{TOKEN.split('.')[2]}"
    check_library(token)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(TOKEN) - 1), st.characters(min_codepoint=32, max_codepoint=126)),
    st.tuples(st.just("drop"), st.integers(0, 2), st.just("")),
    st.tuples(st.just("dup"), st.integers(0, 2), st.just("")),
    st.tuples(st.just("pad"), st.integers(0, 2), st.sampled_from(["=", "==", "==="])),
    st.tuples(st.just("truncate"), st.integers(0, len(TOKEN)), st.just("")),
)


def mutate(token: str, steps) -> str:
    for kind, n, extra in steps:
        parts = token.split(".")
        if kind == "flip" and token:
            n %= len(token)
            token = token[:n] + extra + token[n + 1:]
        elif kind == "drop" and len(parts) > 1:
            del parts[n % len(parts)]
            token = ".".join(parts)
        elif kind == "dup" and parts:
            parts.insert(n % len(parts), parts[n % len(parts)])
            token = ".".join(parts)
        elif kind == "pad" and parts:
            parts[n % len(parts)] += extra
            token = ".".join(parts)
        elif kind == "truncate":
            token = token[:n]
    return token


@FAST
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_tokens_library(steps):
    check_library(mutate(TOKEN, steps))


@CLI
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_real_tokens_cli(steps):
    check_cli(mutate(TOKEN, steps))


def test_an_unmutated_token_verifies():
    assert runner.invoke(app, ["decode", TOKEN, "--secret", SECRET]).exit_code == 0


# --- the crash classes an attack run found in decode, generated -------------------------------

def private_jwks():
    """JWKs of private keys of every type decode accepts, made once."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    keys = [(rsa.generate_private_key(public_exponent=65537, key_size=2048), pyjwt.algorithms.RSAAlgorithm, "RS256"),
            (ec.generate_private_key(ec.SECP256R1()), pyjwt.algorithms.ECAlgorithm, "ES256"),
            (ed25519.Ed25519PrivateKey.generate(), pyjwt.algorithms.OKPAlgorithm, "EdDSA")]
    return [(key, json.loads(cls.to_jwk(key)), alg) for key, cls, alg in keys]


PRIVATE_JWKS = private_jwks()
JWK_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                       st.sampled_from(["none", "None", "NONE", "HS256", "RS256", "ES256", "EdDSA", "oct",
                                        "RSA", "EC", "OKP", "P-256", "Ed25519", "AQAB", ""]))


@CLI
@given(index=st.integers(0, len(PRIVATE_JWKS) - 1), extra=st.dictionaries(
    st.sampled_from(["alg", "kty", "crv", "use", "kid", "key_ops"]), JWK_VALUES, max_size=3))
def test_any_jwk_is_a_key_or_one_error_line(tmp_path_factory, index, extra):
    private, jwk, alg = PRIVATE_JWKS[index]
    token = pyjwt.encode({"sub": "1", "exp": 4_000_000_000}, private, algorithm=alg)
    path = tmp_path_factory.mktemp("jwk") / "key.json"
    path.write_text(json.dumps({**jwk, **extra}))
    result = runner.invoke(app, ["decode", token, "--key", str(path)])
    assert result.exit_code in (0, 1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    if not extra:  # the private key as it is: verified with its public half, and it says so
        assert result.exit_code == 0 and "only its public half is used" in result.stdout


@CLI
@given(depth=st.integers(50, 5000), opener=st.sampled_from(['{"keys":[', '{"a":', "[", '{"kty":{']))
def test_deeply_nested_key_files_are_refused(tmp_path_factory, depth, opener):
    path = tmp_path_factory.mktemp("deep") / "key.json"
    path.write_text("{" + opener * depth)
    result = runner.invoke(app, ["decode", TOKEN, "--key", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


@CLI
@given(value=st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "+inf", "1e999", "-1e999"]))
def test_numeric_options_refuse_nan_and_infinities(value):
    expired = pyjwt.encode({"sub": "1", "exp": 1}, SECRET)
    result = runner.invoke(app, ["decode", expired, "--secret", SECRET, "--leeway", value])
    assert result.exit_code == 2 and "VERIFIED" not in result.stdout


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(alphabet=st.sampled_from(["\x1b", "[", "2", "J", "]", "0", ";", "\x07", "\x9b", "\u202e", "a"]),
                    min_size=1, max_size=12))
def test_claim_names_in_warnings_are_escaped(name):
    token = pyjwt.encode({"sub": "1", "exp": 4_000_000_000, "password" + name: "x"}, SECRET)
    for args in (["decode", token], ["decode", token, "--json"], ["decode", token, "--secret", SECRET]):
        result = runner.invoke(app, args, env={"NO_COLOR": "1"})
        assert result.exit_code == 0
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", result.stdout), result.stdout


def test_files_that_never_end_are_read_only_to_the_limit(tmp_path):
    """A device that never ends is refused before a byte is read (not a regular file); a
    regular file past the limit is read only to it."""
    big = tmp_path / "big"
    big.write_bytes(b"0" * (1024 * 1024 + 10))
    for option in ("--key", "--secret-file"):
        result = runner.invoke(app, ["decode", TOKEN, option, "/dev/zero"])
        assert result.exit_code == 2 and "a character device, not a regular file" in result.stderr
        result = runner.invoke(app, ["decode", TOKEN, option, str(big)])
        assert result.exit_code == 2 and "larger than 1 MB" in result.stderr
