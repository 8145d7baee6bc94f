"""`authcli tamper`: edits keep everything else byte for byte, each signing mode does what it says,
PyJWT verifies what it re-signs, `decode` flags what it tampered, and bad input is one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.encoding import b64url, unb64url
from authcli.errors import AuthcliError
from authcli.tokens.forge import signature
from authcli.tokens.jsonedit import edit, layout
from authcli.tokens.tamper import Edits, Signing, describe, signing, tamper

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SECRET = "s" * 40
# The handout's token: HS256 with mySecretKey, user 1, expiring in 2100 (as in test_examples).
HANDOUT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidXNlcklkIjoxLCJlbWFpbCI6ImFAYi5jb20iLCJpYXQi"
           "OjE3NjQxMTg4MDAsImV4cCI6NDEwMjQ0NDgwMH0.yQP244FuMT4o1VSKpeehptirbWl_m1wAeZ_-Z9DOYt8")
runner = CliRunner()


def cli(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def tampered(*args: str) -> tuple[str, str]:
    result = cli("tamper", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # the token alone: pipe-friendly
    return result.stdout.strip(), result.stderr


def segments(token: str) -> list[str]:
    return token.split(".")


def decoded(segment: str) -> dict:
    return json.loads(unb64url(segment))


# --- the JSON text engine ---------------------------------------------------------------------

@pytest.mark.parametrize("text,out", [
    ('{"a":1,"b":"x","c":[1,2]}', '{"a":1,"b":"y","d":[true]}'),                      # PyJWT's compact JSON
    ('{"a": 1, "b": "x", "c": [1, 2]}', '{"a": 1, "b": "y", "d": [true]}'),            # Python's default
    ('{\n  "a": 1,\n  "b": "x",\n  "c": [1, 2]\n}', '{\n  "a": 1,\n  "b": "y",\n  "d": [true]\n}'),  # indented
    (' { "a" :1 ,"b":"x","c" : [1,2] } ', ' { "a" :1 ,"b":"y","d" :[true] } '),        # whatever a person typed
])
def test_edit_keeps_untouched_members_and_the_style(text, out):
    assert edit(text, {"b": "y", "d": [True]}, ("c",)) == out


def test_edit_keeps_escapes_number_spelling_and_non_ascii_style():
    assert edit('{"n":1.50,"s":"\\u00e9","t":1}', {"t": "é"}) == '{"n":1.50,"s":"\\u00e9","t":"\\u00e9"}'
    assert edit('{"s":"é"}', {"t": "ü"}) == '{"s":"é","t":"ü"}'
    assert edit('{"n":1.0}', {"n": 1.0}) == '{"n":1.0}'  # the same value keeps its text


def test_edit_deletes_first_last_only_and_duplicates():
    assert edit('{"a":1,"b":2,"c":3}', {}, ("a",)) == '{"b":2,"c":3}'
    assert edit('{"a":1,"b":2,"c":3}', {}, ("c",)) == '{"a":1,"b":2}'
    assert edit('{ "a": 1 }', {}, ("a",)) == '{ }'
    assert edit('{}', {"a": 1}) == '{"a":1}'
    # JSON parsers keep a duplicated name's last value: that one is set, every one deleted
    assert edit('{"a":1,"b":2,"a":3}', {"a": 9}) == '{"a":1,"b":2,"a":9}'
    assert edit('{"a":1,"b":2,"a":3}', {}, ("a",)) == '{"b":2}'


# --- the signing modes, through the command -----------------------------------------------------

def test_keep_changes_only_the_payload_and_decode_sees_the_signature_fail():
    token, err = tampered(HANDOUT, "--set", "role=admin", "--set", "userId=2", "--del", "exp")
    old, new = segments(HANDOUT), segments(token)
    assert new[0] == old[0] and new[2] == old[2]  # header and signature: the same text
    assert decoded(new[1]) == {"sub": "1", "userId": 2, "email": "a@b.com", "iat": 1764118800, "role": "admin"}
    assert unb64url(new[1]).startswith(b'{"sub":"1","userId":2,"email":"a@b.com","iat":1764118800,"role"')
    assert err.splitlines() == ["~ payload userId: 1 -> 2", "- payload exp: 4102444800", '+ payload role: "admin"',
                                "signature: kept: the old signature, made over the old header and payload, so a "
                                "verifier that checks it finds it does not match"]
    checked = cli("decode", token, "--secret", "mySecretKey")
    assert checked.exit_code == 1 and "FAIL signature" in checked.stdout


@pytest.mark.parametrize("variant", ["none", "None", "NONE", "nOnE"])
def test_alg_none_variants_are_written_as_typed_and_decode_flags_them(variant):
    token, err = tampered(HANDOUT, "--set", "sub=2", "--alg", variant)
    header, payload, sig = segments(token)
    assert sig == "" and decoded(header) == {"alg": variant, "typ": "JWT"} and decoded(payload)["sub"] == 2
    assert f'~ header alg: "HS256" -> "{variant}"' in err
    assert "unsigned token" in cli("decode", token).stdout
    checked = cli("decode", token, "--secret", "mySecretKey")
    assert checked.exit_code == 1 and "FAIL algorithm" in checked.stdout
    with pytest.raises(pyjwt.PyJWTError):
        pyjwt.decode(token, "mySecretKey", algorithms=["HS256"])


def test_blank_sig_keeps_header_and_payload():
    token, err = tampered(HANDOUT, "--blank-sig")
    assert token == HANDOUT.rsplit(".", 1)[0] + "." and 'the header still says alg "HS256"' in err
    assert cli("decode", token, "--secret", "mySecretKey").exit_code == 1


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_resigned_with_a_secret_verifies_with_pyjwt_and_decode(alg):
    token, err = tampered(HANDOUT, "--set", "role=admin", "--secret", SECRET, "--alg", alg)
    claims = pyjwt.decode(token, SECRET, algorithms=[alg])
    assert claims["role"] == "admin" and claims["sub"] == "1"
    assert (segments(token)[0] == segments(HANDOUT)[0]) == (alg == "HS256")  # alg changed only when asked
    assert cli("decode", token, "--secret", SECRET).exit_code == 0


@pytest.fixture(scope="module", params=["RS256", "PS256", "ES256", "EdDSA"])
def keypair(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    assert cli("keys", "--alg", request.param, "--out", str(out)).exit_code == 0
    prefix = out / f"authcli-{request.param.lower()}"
    return request.param, Path(f"{prefix}.private.pem"), Path(f"{prefix}.public.pem")


def test_resigned_with_a_private_key_verifies_with_pyjwt(keypair):
    alg, private, public = keypair
    token, err = tampered(HANDOUT, "--set", 'sub="2"', "--key", str(private), "--alg", alg)
    assert decoded(segments(token)[0]) == {"alg": alg, "typ": "JWT"}  # in place, typ untouched
    assert pyjwt.decode(token, public.read_bytes(), algorithms=[alg])["sub"] == "2"
    assert f"re-signed with {alg} by the private key given" in err
    assert cli("decode", token, "--key", str(public)).exit_code == 0


def test_embed_jwk_verifies_with_its_own_key_and_decode_warns():
    token, err = tampered(HANDOUT, "--set", "role=admin", "--embed-jwk")
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and "d" not in header["jwk"]  # the public half only
    key = pyjwt.PyJWK(header["jwk"])
    assert pyjwt.decode(token, key.key, algorithms=["RS256"])["role"] == "admin"
    assert "CVE-2018-0114" in err and "jwk" in cli("decode", token).stdout


def test_jku_writes_the_key_set_and_never_overwrites(tmp_path):
    out = tmp_path / "keys.json"
    url = "http://127.0.0.1:8000/keys.json"
    token, err = tampered(HANDOUT, "--jku", url, "--alg", "ES256", "--jwks-out", str(out))
    header = pyjwt.get_unverified_header(token)
    (jwk,) = json.loads(out.read_text())["keys"]
    assert header["jku"] == url and header["kid"] == jwk["kid"] and "d" not in jwk
    assert pyjwt.decode(token, pyjwt.PyJWK(jwk).key, algorithms=["ES256"])["sub"] == "1"
    assert f"key set written to {out}" in err
    again = cli("tamper", HANDOUT, "--jku", url, "--jwks-out", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr and again.stdout == ""


def test_token_from_stdin_and_bearer_prefix():
    result = cli("tamper", "-", "--set", "a=[1,2]", input=f"Bearer {HANDOUT}\n")
    assert result.exit_code == 0 and decoded(segments(result.stdout.strip())[1])["a"] == [1, 2]


def test_what_a_token_holds_is_escaped_on_stderr():
    header = b64url(b'{"alg":"HS256"}')
    payload = b64url(json.dumps({"x\x1b]0;owned\x07": "\x1b[2J"}).encode())
    token = f"{header}.{payload}.c2ln"
    _, err = tampered(token, "--del", "x\x1b]0;owned\x07")
    assert "\x1b" not in err and "\\x1b]0;owned\\x07" in err


BAD = [
    (["not-a-jwt"], "3 parts"),
    (["a.b.c.d.e"], "JWE"),
    ([HANDOUT, "--set", "role"], "NAME=VALUE"),
    ([HANDOUT, "--set", "=1"], "NAME=VALUE"),
    ([HANDOUT, "--set", "x=1e999"], "whole number"),
    ([HANDOUT, "--set", 'x="\\ud800"'], "surrogate"),
    ([HANDOUT, "--set", "x=" + "[" * 100_000], None),
    ([HANDOUT, "--del", "nope"], "no such member"),
    ([HANDOUT, "--set", "a=1", "--del", "a"], "give one"),
    ([HANDOUT, "--alg", "HS999", "--secret", "x"], "unknown algorithm"),
    ([HANDOUT, "--alg", "RS256"], "give --secret or --key"),
    ([HANDOUT, "--alg", "none", "--secret", "x"], "different ways"),
    ([HANDOUT, "--blank-sig", "--embed-jwk"], "different ways"),
    ([HANDOUT, "--header", "alg=none", "--alg", "none"], "give one"),
    ([HANDOUT, "--key", "/nonexistent/key.pem"], "cannot read key file"),
    ([HANDOUT, "--key", "/dev/zero"], "not a regular file"),
    ([HANDOUT, "--secret", "x", "--alg", "ES256"], "HS256, HS384 or HS512"),
    ([HANDOUT, "--embed-jwk", "--alg", "HS256"], "public key"),
    ([HANDOUT, "--jku", "file:///etc/passwd"], "http"),
    ([HANDOUT, "--jwks-out", "x.json"], "goes with --jku"),
    ([HANDOUT + "!"], "base64url"),
]


@pytest.mark.parametrize("args,says", BAD, ids=range(len(BAD)))
def test_bad_input_is_one_line_and_exit_2(args, says):
    result = cli("tamper", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert says is None or says in result.stderr


def test_a_key_file_that_is_no_key(tmp_path):
    bad = tmp_path / "key.pem"
    bad.write_text("hello")
    result = cli("tamper", HANDOUT, "--key", str(bad))
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


# --- hypothesis: any token, any edits -----------------------------------------------------------

NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
                      | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
                      max_leaves=6)
STYLES = [{"separators": (",", ":")}, {}, {"indent": 2}, {"ensure_ascii": False}]


@st.composite
def cases(draw):
    style = draw(st.sampled_from(STYLES))
    header = {"alg": "HS256", "typ": "JWT", **draw(st.dictionaries(NAMES.filter(lambda n: n != "alg"), VALUES, max_size=2))}
    payload = draw(st.dictionaries(NAMES, VALUES, max_size=5))
    head = f"{b64url(json.dumps(header, **style).encode())}.{b64url(json.dumps(payload, **style).encode())}"
    token = f"{head}.{b64url(signature('HS256', SECRET.encode(), head))}"
    sets = draw(st.dictionaries(st.sampled_from(list(payload)) | NAMES, VALUES, max_size=3) if payload
                else st.dictionaries(NAMES, VALUES, max_size=3))
    drops = tuple(draw(st.lists(st.sampled_from(list(payload)), unique=True, max_size=2)) if payload else [])
    drops = tuple(n for n in drops if n not in sets)
    header_sets = draw(st.dictionaries(st.sampled_from(["kid", "x5u", "typ"]), st.text(max_size=8), max_size=1))
    mode = draw(st.sampled_from(["keep", "blank", "none", "sign"]))
    return token, header, payload, Edits(sets, drops, header_sets), mode


def _untouched_kept(segment_before: str, segment_after: str, touched) -> None:
    before, after = unb64url(segment_before).decode(), unb64url(segment_after).decode()
    for m in layout(before).members:
        if m.name not in touched:
            assert before[m.start:m.value_end] in after


@FUZZ
@given(case=cases())
def test_tampering_never_crashes_keeps_the_rest_and_resigns_for_pyjwt(case):
    token, header, payload, change, mode = case
    how = signing("HS256", alg="nOnE" if mode == "none" else None, blank=mode == "blank",
                  secret=SECRET.encode() if mode == "sign" else None)
    try:
        result = tamper(token, change, how)
    except AuthcliError:
        return  # one line for the user; never anything else
    old, new = segments(token), segments(result.token)
    if not change.header and mode in ("keep", "blank", "sign"):
        assert new[0] == old[0]
    if not change.claims and not change.drop_claims:
        assert new[1] == old[1]
    _untouched_kept(old[1], new[1], {*change.claims, *change.drop_claims})
    _untouched_kept(old[0], new[0], {*change.header, "alg"})
    want = {k: v for k, v in {**payload, **change.claims}.items() if k not in change.drop_claims}
    assert json.loads(unb64url(new[1])) == want and list(json.loads(unb64url(new[1]))) == list(want)
    assert new[2] == {"keep": old[2], "blank": "", "none": ""}.get(mode, new[2])
    if mode == "sign":
        assert pyjwt.PyJWS().decode(result.token, SECRET, algorithms=["HS256"]) == unb64url(new[1])
    assert len(describe(result)) == len(result.changes) + 1  # escaped by the command, not here


@settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)) // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(token=st.one_of(st.text(max_size=60), st.just(HANDOUT)),
       args=st.lists(st.one_of(st.sampled_from(["--set", "--del", "--header", "--header-del", "--alg", "--secret"]),
                               st.text(max_size=12)), max_size=6))
def test_the_command_never_shows_a_traceback(token, args):
    result = cli("tamper", token, *args)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert result.stderr.count("\n") <= 2  # one line (a usage error adds where the help is)


@FUZZ
@given(value=st.binary(min_size=1, max_size=8).filter(lambda b: not b.startswith(b"-")).map(os.fsdecode)
       .filter(lambda s: not s.isascii() and any(0xDC80 <= ord(c) <= 0xDCFF for c in s)),
       where=st.sampled_from([("{}",), (HANDOUT, "--set", "a={}"), (HANDOUT, "--header", "{}=1"),
                              (HANDOUT, "--secret", "{}"), (HANDOUT, "--alg", "{}"), (HANDOUT, "--jku", "{}")]))
def test_a_value_that_is_not_utf8_is_one_line(value, where):
    result = cli("tamper", *[a.replace("{}", value) for a in where])
    assert result.exit_code == 2 and "is not valid UTF-8 text" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("option", ["--key", "--secret-file"])
@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/"])
def test_a_fifo_or_device_where_a_file_is_expected_is_one_line(option, target, tmp_path):
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    result = cli("tamper", HANDOUT, option, target)
    assert result.exit_code == 2 and "not a regular file" in result.stderr and result.stderr.count("\n") == 1


def test_jku_writes_jwks_json_here_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    token, err = tampered(HANDOUT, "--jku", "http://127.0.0.1:8000/jwks.json")
    (jwk,) = json.loads((tmp_path / "jwks.json").read_text())["keys"]
    assert jwk["kid"] == pyjwt.get_unverified_header(token)["kid"] and "key set written to jwks.json" in err


def test_the_help_example_runs_and_decode_flags_its_token():
    import re
    import shlex

    example = re.search(r"Example: authcli (tamper [^\n]+)", cli("tamper", "--help").stdout).group(1)
    token, err = tampered(*shlex.split(example)[1:])
    assert decoded(segments(token)[1]) == {"sub": 1, "role": "admin"} and segments(token)[2] == ""
    assert err.splitlines()[0] == '~ header alg: "HS256" -> "none"'
    assert 'alg is "none"' in cli("decode", token).stdout
