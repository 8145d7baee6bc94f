"""The JWT walkthrough: the handout's jwt.sign / Bearer / jwt.verify, each step from real traffic."""

from __future__ import annotations

import json
import time
from typing import Callable, Iterator

from authcli.client import ScriptedClient
from authcli.encoding import b64url
from authcli.errors import WalkthroughError
from authcli.http import Exchange
from authcli.passwords import ATTACKER_USER_ID as OTHER_USER_ID
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD, DEMO_USER_ID
from authcli.server.schemes.cookies import COOKIE_NAME, SESSION_ID_BYTES
from authcli.events import TokenChecked
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.lab.weaknesses import HANDOUT_SECRET
from authcli.timefmt import utc
from authcli.tokens.claims import TokenView, inspect
from authcli.tokens.keys import HASH_BYTES, SigningKey
from authcli.tokens.parse import TokenParts, split
from authcli.tokens.crack import wordlist
from authcli.tls import TlsFiles
from authcli.walkthroughs.common import Shown, expect, sequence
from authcli.walkthroughs.https import tls_step
from authcli.walkthroughs.model import (
    ChecksBlock, ClientStorage, Defences, ExchangeBlock, JarBlock, NothingStored, Sequence, Step, Table, TableBlock,
    TokenBlock, Wait, WalkthroughInfo, Warnings, step,
)
from authcli.clock import now as clock_now

INFO = WalkthroughInfo("jwt", "JWT: the token carries everything, the server stores nothing", 9)
DEFAULT_TTL = 3
EXPIRY_MARGIN = 0.05
ENCODED_NOT_ENCRYPTED = ("Header and payload are base64url: encoded, not encrypted; anyone with the "
                         "token can read them (try authcli decode). Only signing and verifying need a key.")


def _checks(exchange: Exchange) -> ChecksBlock:
    """The server's verdict on the token this exchange carried, check by check."""
    return ChecksBlock(list(exchange.event(TokenChecked).checks))


def _token(steps: list[Step]) -> TokenView:
    if steps[0].token is None:
        raise WalkthroughError("the login step shows no token")
    return steps[0].token


def _differences(part: str, issued: dict, sent: dict) -> list[list[str]]:
    """One row per claim (or header field) the attacker changed: only what differs."""
    return [[f"{part}: {name}", json.dumps(issued.get(name)), json.dumps(sent.get(name))]
            for name in dict.fromkeys([*issued, *sent]) if issued.get(name) != sent.get(name)]


def _changes(rows: list[list[str]]) -> Table:
    return Table("What the attacker changed", ["part", "issued by the server", "sent by the attacker"], rows)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jwt_walkthrough(key: SigningKey, ttl: int = DEFAULT_TTL, *,
                    clock: Callable[[], float] = clock_now,
                    sleep: Callable[[float], None] = time.sleep,
                    tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield the JWT demo's steps. The server lives exactly as long as the generator. `tls`:
    serve HTTPS with these files."""
    auth = JwtAuth(key, ttl, clock=clock)
    with AuthServer(auth, tls=tls.server_context() if tls else None) as server:
        client = ScriptedClient(server, ca=str(tls.ca) if tls else None)
        try:
            yield from _steps(server, auth, client, ttl, clock, sleep, tls)
        finally:
            client.close()


def _key_step(server: AuthServer, auth: JwtAuth, client: ScriptedClient, https: bool = False) -> Step:
    key = auth.key
    how = ("HMAC: one shared secret signs and verifies" if key.secret is not None else
           "a private key signs, its public key verifies")
    text = [f"authcli started an {'HTTPS' if https else 'HTTP'} server on {server.url} that signs tokens "
            f"with {key.alg} ({how})."]
    if https:
        text.append("What TLS adds to a bearer token: whoever holds the token is the user, so "
                    "anyone who can read the traffic could replay it; TLS encrypts every request, "
                    "so a passive reader on the network sees no token. What it does not do: a "
                    "script injected into the page (XSS) reads the token where the page keeps it, "
                    "before any encryption.")
    warnings: list[str] = []
    exchange = None
    if key.secret is not None:
        text[0] += " " + _secret_text(key)
        if key.weak:
            need = HASH_BYTES[key.alg[2:]]
            short = (f"{key.alg} needs a key at least as long as its hash, {need} bytes "
                     f"[^rfc7518-3.2]; this one is {len(key.secret)}. " if len(key.secret) < need else "")
            known = ("It is a secret people really use, and a password must never be an HMAC key "
                     "[^rfc8725-3.5]. " if key.known else "")
            warnings.append(f"WEAK SECRET: {short}{known}Anyone holding one token can test guesses "
                            "offline, as fast as their hardware allows, with no contact with the server; "
                            "once found, they can sign a token for any user. Use secrets.token_bytes(32), "
                            "kept out of the code.")
    else:
        exchange = expect(client.send("GET", "/.well-known/jwks.json"), 200, "JWKS")
        text.append(f"It generated an {key.alg} key pair at start. The private key signs and never "
                     "leaves the server; the public key only verifies, so it is published as a JWKS "
                     "(below, fetched over HTTP) for any other service that must check tokens.")
    return step(None, f"A real server on {server.url}", text, Warnings(warnings) if warnings else None,
                ExchangeBlock(exchange) if exchange else None, NothingStored())


def _secret_text(key: SigningKey) -> str:
    """What the HMAC secret really is: made here (random bits), or typed (then only its length
    and whether people really use it: a typed secret's entropy cannot be read off its length)."""
    if key.generated:
        size = HASH_BYTES[key.alg[2:]]
        return (f"Its secret: {len(key.secret)} characters from secrets.token_urlsafe({size}), {size} "
                f"random bytes, {size * 8} bits.")
    shown = key.secret.decode("utf-8", "replace")
    if key.known:
        what = f"in authcli's wordlist of secrets people really use (guess {wordlist().index(key.secret) + 1})"
        if key.secret == HANDOUT_SECRET:
            what = "the handout's, and " + what
    else:
        what = ("not in authcli's wordlist; how guessable it is depends on how it was made, which "
                "its length does not tell")
    return f"Its secret was typed on the command line: {shown!r}, {len(key.secret)} bytes, {what}."


def _steps(server: AuthServer, auth: JwtAuth, client: ScriptedClient, ttl: int,
           clock: Callable[[], float], sleep: Callable[[float], None],
           tls: TlsFiles | None = None) -> Iterator[Step]:
    # As in the session walkthrough, everything that needs the token alive runs as one burst
    # and is shown afterwards, so --step pauses cannot race the token's exp.
    shown = Shown()
    yield shown(_key_step(server, auth, client, tls is not None))
    if tls is not None:
        yield shown(tls_step(server, tls))
    # iat is the current second rounded down: log in early in a second, so the token really
    # has (almost) all of its ttl left for the steps that need it alive.
    if clock() % 1 > 0.1:  # start of a second: the whole burst fits even on a busy machine
        sleep(1 - clock() % 1)
    act = _first_act(client, auth)
    view = _token(act)
    token, exp = view.token, view.payload["exp"]
    yield from shown.all(act)

    left = exp - clock()
    expires_at = utc(exp)
    why = (f"Until exp ({expires_at}) anyone holding the token can use it."
           if left > 0 else f"exp ({expires_at}) already passed while the steps above were on screen.")
    yield shown(step(8, f"Waiting for exp ({ttl} s after login)", [
        why,
    ], Wait(max(left, 0.0) + EXPIRY_MARGIN, "token expires in")))
    if clock() < exp + EXPIRY_MARGIN:
        sleep(exp + EXPIRY_MARGIN - clock())

    expired = expect(client.send("GET", "/profile", headers=_bearer(token)), 401, "expired token")
    challenge = expired.response.header("WWW-Authenticate") or ""
    failed = expired.event(TokenChecked).failed
    if 'error="invalid_token"' not in challenge or failed != ["exp"]:
        raise WalkthroughError(f"expected only the exp check to fail after exp, got {failed}")
    yield shown(step(9, "After exp: the same token gets 401", [
        "The exp check now refuses the same token [^rfc7519-4.1.4]; invalid_token [^rfc6750-3.1] "
        "tells the client to get a new one.",
    ], ExchangeBlock(expired, events=False), _checks(expired), Defences(["exp-checked"]),
        predict="exp has passed. The client sends the same token again."))

    yield _recap(act, sequence(shown.steps, None))


def _first_act(client: ScriptedClient, auth: JwtAuth) -> list[Step]:
    """Steps 1-7: login, keep, use, tamper, alg none, logout, use after logout."""
    login = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
                    200, "login")
    token = json.loads(login.response.body)["token"]
    parts = split(token)
    # Dates without "in 2 seconds": the step text gives the lifetime, and a whole-second
    # NumericDate read a moment later would say 1 or 2 by chance.
    view = inspect(parts, None)
    steps = [step(1, "POST /login: the server signs a token", [
        "The handout's jwt.sign({ userId }, key, { expiresIn }): the payload below. In every demo "
        f"{DEMO_EMAIL} is userId {DEMO_USER_ID} (the handout's JWT example says 123). "
        + ENCODED_NOT_ENCRYPTED,
    ], ExchangeBlock(login), TokenBlock(view),
        predict=f"The client logs in ({DEMO_EMAIL} / {DEMO_PASSWORD}).")]

    steps.append(step(2, "The client keeps the token itself", [
        "The script keeps the token in a variable, outside any cookie jar: nothing sends it by "
        "itself. A browser app's localStorage: any page script reads it.",
    ], JarBlock(client.jar()), ClientStorage({"token": token})))

    profile = expect(client.send("GET", "/profile", headers=_bearer(token)), 200, "profile")
    steps.append(step(3, "GET /profile with Authorization: Bearer", [
        "Authorization: Bearer <token> (the handout's axios line); jwt.verify's checks:",
    ], ExchangeBlock(profile, events=False), _checks(profile),
        predict="The client sends its token as Authorization: Bearer."))

    steps += _forgeries(client, parts, auth.key.known)

    logout = expect(client.send("POST", "/logout", headers=_bearer(token)), 200, "logout")
    steps.append(step(6, "POST /logout: the server has nothing to delete", [
        "The client drops its copy: that is all logout can do without server state.",
    ], ExchangeBlock(logout), predict="The client logs out."))

    after = expect(client.send("GET", "/profile", headers=_bearer(token)), 200, "profile after logout")
    steps.append(step(7, "The logged-out token still works", [
        "A copy taken before logout works until exp; revoking it early needs state checked on every "
        "request (a jti denylist [^rfc7519-4.1.7], demo refresh).",
    ], ExchangeBlock(after),
        predict="The client logged out. Someone who copied its token sends it. Does it still work?"))
    return steps


def _forgeries(client: ScriptedClient, parts: TokenParts, guessable: bool = False,
               carry: Callable[[str], dict[str, str]] = _bearer) -> list[Step]:
    """Steps 4-5: the payload changed under the old signature, then the same with alg none.
    `carry`: the headers a token travels in (Bearer; a cookie for demo jwt --cookie)."""
    steps = []
    forged_payload = {**parts.payload, "sub": str(OTHER_USER_ID), "userId": OTHER_USER_ID}
    forged_b64 = b64url(json.dumps(forged_payload, separators=(",", ":")).encode())
    tampered_token = f"{parts.header_b64}.{forged_b64}.{parts.signature_b64}"
    tampered = expect(client.send("GET", "/profile", headers=carry(tampered_token)), 401, "tampered token")
    steps.append(step(4, "A tampered token: payload changed, signature kept", [
        f"Anyone can edit the payload (userId {DEMO_USER_ID} becomes {OTHER_USER_ID}) and keep the "
        "signature; without the key nobody can make one that fits the new bytes." + (
            " (This run's key is a known secret: with `authcli crack`, anyone could.)" if guessable else ""),
    ], ExchangeBlock(tampered, events=False), _checks(tampered), TableBlock(_changes(
        _differences("payload", parts.payload, forged_payload)
        + [["signature", parts.signature_b64, "the same, kept"]])), Defences(["signature-check"]),
        predict=f"The client edits the payload (userId {DEMO_USER_ID} becomes {OTHER_USER_ID}) and "
                "keeps the signature."))

    none_header = b64url(json.dumps({"alg": "none", "typ": "JWT"}, separators=(",", ":")).encode())
    none_token = f"{none_header}.{forged_b64}."
    unsigned = expect(client.send("GET", "/profile", headers=carry(none_token)), 401, "alg none")
    steps.append(step(5, "alg: none, an unsigned token", [
        "The same payload, with header {\"alg\": \"none\"} and no signature: a library that let "
        "the token pick its algorithm would skip the check [^rfc8725-3.1].",
    ], ExchangeBlock(unsigned, events=False), _checks(unsigned), TableBlock(_changes(
        _differences("header", parts.header, {"alg": "none", "typ": "JWT"})
        + [["payload", "", "the edits of step 4"], ["signature", parts.signature_b64, "(empty)"]])),
        Defences(["alg-allowlist"]),
        predict='The client sends the edited payload with header {"alg": "none"} and no signature.'))

    return steps


def _recap(act: list[Step], traffic: Sequence) -> Step:
    view = _token(act)
    token = view.token
    bearer_bytes = len(f"Authorization: Bearer {token}")
    cookie_bytes = len(f"Cookie: {COOKIE_NAME}=") + len(b64url(bytes(SESSION_ID_BYTES)))
    return step(None, "Recap", [], TableBlock(Table("The handout's table, JWT column, as this run observed it",
                                                    ["", "JWT"], [
            ["Data stored in", "On the client, in the token (readable by anyone holding it)"],
            ["Auth sent via", f"Authorization: Bearer, {bearer_bytes} bytes (a session cookie is {cookie_bytes})"],
            ["Server checks", "With the key alone: forged or expired -> 401 (steps 4, 5, 9)"],
            ["Scaling", "Any server with the key verifies; logout cannot revoke a token"],
        ])), traffic)
