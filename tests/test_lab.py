"""The attack lab: every attack works against `--weak NAME` and fails against the default server,
over real HTTP; weak servers stay on loopback and say what they are; crack finds weak secrets."""

from __future__ import annotations

import json
import os

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.errors import BadKey, ServerStartError
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.lab.jwt_weak import _fetched
from authcli.server.lab.weaknesses import WEAKNESSES, jwt_policy, parse, session_policy
from authcli.stores.memory import MemoryStore
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.tokens.crack import crack, wordlist
from authcli.walkthroughs.lab.runner import lab_walkthrough, run_attack
from authcli.walkthroughs.lab.attacks import ATTACKS
from authcli.walkthroughs.model import TableBlock

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

FUZZ = settings(max_examples=int(os.environ.get("AUTHCLI_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
HANDOUT_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidXNlcklkIjoxLCJlbWFpbCI6ImFAYi5jb20iLCJpYXQi"
                 "OjE3NjQxMTg4MDAsImV4cCI6NDEwMjQ0NDgwMH0.yQP244FuMT4o1VSKpeehptirbWl_m1wAeZ_-Z9DOYt8")


def test_every_weakness_has_an_attack():
    assert list(ATTACKS) == list(WEAKNESSES) and len(WEAKNESSES) == 24


# alg-confusion-no-key runs once, in tests/test_recover.py: its gcd takes seconds.
@pytest.mark.parametrize("name", [n for n, w in WEAKNESSES.items() if not w.needs])
def test_the_attack_works_on_the_weak_server_and_fails_on_the_hardened_one(name):
    if name == "no-httponly" and os.environ.get("AUTHCLI_REQUIRE_BROWSER"):
        from conftest import require_browser
        require_browser()  # CI: the real document.cookie, not the rule
    weak, hard = run_attack(ATTACKS[name])  # raises unless the weak server lost and the hardened won
    assert weak.won and not hard.won
    for label, exchange in weak.exchanges:
        assert exchange.response.header("X-Authcli-Weak") == name, label
    assert all(ex.response.header("X-Authcli-Weak") is None for _, ex in hard.exchanges)
    if ATTACKS[name].weakness.mode == "jwt":  # the very same forged bytes went to both servers
        assert weak.exchanges[-1][1].request.header("Authorization") == hard.exchanges[-1][1].request.header("Authorization")


def test_a_weak_server_refuses_to_listen_beyond_loopback():
    weak = SessionAuth(MemoryStore(), 60, policy=session_policy(parse("fixation")), weak=("fixation",))
    for host in ("0.0.0.0", "::", "192.168.1.5"):
        with pytest.raises(ServerStartError, match="loopback only"):
            AuthServer(weak, host=host).start()
    result = CliRunner().invoke(app, ["serve", "--weak", "alg-none", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback only" in result.stderr
    with AuthServer(SessionAuth(MemoryStore(), 60), host="127.0.0.1"):  # the hardened one may
        pass


def test_weak_policies_change_only_their_own_values():
    assert jwt_policy(parse("alg-none")).accept_alg_none and not jwt_policy([]).lenient
    assert session_policy(parse("no-httponly")).cookie.http_only is False
    assert session_policy(parse("no-httponly")).cookie.same_site == "Lax"
    for bad in ("alg-none,fixation", "nope", "jwk-header,weak-secret"):
        with pytest.raises(Exception):
            parse(bad)


@FUZZ
@given(host=st.from_regex(r"[a-z0-9.-]{1,30}", fullmatch=True).filter(
    lambda h: h not in ("127.0.0.1", "localhost")), port=st.integers(1, 65535))
def test_a_jku_server_never_fetches_beyond_this_machine(host, port):
    with pytest.raises(BadKey):
        _fetched({"jku": f"http://{host}:{port}/jwks.json", "alg": "RS256"})


def test_the_lab_walkthrough_ends_with_the_table():
    steps = list(lab_walkthrough(["alg-none", "fixation"]))
    assert [s.number for s in steps] == [None, 1, 2, 3, 4, None]
    table = steps[-1].first(TableBlock).table
    assert [row[0] for row in table.rows] == ["alg-none", "fixation"]
    assert table.rows[0][1] == "200 Welcome user 1" and table.rows[0][2] == "401: algorithm FAIL"


def test_lab_list_and_errors():
    runner = CliRunner()
    listed = runner.invoke(app, ["lab", "--list"])
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 24
    bad = runner.invoke(app, ["lab", "nope"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: unknown weakness nope")
    summary = runner.invoke(app, ["lab", "alg-none", "--summary", "-f", "json"])
    doc = json.loads(summary.stdout)
    assert [s["title"] for s in doc["steps"]] == ["The attack lab", "Summary"]


def test_a_served_weak_server_marks_every_answer():
    weak = JwtAuth(make_signing_key("HS256"), 60, policy=jwt_policy(parse("no-exp")), weak=("no-exp",))
    with AuthServer(weak) as server:
        for path in ("/", "/profile", "/nowhere", "/attacker"):
            assert requests.get(server.url + path, timeout=5).headers["X-Authcli-Weak"] == "no-exp"


def test_crack_finds_the_handouts_secret_and_not_a_random_one():
    found = crack(split(HANDOUT_TOKEN), wordlist())
    assert found.secret == b"mySecretKey" and found.tried <= len(wordlist())
    strong = make_signing_key("HS256")
    from authcli.tokens.signing import issue
    missed = crack(split(issue(strong, {"sub": "1"})), wordlist())
    assert missed.secret is None and missed.exhausted and missed.tried == len(wordlist())


def test_crack_cli(tmp_path):
    runner = CliRunner()
    found = runner.invoke(app, ["crack", HANDOUT_TOKEN])
    assert found.exit_code == 0 and "FOUND the HS256 secret is 'mySecretKey'" in found.stdout
    words = tmp_path / "words.txt"
    words.write_bytes(b"nope\nalso-nope\n")
    missed = runner.invoke(app, ["crack", HANDOUT_TOKEN, "--wordlist", str(words)])
    assert missed.exit_code == 1 and "not found: the wordlist ran out (2 guesses" in missed.stdout
    rs = make_signing_key("RS256")
    from authcli.tokens.signing import issue
    refused = runner.invoke(app, ["crack", issue(rs, {"sub": "1"})])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "only HMAC tokens" in refused.stderr


def test_the_jwt_attacker_uses_their_own_account_and_each_refusal_names_its_defence():
    """One user: the attacker is eve@example.com (user 2) in every lab, a@b.com is user 1; the
    hardened side of every attack shows the defence, with what it does not protect."""
    from authcli.defences import DEFENCES
    from authcli.walkthroughs.model import Defences

    weak, _ = run_attack(ATTACKS["no-verify"])
    login = weak.exchanges[0][1]
    assert "eve@example.com" in login.request.body and json.loads(login.response.body)["token"]
    assert split(json.loads(login.response.body)["token"]).payload["sub"] == "2"
    steps = list(lab_walkthrough(["no-verify", "alg-confusion"]))
    hardened = [s for s in steps if s.title.endswith("the same attack on the hardened server")]
    assert [s.first(Defences).keys for s in hardened] == [["signature-check"], ["alg-allowlist"]]
    assert all(w.guards and set(w.guards) <= set(DEFENCES) for w in WEAKNESSES.values())


def test_serve_weak_secret_says_whose_secret_it_is():
    """`serve --weak weak-secret` signs with the handout's secret: the banner must not call it random."""
    from authcli.cli.serve_hints import verify_hints
    from authcli.server.lab.weaknesses import HANDOUT_SECRET

    hint = verify_hints(make_signing_key("HS256", HANDOUT_SECRET), None)[0]
    assert "handout's" in hint and "random" not in hint
    assert "256 random bits" in verify_hints(make_signing_key("HS256"), None)[0]


def test_serve_weak_no_key_says_its_key_is_published_nowhere():
    """`serve --weak alg-confusion-no-key`: a 512-bit key and no JWKS; the banner must not point at one."""
    from authcli.cli.serve_hints import verify_hints
    from authcli.server.lab.jwt_weak import lab_key

    key = lab_key(parse("alg-confusion-no-key"))
    assert key.jwks is None and key.private.key_size == 512
    [hint] = verify_hints(key, None)
    assert "publishes nowhere" in hint and "jwks.json > jwks.json" not in hint
