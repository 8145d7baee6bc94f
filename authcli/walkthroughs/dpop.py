"""`demo jwt --dpop`: the JWT demo's token bound to the client's key (RFC 9449), so a copy alone
is refused; every proof and refusal from real traffic."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Callable, Iterator

from authcli.client import ScriptedClient
from authcli.events import ProofChecked, TokenChecked
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.schemes.dpop import DpopJwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.tls import TlsFiles
from authcli.tokens.claims import inspect
from authcli.tokens.dpop import ProofKey, make_proof, make_proof_key
from authcli.tokens.keys import SigningKey
from authcli.tokens.parse import split
from authcli.walkthroughs.common import Shown, expect, sequence
from authcli.walkthroughs.https import tls_step
from authcli.walkthroughs.jwt import DEFAULT_TTL, ENCODED_NOT_ENCRYPTED, _checks, _key_step
from authcli.walkthroughs.model import (
    ChecksBlock, ClientStorage, Defences, ExchangeBlock, Step, Table, TableBlock, TokenBlock, Warnings,
    WalkthroughInfo, step,
)
from authcli.clock import now as clock_now

INFO = WalkthroughInfo("jwt", "DPoP: a stolen token alone is useless", 7, command="demo jwt --dpop")
PROOF_TITLE = "The server's checks of the DPoP proof:"


def dpop_walkthrough(key: SigningKey, ttl: int = DEFAULT_TTL, *, clock: Callable[[], float] = clock_now,
                     sleep: Callable[[float], None] = time.sleep, tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield the DPoP demo's steps; the server lives exactly as long as the generator."""
    auth = DpopJwtAuth(key, ttl, clock=clock, https=tls is not None)
    with AuthServer(auth, tls=tls.server_context() if tls else None) as server:
        client = ScriptedClient(server, ca=str(tls.ca) if tls else None)
        try:
            shown = Shown()
            yield shown(_key_step(server, auth, client, tls is not None))
            if tls is not None:
                yield shown(tls_step(server, tls))
            # Everything runs in one burst inside the token's lifetime, shown afterwards, so
            # --step pauses cannot race its exp.
            if clock() % 1 > 0.1:
                sleep(1 - clock() % 1)
            run = _traffic(client, clock)
            yield from shown.all(_steps(run))
            yield _recap(run, shown.steps)
        finally:
            client.close()


def _proof_checks(exchange: Exchange) -> ChecksBlock:
    return ChecksBlock(list(exchange.event(ProofChecked).checks), PROOF_TITLE)


def _traffic(client: ScriptedClient, clock: Callable[[], float]) -> SimpleNamespace:
    """The client's key, its login and one good request; then a thief's four tries."""
    url = client.server.url
    r = SimpleNamespace(key=make_proof_key(), thief=make_proof_key())
    r.login_proof = make_proof(r.key, "POST", url + "/login", clock())
    r.login = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
                                 headers={"DPoP": r.login_proof}), 200, "login with a DPoP proof")
    r.token = json.loads(r.login.response.body)["token"]
    dpop = {"Authorization": f"DPoP {r.token}"}
    r.proof = make_proof(r.key, "GET", url + "/profile", clock(), token=r.token)
    r.profile = expect(client.send("GET", "/profile", headers={**dpop, "DPoP": r.proof}), 200, "DPoP request")
    r.bearer = expect(client.send("GET", "/profile", headers={"Authorization": f"Bearer {r.token}"}, fresh=True),
                      401, "the stolen token as Bearer")
    r.bare = expect(client.send("GET", "/profile", headers=dpop, fresh=True), 401, "the stolen token, no proof")
    own = make_proof(r.thief, "GET", url + "/profile", clock(), token=r.token)
    r.own = expect(client.send("GET", "/profile", headers={**dpop, "DPoP": own}, fresh=True), 401,
                   "the stolen token with the thief's own proof")
    r.replayed = expect(client.send("GET", "/profile", headers={**dpop, "DPoP": r.proof}, fresh=True), 401,
                        "the captured proof replayed")
    return r


def _key_view(key: ProofKey) -> ClientStorage:
    return ClientStorage({"private key": "ES256 (P-256): signs proofs, never sent",
                          "public key (jwk)": json.dumps(key.jwk, separators=(",", ":")),
                          "thumbprint (jkt)": key.jkt}, "The client's DPoP key pair")


def _steps(r: SimpleNamespace) -> list[Step]:
    token = inspect(split(r.token), None)
    return [
        step(1, "The client makes a key pair", [
            "Before logging in, the client makes an ES256 key pair. The private key stays with it (in a "
            "browser, a WebCrypto key made non-extractable); the public key travels in every proof. "
            "Its RFC 7638 thumbprint [^rfc7638] names it in one short string.",
        ], _key_view(r.key)),
        step(2, "POST /login with a DPoP proof: the token is bound to the key", [
            "The DPoP header holds a proof: a small JWT with typ dpop+jwt, the public key in its header, "
            "and this request's method (htm), URL (htu), time (iat) and a unique jti [^rfc9449-4.2], "
            "signed by the private key. The server checks it and puts the key's thumbprint in the "
            "token as cnf.jkt [^rfc9449-6.1]; token_type says DPoP [^rfc9449-5]. " + ENCODED_NOT_ENCRYPTED,
        ], ExchangeBlock(r.login, events=False), _proof_checks(r.login),
            TokenBlock(inspect(split(r.login_proof), None)), TokenBlock(token),
            predict="The client logs in, sending a proof signed with its new key."),
        step(3, "GET /profile: Authorization: DPoP and a fresh proof", [
            "Each request carries Authorization: DPoP <token> and a new proof for this method and URL, "
            "with ath, the hash of the token [^rfc9449-4.2]. The server checks the proof, that its key "
            "is the one cnf.jkt names, then the token as usual: one more signature check per request.",
        ], ExchangeBlock(r.profile, events=False), _proof_checks(r.profile), _checks(r.profile),
            predict="The client sends its token with a fresh proof."),
        step(4, "The stolen token, replayed from another machine as Bearer", [
            "The replay that gets 200 in demo jwt: a DPoP-bound token is refused as a bearer token "
            "[^rfc9449-7.2]; the challenge names the DPoP scheme and the algorithms it takes.",
        ], ExchangeBlock(r.bearer), Defences(["dpop"]),
            predict="Someone copied the token. They send it from another machine as Authorization: Bearer."),
        step(5, "The stolen token as DPoP, without a proof", [
            "Without the private key there is no proof to send: 401 (this server answers invalid_dpop_proof; "
            "RFC 9449 names no code for a missing proof) [^rfc9449-7.1].",
        ], ExchangeBlock(r.bare), predict="They send it as Authorization: DPoP, with no proof."),
        step(6, "A proof signed by the thief's own key", [
            "Anyone can sign a proof with a key of their own, and this one passes every check but the "
            "last: the token names another key's thumbprint (cnf.jkt), so invalid_token "
            "[^rfc9449-7.1].",
        ], ExchangeBlock(r.own, events=False), _proof_checks(r.own),
            predict="They make their own key pair and sign a proof with it."),
        step(7, "The proof captured in step 3, replayed", [
            "A proof seen on the wire (or in a log) names this method and URL and is still fresh "
            "(iat within the last minute), "
            "but its jti was used: the server remembers every jti while its proof could pass the iat "
            "check, in a bounded cache [^rfc9449-11.1].",
        ], ExchangeBlock(r.replayed, events=False), _proof_checks(r.replayed),
            predict="They replay the token together with the proof captured in step 3."),
    ]


def _recap(r: SimpleNamespace, steps: list[Step]) -> Step:
    spent = {"Bearer (step 4)": r.bearer, "no proof (step 5)": r.bare, "thief's key (step 6)": r.own,
             "replayed proof (step 7)": r.replayed}
    rows = [[what, f"{ex.response.status}", ex.response.header("WWW-Authenticate") or ""]
            for what, ex in spent.items()]
    checked = r.profile.event(TokenChecked) is not None
    return step(None, "Recap: what DPoP stops, and what it does not", [
        "A copy of the token alone is refused" + (", and the token's own checks still ran" if checked else "")
        + ". What DPoP does not stop: script injected into the page (XSS) signs fresh proofs with the "
        "client's key, even a non-extractable one [^rfc9449-11.4], and can make proofs for later "
        "[^rfc9449-11.2]; malware holding the key is the client. It is no substitute for TLS: without "
        "TLS a reader on the network still sees every request and answer.",
    ], Warnings(["The cost: one more signature check per request, and a jti cache, so the server "
                 "is no longer stateless (benchmarks/dpop.py measures the check)."]),
        TableBlock(Table("The copied token, four ways", ["try", "status", "WWW-Authenticate"], rows)),
        sequence(steps, None))
