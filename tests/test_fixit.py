"""Fix-it mode: the weak policy file, its errors, and every attack re-run against its servers."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.errors import UsageError
from authcli.server.lab.frameworks import SETTINGS
from authcli.server.lab.policy_file import FIELDS, read_policy, weak_policy_text
from authcli.server.lab.weaknesses import WEAKNESSES, jwt_policy, oauth_policy, session_policy
from authcli.server.policy import HARDENED_JWT, HARDENED_OAUTH, HARDENED_SESSIONS
from authcli.sources import MARKER, SOURCES
from authcli.walkthroughs.lab.attacks import ATTACKS
from authcli.walkthroughs.lab.fixit import fix_walkthrough
from authcli.walkthroughs.model import TableBlock

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)

# Half the lab's values fixed: these attacks must be refused, every other one must still work.
HALF = {
    "verify_signature": "true", "accept_alg_none": "false",
    "key_from_token": '["jku-header", "kid-sql"]',  # jwk-header and kid-path closed
    "id_source": '"secrets"', "adopt_client_id": "false", "http_only": "true", "name_unknown_email": "false",
}
CLOSED = {"no-verify", "alg-none", "jwk-header", "kid-path", "predictable-id", "fixation", "no-httponly", "user-enum"}


def edited(values: dict[str, str]) -> str:
    text = weak_policy_text()
    for key, value in values.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    return text


def test_the_weak_file_is_every_weakness_of_the_lab():
    student = read_policy(weak_policy_text())
    sessions = [w for w in WEAKNESSES.values() if w.mode == "session"]
    assert student.session() == session_policy(sessions)
    for w in WEAKNESSES.values():
        if w.mode == "jwt" and w.change:
            assert all(getattr(student.jwt(w.change.get("key_source", "server")), k) == v for k, v in w.change.items())
    assert student.secret == WEAKNESSES["weak-secret"].secret
    assert student.oauth() == oauth_policy([w for w in WEAKNESSES.values() if w.mode == "oauth"])
    assert read_policy("").oauth() == HARDENED_OAUTH
    assert {n for f in FIELDS.values() for n in f.attacks} == set(WEAKNESSES) == set(ATTACKS)


def test_an_empty_file_is_the_hardened_server():
    student = read_policy("")
    assert student.session() == HARDENED_SESSIONS and student.jwt("kid-sql") == HARDENED_JWT
    assert student.secret is None
    assert jwt_policy([]) == HARDENED_JWT


def test_every_value_names_real_framework_settings_with_a_source():
    assert set(SETTINGS) == set(FIELDS)
    text = weak_policy_text()
    for name, settings in SETTINGS.items():
        for s in settings:
            keys = MARKER.findall(s.source)
            assert len(keys) == 1 and keys[0] in SOURCES, (name, s)
            assert f"{s.framework}: {s.name}" in text
    for expected in ("cookie.httpOnly", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "sessionFixation",
                     '"verify_signature": False', "algorithms", "ignoreExpiration", "hideUserNotFoundExceptions"):
        assert expected in text
    # What the defences do not do, checked against each library's docs or source (see sources.py).
    for caveat in ("a token without exp passes anyway", "a copied cookie outlives logout",
                   "logout cannot end a copy sooner", "counted per IP", "site's own subdomains"):
        assert caveat in " ".join(text.replace("\n#   ", " ").split()), caveat


def test_a_refusal_caused_by_another_value_does_not_read_as_closed():
    # A counter-ID server refuses the planted random ID, yet still adopts IDs: fixation stays open.
    student = read_policy(edited({"id_source": '"counter"', "adopt_client_id": "true"}))
    steps = list(fix_walkthrough(student, "s.toml", ["fixation"]))
    row = steps[-1].first(TableBlock).table.rows[0]
    assert row[1] == "refused in this run, but adopt_client_id = true still leaves it open"


@pytest.mark.parametrize("text, message", [
    ("[session]\nid_sorce = \"secrets\"\n", "line 2: session.id_sorce: unknown key: did you mean session.id_source?"),
    ("# c\n[jwt]\n\ncheck_exp = \"yes\"\n", 'line 4: jwt.check_exp: "yes" must be true or false'),
    ("[session]\nid_source = \"uuid\"\n", 'line 2: session.id_source: "uuid" must be one of "counter", "secrets"'),
    ("[jwt]\nkey_from_token = [\"jwk\"]\n", "line 2: jwt.key_from_token: 'jwk' is not one of jwk-header"),
    ("[jwt]\nhmac_secret = \"\"\n", "line 2: jwt.hmac_secret: \"\" must not be empty"),
    ("[session.cookie]\nsame_site = \"None\"\n", 'line 2: session.cookie.same_site: "None" must be one of "Lax", "Strict"'),
    ("[oauth]\nx = 1\n", "line 2: oauth.x: unknown key"),
    ("[jwt\n", "not valid TOML: "),
    ("[jwt]\ncheck_exp = true\ncheck_exp = false\n", "not valid TOML: "),
])
def test_a_bad_file_gets_one_line_naming_the_key_and_line(text, message):
    with pytest.raises(UsageError) as err:
        read_policy(text)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"[jwt]\ncheck_exp = 1\n", b"\xff\xfe", b"[session]\nnope = true\n", None])
def test_the_cli_says_what_is_wrong_in_one_line(tmp_path, content):
    path = tmp_path / "policy.toml"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(app, ["lab", "--fix", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.output


def test_write_policy_makes_a_new_file_and_never_overwrites(tmp_path):
    path = tmp_path / "policy.toml"
    runner = CliRunner()
    assert runner.invoke(app, ["lab", "--write-policy", str(path)]).exit_code == 0
    assert path.read_text() == weak_policy_text()
    again = runner.invoke(app, ["lab", "--write-policy", str(path)])
    assert again.exit_code == 2 and "exists" in again.output
    link = tmp_path / "link.toml"
    link.symlink_to(tmp_path / "elsewhere.toml")  # dangling: never written through
    assert runner.invoke(app, ["lab", "--write-policy", str(link)]).exit_code == 2
    assert not (tmp_path / "elsewhere.toml").exists()
    shown = runner.invoke(app, ["lab", "--write-policy", "-"])
    assert shown.exit_code == 0 and shown.output == weak_policy_text()


@pytest.fixture
def recovery_without_the_gcd(monkeypatch):
    """alg-confusion-no-key's key recovery answered with the lab server's own public key, once
    both tokens verify with it: what the real gcd gives (tests/test_recover.py checks that over
    real HTTP), without its ~6 CPU-seconds in a test about which values close which attacks.
    The logins, the forged HS256 token and both servers' answers stay real."""
    from authcli.server.lab import jwt_weak
    from authcli.tokens import recover as recovery

    made: list = []
    answered: list = []
    real_key, real_recover = jwt_weak.small_rsa_key, recovery.recover
    monkeypatch.setattr(jwt_weak, "small_rsa_key", lambda *a: made.append(real_key(*a)) or made[-1])

    def known(first, second, **kwargs):
        for key in made:
            public = key.private.public_key().public_numbers()
            found = recovery.Recovered(public.n, public.e, "the server's own key (test)", 0.0, 1, public.n.bit_length())
            if all(recovery.verifies(found, *recovery._parts(token)) for token in (first, second)):
                answered.append(found)
                return found
        return real_recover(first, second, **kwargs)

    monkeypatch.setattr(recovery, "recover", known)
    return answered


def test_a_file_that_fixes_half_the_values_closes_exactly_those_attacks(recovery_without_the_gcd):
    steps = list(fix_walkthrough(read_policy(edited(HALF)), "half.toml"))
    rows = steps[-1].first(TableBlock).table.rows
    assert [r[0] for r in rows] == list(ATTACKS)
    refused = {r[0] for r in rows if r[1] == "refused"}
    assert refused == CLOSED
    assert all(r[1].startswith("STILL WORKS") for r in rows if r[0] not in CLOSED)
    closing = {r[0]: r[2] for r in rows}
    assert closing["kid-sql"] == 'key_from_token without "kid-sql"'
    assert closing["login-csrf"] == 'refuse_cross_site = true; login_content_types = ["application/json"]'
    assert f"{len(CLOSED)} of {len(ATTACKS)} attacks refused" in " ".join(steps[-1].text)
    assert len(recovery_without_the_gcd) == 1  # alg-confusion-no-key's attack ran, with no gcd


def test_a_fixed_value_can_still_be_let_through_by_another():
    """alg-none's own value fixed, but a server that never checks signatures takes anything."""
    student = read_policy(edited({"accept_alg_none": "false"}))
    rows = list(fix_walkthrough(student, "f.toml", ["alg-none"]))[-1].first(TableBlock).table.rows
    assert rows[0][1].startswith("STILL WORKS: its values are fixed, but verify_signature")


@pytest.mark.parametrize("fmt", ["rich", "markdown", "json", "html"])
def test_fix_renders_in_every_format(tmp_path, fmt):
    path = tmp_path / "policy.toml"
    path.write_text(edited({"id_source": '"secrets"'}))
    result = CliRunner().invoke(app, ["lab", "--fix", str(path), "kid-sql", "predictable-id", "-f", fmt])
    assert result.exit_code == 0, result.output
    assert "kid-sql" in result.output and "predictable-id" in result.output
    if fmt == "json":
        doc = json.loads(result.output)
        assert doc["steps"][-1]["title"] == "Summary"
    assert "1 of 2 attacks refused" in result.output


def test_fix_with_step_and_the_kid_lab_with_step(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("")
    runner = CliRunner()
    fixed = runner.invoke(app, ["lab", "--fix", str(path), "kid-sql", "--step"], input="\n\n\n\n")
    assert fixed.exit_code == 0 and "1 of 1 attacks refused" in fixed.output
    lab = runner.invoke(app, ["lab", "kid-sql", "--step"], input="\n\n\n\n")
    assert lab.exit_code == 0 and "UNION SELECT" in lab.output and "not a key name" in lab.output


def test_fix_summary_and_option_clashes(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("")
    runner = CliRunner()
    summary = runner.invoke(app, ["lab", "--fix", str(path), "no-exp", "--summary", "-f", "json"])
    assert summary.exit_code == 0, summary.output
    assert [s["title"] for s in json.loads(summary.output)["steps"]] == [
        "Fix-it: your policy against every attack", "Summary"]
    both = runner.invoke(app, ["lab", "--fix", str(path), "--write-policy", "-"])
    assert both.exit_code == 2 and "one at a time" in both.output
    piped = runner.invoke(app, ["lab", "--fix", "-", "no-exp"], input="[jwt]\ncheck_exp = false\n")
    assert piped.exit_code == 0 and "0 of 1 attacks refused" in piped.output


def test_a_secret_of_the_students_own_is_never_shown_whole():
    # verify_signature fixed too: a server that checks no signature takes any forged token.
    student = read_policy(edited({"hmac_secret": '"correct-horse-battery-staple-and-more"',
                                  "verify_signature": "true"}))
    steps = list(fix_walkthrough(student, "s.toml", ["weak-secret"]))
    shown = " ".join(" ".join(s.text) + str(s.first(TableBlock)) for s in steps)
    assert "correct-horse" not in shown and "(37 characters, not shown)" in shown
    assert steps[-1].first(TableBlock).table.rows[0][1] == "refused"
