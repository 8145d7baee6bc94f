"""Property tests for decoding: whatever the input, a result or one clear error, never a traceback."""

from __future__ import annotations

import base64
import os
import json
import time

import jwt as pyjwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.errors import AuthcliError
from authcli.tokens import MalformedToken, examine, secret_key, split

SECRET = "f" * 32
TOKEN = pyjwt.encode({"sub": "123", "iat": int(time.time()), "exp": int(time.time()) + 3600}, SECRET)
runner = CliRunner()
FAST = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 300)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 300)) // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
        result = examine(text, secret_key(SECRET.encode()), now=time.time())
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
            assert lines and lines[-1].startswith(("error: ", "Error: ")), result.stderr


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
