"""Algorithm confusion with no exposed key: the RSA public key recovered from two RS256 tokens of
the lab's weak server, over real HTTP, is the server's own; the forged HS256 token gets in there
and is refused by the hardened server. The math checked cheaply on 2048-bit keys too."""

from __future__ import annotations

import importlib.util

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from authcli.server.lab.jwt_weak import public_pem, small_rsa_key
from authcli.server.lab.weaknesses import WEAKNESSES
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.forge import sign_hmac
from authcli.tokens.parse import b64url_decode, split
from authcli.tokens.recover import E, RecoveryFailed, encoded, recover, strip_small
from authcli.tokens.signing import from_private, issue, make_signing_key
from authcli.walkthroughs.lab import runner
from authcli.walkthroughs.lab.attacks import ATTACKS, jwt_apps
from authcli.walkthroughs.model import ExchangeBlock
from conftest import require_gmpy2

LAB = "alg-confusion-no-key"



def _login(server: AuthServer) -> str:
    answer = requests.post(server.url + "/login", json={"email": "eve@example.com", "password": "eve"}, timeout=10)
    assert answer.status_code == 200
    return answer.json()["token"]


def test_no_key_is_published_and_a_single_token_gives_nothing_away():
    weak_app, _ = jwt_apps(WEAKNESSES[LAB])
    with AuthServer(weak_app) as weak:
        assert requests.get(weak.url + "/.well-known/jwks.json", timeout=10).status_code == 404
        token = _login(weak)
        with pytest.raises(RecoveryFailed, match="the same"):
            recover(split(token), split(token))


@pytest.mark.parametrize("bits", [512, 2048])
def test_every_rs256_signature_is_a_root_of_its_pkcs1_encoding(bits):
    """s^e = m (mod n) for the encoding `recover` computes: so n divides s^e - m, for any key size.
    (The gcd itself is what takes time; this is the equation it rests on.)"""
    key = small_rsa_key(512) if bits == 512 else from_private(rsa.generate_private_key(E, bits), "RS256")
    parts = split(issue(key, {"sub": "1"}))
    n = key.private.public_key().public_numbers().n
    signature = int.from_bytes(b64url_decode(parts.signature_b64, "signature"), "big")
    assert pow(signature, E, n) == encoded("RS256", f"{parts.header_b64}.{parts.payload_b64}".encode(), bits // 8)


def test_small_multiples_are_divided_out_and_n_itself_is_kept():
    n = small_rsa_key(512).private.public_key().public_numbers().n
    assert strip_small(n * 2 * 2 * 3 * 65521, 512) == (n, 12 * 65521)
    assert strip_small(n, 512) == (n, 1)


def test_tokens_that_cannot_give_a_key_are_refused_before_any_big_number():
    small, big = small_rsa_key(512), from_private(rsa.generate_private_key(E, 1024), "RS256")
    one = split(issue(small, {"sub": "1"}))
    for a, b, why in [(one, one, "the same"), (one, split(issue(big, {"sub": "1"})), "different lengths"),
                      (one, split(issue(make_signing_key("HS256"), {"sub": "1"})), "not RS256"),
                      (one, split(issue(make_signing_key("ES256"), {"sub": "1"})), "not RS256")]:
        with pytest.raises(RecoveryFailed, match=why):
            recover(a, b)


def test_the_lab_key_is_small_real_rsa_and_publishes_nothing():
    key = small_rsa_key()
    assert key.private.key_size == 512 and key.jwks is None and key.alg == "RS256"
    numbers = key.private.private_numbers()
    assert numbers.p * numbers.q == numbers.public_numbers.n and numbers.public_numbers.e == E


def test_without_gmpy2_the_lab_says_so_in_one_line(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gmpy2" else real(name, *a))
    steps = list(runner.lab_walkthrough([LAB]))
    skipped = next(s for s in steps if s.title == f"{LAB}: skipped")
    assert skipped.text == [f"Skipped: {LAB} needs gmpy2 for its big-number arithmetic: pip install 'authcli[gmpy2]'"]
    assert "Skipped: alg-confusion-no-key" in " ".join(steps[-1].text)
    assert ATTACKS[LAB].weakness.key_bits == 512


def test_the_lab_recovers_the_servers_key_and_only_the_weak_server_takes_the_forgery(monkeypatch):
    """The lab's attack once, through the walkthrough, with spies (the real functions, recorded):
    the key recovered from two tokens over real HTTP is the server's own; the same forged bytes
    get 200 from the weak server and 401 from the hardened one; every format and --step from
    that one run."""
    import io
    import json

    from authcli.render.html import HtmlRenderer
    from authcli.render.jsonout import JsonRenderer
    from authcli.render.markdown import MarkdownRenderer
    from authcli.server.lab import jwt_weak
    from authcli.tokens import recover as recovery
    from test_walkthrough_browser_dpop import stepped

    require_gmpy2()
    made, found = [], []
    real_key, real_recover = jwt_weak.small_rsa_key, recovery.recover
    monkeypatch.setattr(jwt_weak, "small_rsa_key", lambda *a: made.append(real_key(*a)) or made[-1])
    monkeypatch.setattr(recovery, "recover", lambda *a, **k: found.append(real_recover(*a, **k)) or found[-1])
    steps = list(runner.lab_walkthrough([LAB]))

    [server_key], [key] = made, found
    server_public = server_key.private.public_key().public_numbers()
    assert (key.n, key.e) == (server_public.n, server_public.e) and key.engine == "gmpy2"
    assert key.pem() == public_pem(server_key) and key.n.bit_length() == 512
    weak, hard = steps[1], steps[2]
    weak_sent, hard_sent = ([b.exchange for b in s.all(ExchangeBlock)] for s in (weak, hard))
    assert [ex.request.target for ex in weak_sent] == ["/login", "/login", "/.well-known/jwks.json", "/profile"]
    assert all(ex.response.header("X-Authcli-Weak") == LAB for ex in weak_sent)
    forged = weak_sent[-1].request.header("Authorization")
    assert forged == hard_sent[-1].request.header("Authorization")
    header = split(forged.split(" ", 1)[1]).header
    assert header["alg"] == "HS256" and sign_hmac(header, split(forged.split(" ", 1)[1]).payload, key.pem()) == forged.split(" ", 1)[1]
    assert weak_sent[-1].response.status == 200 and weak_sent[-1].response.body.strip() == "Welcome user 1"
    assert hard_sent[-1].response.status == 401 and hard_sent[-1].response.header("X-Authcli-Weak") is None
    said = " ".join(weak.text)
    assert "GET /.well-known/jwks.json: 404" in said and "authcli checked that it is the server's public key" in said
    assert f"k={key.divided_out}" in said and "512-bit key" in said and "[^rfc7518-3.3]" in said
    assert "Result: refused (401: algorithm FAIL)" in " ".join(hard.text)

    outs = {"md": io.StringIO(), "json": io.StringIO(), "html": io.StringIO()}
    for renderer in [MarkdownRenderer(outs["md"]), JsonRenderer(outs["json"]), HtmlRenderer(outs["html"])]:
        renderer.start(runner.INFO)
        for step in steps:
            renderer.step(step)
        renderer.end()
    assert "## Step 1. alg-confusion-no-key: the attack on a server with the mistake" in outs["md"].getvalue()
    assert json.loads(outs["json"].getvalue())["steps"][-1]["title"] == "Summary"
    assert "alg-confusion-no-key" in outs["html"].getvalue()
    out = stepped(runner.INFO, steps)
    assert "Step 2 · alg-confusion-no-key: the same attack on the hardened server" in out
    assert "An HS256 token signed with a public key recovered from two tokens." in out
