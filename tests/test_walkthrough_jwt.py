"""The JWT walkthrough's data, on a fake clock: every step from real traffic, nothing stored."""

from __future__ import annotations

import json

import pytest

from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt import jwt_walkthrough
from authcli.walkthroughs.model import NothingStored, Warnings
from conftest import FakeClock


def run(key, pause: float = 0.0):
    clock = FakeClock()
    steps = []
    for step in jwt_walkthrough(key, 3, clock=clock, sleep=clock.advance):
        steps.append(step)
        clock.advance(pause)
    return steps


@pytest.fixture(scope="module")
def steps():
    return run(make_signing_key("HS256"))


def by_number(steps, n):
    return next(s for s in steps if s.number == n)


def test_order_and_statuses(steps):
    numbered = [s for s in steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 10))
    statuses = [s.exchange.response.status if s.exchange else None for s in numbered]
    assert statuses == [200, None, 200, 401, 401, 200, 200, None, 401]
    assert steps[-1].title == "Recap"


def test_login_shows_the_token_parts(steps):
    step = by_number(steps, 1)
    token = json.loads(step.exchange.response.body)["token"]
    view = step.token
    assert view.token == token and view.segments == token.split(".")
    assert view.header == {"alg": "HS256", "typ": "JWT"}
    assert view.payload["sub"] == "1" and view.payload["userId"] == 1
    assert view.payload["exp"] - view.payload["iat"] == 3
    assert view.signature_bytes == 32
    assert {c.name for c in view.claims} == {"sub", "iat", "exp", "jti"}
    assert any("encoded, not encrypted" in p for p in step.text)


def test_nothing_is_stored(steps):
    assert steps[0].first(NothingStored) is not None and steps[0].store is None
    assert all(s.store is None for s in steps)  # said once, at the start: no step shows a store
    assert by_number(steps, 2).cookie_jar == []


def test_bearer_and_checks(steps):
    step = by_number(steps, 3)
    token = by_number(steps, 1).token.token
    assert step.exchange.request.header("Authorization") == f"Bearer {token}"
    assert [(c.name, c.ok) for c in step.checks] == [("algorithm", True), ("signature", True),
                                                      ("exp", True), ("iat", True)]
    assert step.exchange.response.body == "Welcome user 1\n"


def test_tampered_and_none_fail_the_right_check(steps):
    tampered = by_number(steps, 4)
    assert [c.name for c in tampered.checks if c.ok is False] == ["signature"]
    # exp and iat are SKIP, not PASS: a failed signature means the claims are the attacker's word
    assert {c.name: c.ok for c in tampered.checks if c.name in ("exp", "iat")} == {"exp": None, "iat": None}
    sent = tampered.exchange.request.header("Authorization").split(" ")[1]
    assert sent.split(".")[2] == by_number(steps, 1).token.segments[2]  # signature kept
    unsigned = by_number(steps, 5)
    assert unsigned.exchange.request.header("Authorization").endswith(".")
    assert unsigned.checks[0].name == "algorithm" and not unsigned.checks[0].ok
    for step in (tampered, unsigned):
        assert 'error="invalid_token"' in step.exchange.response.header("WWW-Authenticate")


def test_logout_cannot_revoke(steps):
    assert "stays valid" in by_number(steps, 6).exchange.response.body
    assert by_number(steps, 7).exchange.response.status == 200


def test_expiry(steps):
    assert by_number(steps, 8).wait > 2.5
    step = by_number(steps, 9)
    assert [c.name for c in step.checks if not c.ok] == ["exp"]
    assert 'error="invalid_token"' in step.exchange.response.header("WWW-Authenticate")


def test_recap_counts_bytes(steps):
    token = by_number(steps, 1).token.token
    rows = steps[-1].tables[0].rows
    assert f"{len('Authorization: Bearer ' + token)} bytes" in rows[1][1]
    assert "a session cookie is 61" in rows[1][1]


def test_weak_handout_secret_is_flagged():
    steps = run(make_signing_key("HS256", b"mySecretKey"))
    assert any("WEAK SECRET" in w for w in steps[0].first(Warnings).items)
    assert "'mySecretKey'" in " ".join(steps[0].text)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_key_pairs_publish_jwks(alg):
    steps = run(make_signing_key(alg))
    jwks = json.loads(steps[0].exchange.response.body)
    assert jwks["keys"][0]["alg"] == alg and "d" not in jwks["keys"][0]
    assert by_number(steps, 3).checks[1].ok and "public key" in by_number(steps, 3).checks[1].detail


def test_long_pauses_never_break_the_story():
    steps = run(make_signing_key("HS256"), pause=120)
    statuses = [s.exchange.response.status for s in steps if s.exchange]
    assert statuses == [200, 200, 401, 401, 200, 200, 401]
    assert "already passed" in by_number(steps, 8).text[0]


def test_the_secret_is_narrated_as_what_it_is():
    """Generated: bytes and bits from secrets, never characters x 8. Typed: its length and
    whether people use it, never an entropy made up from its length."""
    made = " ".join(run(make_signing_key("HS256"))[0].text)
    assert "32 random bytes, 256 bits" in made and "43 characters" in made and "344 bits" not in made
    typed = make_signing_key("HS256", b"passwordpasswordpasswordpassword")
    text = " ".join(run(typed)[0].text)
    assert "typed on the command line" in text and "32 bytes" in text and "random" not in text
    assert not typed.known and not typed.weak
    handout = run(make_signing_key("HS256", b"mySecretKey"))[0]
    assert "the handout's, and in authcli's wordlist" in " ".join(handout.text)
    assert "RFC" not in " ".join(handout.text) and "[^rfc8725-3.5]" in handout.first(Warnings).items[0]


def test_the_handout_numbers_are_reconciled_once():
    steps = run(make_signing_key("HS256"))
    said = [p for s in steps for p in s.text if "123" in p]
    assert len(said) == 1 and "userId 1" in said[0]


def _refused(*events):
    from authcli.http import Exchange, HttpRequest, HttpResponse

    request = HttpRequest("GET", "http://127.0.0.1:1/profile", "/profile", "HTTP/1.1", [], "")
    return Exchange(request, HttpResponse(401, "Unauthorized", "HTTP/1.1", [], ""), list(events))


def test_a_credential_that_ran_out_mid_story_is_named_as_the_machine_being_slow():
    """A busy laptop can outlast a demo's short lifetime: the error says so, not just "401"."""
    from authcli.errors import WalkthroughError
    from authcli.events import SessionLookedUp, TokenChecked
    from authcli.tokens.checks import Check
    from authcli.walkthroughs.common import expect

    expired = TokenChecked("exp", checks=[Check("signature", True, ""), Check("exp", False, "")])
    with pytest.raises(WalkthroughError, match="token's exp passed before this step ran.*longer --ttl"):
        expect(_refused(expired), 200, "profile")
    with pytest.raises(WalkthroughError, match="session's record was gone"):
        expect(_refused(SessionLookedUp("miss", session_id="x", found=False)), 200, "profile")
    tampered = TokenChecked("sig", checks=[Check("signature", False, "")])
    with pytest.raises(WalkthroughError, match=r"answered 401$"):  # other refusals: no excuse
        expect(_refused(tampered), 200, "profile")
