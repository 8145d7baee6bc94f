"""What a new user typed first: -h, md, --json everywhere, quoted tokens, lab name typos, hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jwt as pyjwt
import pytest
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.clock import now as clock_now

runner = CliRunner()
SECRET = "s" * 32


def run(*args, input=None):
    result = runner.invoke(app, list(args), input=input, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    return result


def token(secret=SECRET, **extra):
    """Times far from a unit's edge: "in 10 days" whichever second each run reads the clock."""
    now = int(clock_now())
    return pyjwt.encode({"sub": "1", "iat": now - 12600, "exp": now + 907200, **extra}, secret, algorithm="HS256")


def run_main(*args):
    """authcli as installed: decode takes its typer-free fast path."""
    code = "import sys\nfrom authcli.cli import main\nsys.argv = ['authcli', *sys.argv[1:]]\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


# --- formats -------------------------------------------------------------------------------------

def test_md_is_markdown():
    md = run("demo", "compare", "-f", "md")
    markdown = run("demo", "compare", "--format", "markdown")
    assert md.exit_code == 0 and md.stdout.startswith("# ")
    # Two runs differ only in what each run made (ports, IDs, times): compare the headings.
    assert ([l for l in md.stdout.splitlines() if l.startswith("#")]
            == [l for l in markdown.stdout.splitlines() if l.startswith("#")])


@pytest.mark.parametrize("args", [["lab", "alg-none", "--summary"], ["demo", "jwt", "--ttl", "2"]])
def test_json_flag_is_dash_f_json(args):
    flag, option = run(*args, "--json"), run(*args, "-f", "json")
    assert flag.exit_code == option.exit_code == 0
    assert json.loads(flag.stdout)["walkthrough"] == json.loads(option.stdout)["walkthrough"]
    assert len(json.loads(flag.stdout)["steps"]) == len(json.loads(option.stdout)["steps"]) > 1


def test_json_and_another_format_is_a_usage_error():
    result = run("lab", "alg-none", "--json", "-f", "html")
    assert result.exit_code == 2 and result.stderr == "error: --json and -f html ask for two formats: give one\n"


@pytest.mark.parametrize("how", [["--json"], ["-f", "json"], ["--format", "json"], ["--format=json"]])
def test_decode_takes_both_json_spellings_on_both_paths(how):
    t = token()
    typer_run, fast = run("decode", t, "--secret", SECRET, *how), run_main("decode", t, "--secret", SECRET, *how)
    assert typer_run.exit_code == fast.returncode == 0
    assert json.loads(typer_run.stdout)["verified"] is True and json.loads(fast.stdout)["verified"] is True


def test_bench_takes_dash_f_json():
    import typer.main

    params = {o: p.name for p in typer.main.get_command(app).commands["bench"].params for o in p.opts}
    assert params["-f"] == params["--format"] and "--json" in params
    assert run("bench", "-f", "md").exit_code == 2


# --- tokens people paste ---------------------------------------------------------------------------

@pytest.mark.parametrize("wrap", ["'{}'", '"{}"', "Bearer '{}'", ' "{}"\n'])
def test_a_quoted_token_is_refused_with_what_to_do(wrap):
    pasted = wrap.format(token())
    for result in (run("decode", pasted), run("decode", "-", input=pasted)):
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith("error: the token has quotes around it") and "remove them" in result.stderr
    fast = run_main("decode", pasted)
    assert fast.returncode == 2 and "remove them" in fast.stderr


def test_a_bearer_prefix_is_still_fine():
    assert run("decode", "Bearer " + token(), "--secret", SECRET).exit_code == 0


def test_a_weak_secret_is_warned_about_before_the_verdict():
    out = run("decode", token("mySecretKey"), "--secret", "mySecretKey").stdout
    assert out.index("Warnings:") < out.index("HMAC secret is 11 bytes") < out.index("VERIFIED")
    assert "see the warnings above" in out.splitlines()[[i for i, l in enumerate(out.splitlines())
                                                           if "VERIFIED" in l][0]]


def unsigned(**claims) -> str:
    b64 = pyjwt.utils.base64url_encode
    now = int(clock_now())
    body = {"sub": "1", "iat": now - 12600, "exp": now + 907200, **claims}
    return b64(b'{"alg":"none"}').decode() + "." + b64(json.dumps(body).encode()).decode() + "."


@pytest.mark.parametrize("bad", ["unsigned", "tampered"])
def test_claims_are_skipped_when_the_signature_fails(bad):
    t = unsigned() if bad == "unsigned" else token(secret="another secret, 32 bytes or more.")
    result = run("decode", t, "--secret", SECRET, "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["verified"] is False and doc["claims_valid"] is None
    claims = {c["name"]: c for c in doc["checks"] if c["name"] in ("exp", "iat")}
    assert {n: c["status"] for n, c in claims.items()} == {"exp": "SKIP", "iat": "SKIP"}
    assert all("the claims are the attacker's word" in c["detail"] for c in claims.values())
    text = run("decode", t, "--secret", SECRET).stdout
    assert "PASS exp" not in text and "SKIP exp" in text and "claims not checked" in text
    fast = run_main("decode", t, "--secret", SECRET)
    assert fast.stdout == text and fast.returncode == 1


def test_an_expired_genuine_token_still_fails_exp():
    """Only a failed signature skips the claims: a genuine expired token says FAIL exp."""
    now = int(clock_now())
    t = pyjwt.encode({"sub": "1", "iat": now - 900, "exp": now - 300}, SECRET, algorithm="HS256")
    doc = json.loads(run("decode", t, "--secret", SECRET, "--json").stdout)
    assert {c["name"]: c["status"] for c in doc["checks"]}["exp"] == "FAIL" and doc["claims_valid"] is False


def test_the_server_skips_the_claims_of_an_unsigned_token():
    import requests

    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.events import TokenChecked
    from authcli.tokens.signing import make_signing_key

    with AuthServer(JwtAuth(make_signing_key("HS256"), 60)) as server:
        mark = server.mark()
        answer = requests.get(server.url + "/profile", headers={"Authorization": "Bearer " + unsigned()}, timeout=5)
        checked = [e for r in server.records_since(mark) for e in r.events if isinstance(e, TokenChecked)][-1]
    assert answer.status_code == 401
    assert [(c.name, c.status) for c in checked.checks] == [("algorithm", "FAIL"), ("signature", "SKIP"),
                                                          ("exp", "SKIP"), ("iat", "SKIP")]


# --- names and hints -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, says", [
    ("alg_confusoin", "error: unknown weakness alg_confusoin: did you mean alg-confusion? (authcli lab --list)\n"),
    ("kid_pth", "error: unknown weakness kid_pth: did you mean kid-path? (authcli lab --list)\n"),
])
def test_lab_suggests_the_closest_name(typed, says):
    result = run("lab", typed)
    assert result.exit_code == 2 and result.stderr == says


def test_lab_takes_underscores_and_capitals():
    from authcli.server.lab.weaknesses import known

    assert [w.name for w in known(["alg_confusion", "ALG-NONE"])] == ["alg-confusion", "alg-none"]


def test_the_redis_hint_works_from_pypi_and_from_a_clone(monkeypatch):
    from authcli.errors import StoreMissing
    from authcli.stores.redis import _redis_module

    monkeypatch.setitem(sys.modules, "redis", None)  # import redis raises ImportError
    with pytest.raises(StoreMissing) as err:
        _redis_module()
    assert "pip install 'authcli[redis]'" in str(err.value) and "pip install '.[redis]'" in str(err.value)
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    assert "pip install '.[redis]'" in readme and "pip install 'authcli[redis]'" in readme


def test_sign_warnings_show_the_source_not_its_key():
    result = runner.invoke(app, ["sign", "--sub", "1", "--exp", "5m", "--secret", "mySecretKey"])
    assert "[RFC 7518 §3.2]" in result.stderr and "[^" not in result.stderr


def test_a_handout_says_skip_not_fail_for_a_check_that_did_not_run():
    from authcli.render.tokentext import check_line
    from authcli.tokens.checks import UNTRUSTED, Check

    assert check_line(Check("exp", None, UNTRUSTED)) == f"SKIP exp: {UNTRUSTED}"
    handout = run("demo", "jwt", "--ttl", "2", "-f", "md").stdout
    step4 = handout[handout.index("## Step 4."):handout.index("## Step 5.")]
    assert f"- SKIP exp: {UNTRUSTED}" in step4 and "FAIL exp" not in step4
