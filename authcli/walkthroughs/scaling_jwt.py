"""The scaling demo's JWT rounds: one key on two servers (round 4), and two clocks (round 5)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Callable, Iterator

from authcli import clock
from authcli.errors import BadKey
from authcli.http import Exchange
from authcli.server.policy import HARDENED_JWT
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.transport.httpd import App
from authcli.tokens.signing import make_signing_key
from authcli.tokens.signing import issue
from authcli.walkthroughs.cluster import CREDS, TTL, Cluster, answer, served_by
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import ExchangeBlock, ServersBlock, Step, step

MakeCluster = Callable[[Callable[[str], App]], Cluster]
YEAR = 365 * 24 * 3600
SKEW = 5  # seconds B's clock runs behind A's in round 5
LEEWAY = 10


def token_alg(login: Exchange) -> str:
    """The algorithm a login's token names in its header."""
    token = json.loads(login.response.body)["token"]
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["alg"]


def round4(cluster: MakeCluster, observed: dict[int, list[Exchange]], alg: str = "HS256") -> Iterator[Step]:
    """With HS256 both servers hold the secret; with a key pair A signs and B holds the public key only."""
    key = make_signing_key(alg)
    shared = alg.startswith("HS")
    public_only = replace(key, private=None)  # what B holds with a key pair: it verifies, never signs
    c = cluster(lambda name: JwtAuth(key if shared or name == "A" else public_only, TTL))
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 4 login")
    token = json.loads(login.response.body)["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    holds = (f"Both servers hold the same {alg} secret." if shared else
             f"A holds the {alg} private key; B holds only the public key.")
    yield step(None, f"Round 4 · JWT with {'a shared key' if shared else 'a key pair'}, round-robin: log in", [
        f"{holds} POST /login went to {served_by(login)}, which signed a token and stored nothing: "
        "both stores stay empty.",
    ], c.config(), ExchangeBlock(login), ServersBlock(c.views()),
        predict="Both servers now verify JWTs with the same key. The client logs in.")
    profiles = [expect(c.send("GET", "/profile", headers=bearer), 200, "round 4 profile") for _ in range(2)]
    yield step(None, "Round 4 · Both servers verify the token", [
        f"Two GET /profile requests: {answer(profiles[0])}, then {answer(profiles[1])}. Each "
        f"checks the signature with the {'shared' if shared else 'public'} key; neither looks anything up.",
    ], *(ExchangeBlock(p) for p in profiles), ServersBlock(c.views()),
        predict="The client sends GET /profile twice with its token; round-robin picks both servers.")
    yield _mint(c, shared)
    for name in ("A", "B"):
        c.stop(name)
        c.start(name)
    for name in ("A", "B"):
        c.noticed(name, "UP")  # HAProxy sends nothing to a server its checks have not seen back
    after = expect(c.send("GET", "/profile", headers=bearer), 200, "round 4 profile after restarts")
    yield step(None, "Round 4 · Restart both servers: the token still works", [
        f"authcli restarted A and B (new processes' worth of memory, the same key). {answer(after)}. "
        "There was nothing to lose.",
        "The price: no server can take the token back. Logging out, or banning the user, leaves the "
        "token valid until exp unless every server checks a shared denylist, which is a shared "
        "store again.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict="Both servers restart (their memory is wiped). The client sends its token.")
    observed[4] = [login, *profiles, after]


def _mint(c: Cluster, shared: bool) -> Step:
    """B signs a year-long token for user 1 with the key it verifies with, if it can."""
    now = int(clock.now())
    claims = {"sub": "1", "userId": 1, "iat": now, "exp": now + YEAR}
    b_key = c.apps["B"].key  # type: ignore[attr-defined]
    try:
        minted = issue(b_key, claims)
    except BadKey as err:
        return step(None, "Round 4 · B cannot mint a token", [
            "B holds the public key only, which verifies but cannot sign: asked to sign a year-long "
            f"token for user 1 with B's key, PyJWT refused ({err}). Only A, which holds the private "
            "key, can issue tokens; a verifier that is broken into leaks no way to mint them.",
        ], predict="B tries to sign a token of its own with the key it verifies with.")
    forged = expect(c.send_to("A", "GET", "/profile", headers={"Authorization": f"Bearer {minted}"}),
                    200, "round 4 token minted by B")
    return step(None, "Round 4 · B mints a token that A accepts", [
        "The key that verifies an HS256 token also signs one. authcli had B sign a token of its own "
        "(user 1, valid for a year) and sent it straight to A: "
        f"{forged.response.status}. A cannot tell it from one it signed. Every server holding the "
        "secret can issue tokens; with a key pair (--alg RS256) only the holder of the private key can.",
    ], ExchangeBlock(forged), predict="B signs a year-long token with the shared secret; the client sends it to A.")


def round5(cluster: MakeCluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    """B's clock runs SKEW seconds behind A's: a token A has just issued is, to B, from the future."""
    key = make_signing_key("HS256")

    def servers(leeway: int) -> Callable[[str], App]:
        def make(name: str) -> App:
            behind = (lambda: clock.now() - SKEW) if name == "B" else clock.now
            return JwtAuth(key, TTL, policy=replace(HARDENED_JWT, leeway=leeway), clock=behind)
        return make

    c = cluster(servers(0))
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 5 login")
    bearer = {"Authorization": f"Bearer {json.loads(login.response.body)['token']}"}
    refused = expect(c.send("GET", "/profile", headers=bearer), 401, "round 5 profile on the late clock")
    yield step(None, f"Round 5 · B's clock is {SKEW} s behind: a fresh token is refused", [
        f"Both servers hold the same key, but B's clock reads {SKEW} s earlier than A's. "
        f"{served_by(login)} signed the token with iat set to its own now; round-robin sent the next "
        f"request to {served_by(refused)}, for which that moment has not come yet: the token was "
        f"issued in the future, {refused.response.status} (this server refuses a future iat; RFC 7519 "
        "itself only says iat records when the token was issued [^rfc7519-4.1]). A clock ahead would cut every token's "
        "life short instead (exp).",
    ], c.config(), ExchangeBlock(login), ExchangeBlock(refused),
        predict=f"B's clock runs {SKEW} s behind A's. The client logs in, then sends its token.")
    c.close()
    c = cluster(servers(LEEWAY))
    again = expect(c.send("POST", "/login", json=CREDS), 200, "round 5 login with leeway")
    bearer = {"Authorization": f"Bearer {json.loads(again.response.body)['token']}"}
    accepted = expect(c.send("GET", "/profile", headers=bearer), 200, "round 5 profile with leeway")
    yield step(None, f"Round 5 · {LEEWAY} s of leeway: B accepts", [
        f"The same two clocks, and both servers now allow {LEEWAY} s of leeway on exp and nbf, as RFC 7519 "
        "permits for clock skew (usually no more than a few minutes)[^rfc7519-4.1.4], and on this "
        f"server's own future-iat check: {answer(accepted)}.",
        "Servers keep their clocks in step with NTP, which usually holds them within tens of "
        "milliseconds of each other[^rfc5905], so seconds of leeway are usually enough: "
        "every second of leeway is a second longer an expired token is still accepted.",
    ], ExchangeBlock(accepted), predict=f"Both servers allow {LEEWAY} s of leeway. The client logs in "
                                        "again and sends its new token.")
    observed[5] = [login, refused, again, accepted]
