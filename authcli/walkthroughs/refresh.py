"""The refresh walkthrough: what real systems do about "a logged-out token still works".

Short-lived access tokens, rotating refresh tokens with reuse detection, and a jti denylist,
on one real server whose refresh records and denylist live in the store --store names.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Callable, Iterator

from authcli.client import ScriptedClient
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.refresh_auth import REFRESH_TTL, RefreshAuth
from authcli.stores.base import SessionStore
from authcli.stores.memory import MemoryStore
from authcli.tokens.checks import verify
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.errors import WalkthroughError
from authcli.events import DenylistChecked
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import (
    Defences, ExchangeBlock, Step, StoreBlock, Table, TableBlock, Wait, WalkthroughInfo, step,
)
from authcli.clock import now as clock_now

INFO = WalkthroughInfo("refresh", "Refresh tokens, rotation and a denylist: revoking a JWT", 9)
DEFAULT_TTL = 2
EXPIRY_MARGIN = 0.05
CREDS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
ROUNDS, PER_ROUND = 7, 300


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tokens(exchange: Exchange) -> tuple[str, str]:
    body = json.loads(exchange.response.body)
    return body["access_token"], body["refresh_token"]


def refresh_walkthrough(ttl: int = DEFAULT_TTL, *, make_store: Callable[[], SessionStore] | None = None,
                        clock: Callable[[], float] = clock_now,
                        sleep: Callable[[float], None] = time.sleep) -> Iterator[Step]:
    """Yield the refresh demo's steps. The server lives exactly as long as the generator."""
    store = (make_store or (lambda: MemoryStore(clock=clock)))()
    auth = RefreshAuth(make_signing_key("HS256"), store, ttl, clock=clock)
    try:
        with AuthServer(auth) as server:
            client, thief = ScriptedClient(server), ScriptedClient(server)
            try:
                yield from _steps(server, auth, client, thief, ttl, clock, sleep)
            finally:
                client.close()
                thief.close()
    finally:
        store.close()


def _steps(server: AuthServer, auth: RefreshAuth, client: ScriptedClient, thief: ScriptedClient, ttl: int,
           clock: Callable[[], float], sleep: Callable[[float], None]) -> Iterator[Step]:
    store = auth.store
    yield step(None, f"A real server on {server.url}", [
        f"Access tokens live {ttl} s here, refresh tokens {REFRESH_TTL // 60} minutes; refresh records "
        f"and the denylist are server state again ({store.facts.label}), the price of revoking.",
    ], StoreBlock(store.snapshot()))
    # iat is the current second rounded down: log in at the start of a second, so the access
    # token really has (almost) all of its few seconds for steps 1 and 2, even on a busy machine.
    if clock() % 1 > 0.1:
        sleep(1 - clock() % 1)
    login = expect(client.send("POST", "/login", json=CREDS), 200, "login")
    access, refresh = _tokens(login)
    used = expect(client.send("GET", "/profile", headers=_bearer(access)), 200, "profile")
    yield step(1, "Log in: a short-lived access token and a refresh token", [
        f"The access token is a JWT that lives {ttl} s; the refresh token is 32 random bytes, stored "
        "only as a SHA-256, with the login's family. An attacker copies the refresh token now "
        "(step 5 uses it).",
    ], ExchangeBlock(login), StoreBlock(store.snapshot()),
        predict="The client logs in.")
    yield step(2, "GET /profile: the signature, then one store lookup", [
        "The token verifies; then the server asks its store whether this jti was revoked.",
    ], ExchangeBlock(used), predict="The client calls /profile with the access token.")
    exp = split(access).payload["exp"]
    yield step(3, f"Waiting for the access token's exp ({ttl} s)", [
        "Short-lived access tokens limit the damage of a stolen one without any lookup: it stops "
        "passing the exp check within seconds [^rfc7519-4.1.4].",
    ], Wait(max(exp - clock(), 0.0) + EXPIRY_MARGIN, "access token expires in"))
    if clock() < exp + EXPIRY_MARGIN:
        sleep(exp + EXPIRY_MARGIN - clock())
    yield from _rotation(client, thief, store, access, refresh)
    logout = list(_logout(client, thief, store))
    yield from logout
    cost = _cost(auth, access)
    yield cost
    yield _recap(logout[-1].exchange, cost.tables[0], store.facts.label)


def _rotation(client: ScriptedClient, thief: ScriptedClient, store, access: str, stolen: str) -> Iterator[Step]:
    expired = expect(client.send("GET", "/profile", headers=_bearer(access)), 401, "expired access token")
    rotated = expect(client.send("POST", "/refresh", json={"refresh_token": stolen}), 200, "refresh")
    live_access, newest = _tokens(rotated)
    after_rotation = store.snapshot()
    reuse = expect(thief.send("POST", "/refresh", json={"refresh_token": stolen}, fresh=True), 401, "reuse")
    after_reuse = store.snapshot()
    dead = expect(client.send("POST", "/refresh", json={"refresh_token": newest}), 401, "revoked family")
    # The access token issued at rotation has not expired: the denylist is what refuses it.
    denied = expect(client.send("GET", "/profile", headers=_bearer(live_access)), 401, "denylisted access token")
    if not any(e.listed for e in denied.events(DenylistChecked)):
        raise WalkthroughError("expected the denylist to refuse the family's access token")
    yield step(4, "After exp: 401, then POST /refresh rotates", [
        "The access token expired: 401. The client trades its refresh token for a new pair "
        "(rotation): a copy of the old one is now worthless, or a tripwire.",
    ], ExchangeBlock(expired), ExchangeBlock(rotated), StoreBlock(after_rotation),
        predict="The access token expired. The client calls /profile, then POST /refresh.")
    yield step(5, "The attacker replays the copied refresh token: reuse detected", [
        "A rotated refresh token coming back means two parties hold it, and the server cannot tell "
        "which is the user. RFC 9700 asks to revoke the active refresh token [^rfc9700-4.14.2]; "
        "this server revokes the whole family.",
    ], ExchangeBlock(reuse), StoreBlock(after_reuse), Defences(["refresh-rotation"]),
        predict="The attacker sends the refresh token copied in step 1.")
    yield step(6, "The user's newest tokens are dead too", [
        "The family is revoked, so the user's newest refresh token fails too (the user logs in "
        "again; the attacker's copy is dead). The access token from step 4 is unexpired and "
        "validly signed: the denylist refuses it.",
    ], ExchangeBlock(dead), ExchangeBlock(denied),
        predict="The client refreshes with its newest refresh token, then calls /profile with its "
                "newest access token.")


def _logout(client: ScriptedClient, thief: ScriptedClient, store) -> Iterator[Step]:
    login = expect(client.send("POST", "/login", json=CREDS), 200, "login again")
    access, refresh = _tokens(login)
    bye = expect(client.send("POST", "/logout", json={"refresh_token": refresh}, headers=_bearer(access)),
                 200, "logout")
    after = store.snapshot()
    replay = expect(thief.send("GET", "/profile", headers=_bearer(access), fresh=True), 401, "denylisted token")
    yield step(7, "Log in again, then log out: revoke the family, denylist the jti", [
        "Logout revokes the family and denylists its access tokens' jti, each entry kept only "
        "until the token's exp [^rfc7519-4.1.4].",
    ], ExchangeBlock(login), ExchangeBlock(bye), StoreBlock(after),
        predict="The client logs in again and logs out.")
    yield step(8, "The copied access token after logout: 401", [
        "In demo jwt this replay got 200 until exp; here the server remembers its jti.",
    ], ExchangeBlock(replay), Defences(["jti-denylist"]),
        predict="Someone replays the access token copied before logout.")


def _cost(auth: RefreshAuth, token: str) -> Step:
    """The denylist's price, measured: verify alone, against verify plus one store lookup, the
    same token and the same prepared key, rounds interleaved."""
    parts, key, store = split(token), auth.verify_key, auth.store
    jti = parts.payload["jti"]
    now = parts.payload["iat"]
    plain, listed = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            verify(parts, key, now=now)
        plain.append((time.perf_counter() - start) / PER_ROUND * 1e6)
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            verify(parts, key, now=now)
            store.get(f"deny:{jti}")
        listed.append((time.perf_counter() - start) / PER_ROUND * 1e6)
    rows = [["verify the signature and claims", _spread(plain)],
            [f"the same, plus one denylist lookup in {store.facts.label}", _spread(listed)]]
    extra = statistics.median(listed) - statistics.median(plain)
    if min(listed) > max(plain):  # a difference only when every round shows it
        said = f"the lookup adds about {extra:.1f} µs to every request, on top of the signature check"
    else:
        said = ("the rounds overlap: on this machine the lookup is lost in the noise of the "
                "signature check itself")
    return step(9, "What the denylist costs", [
        f"{ROUNDS} interleaved rounds of {PER_ROUND}, the same token and key: {said}. With Redis the "
        "lookup is a network round trip.",
    ], TableBlock(Table("Cost per request (median and range of the rounds)", ["check", "time"], rows)))


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} µs ({min(values):.1f}-{max(values):.1f})"


def _recap(replay: Exchange, cost: Table, label: str) -> Step:
    """Three designs: the middle column from this run, the others from demo jwt and demo session."""
    measured = cost.rows[1][1].split(" ")[0]  # the median, before its unit and range
    rows = [
        ["revoking", "not before exp", f"{replay.response.status} after logout", "at once (logout)"],
        ["server state", "none", "records, denylist", "one record each"],
        ["per request", "a signature check", f"+ a lookup: {measured} µs", "one lookup"],
        ["if stolen", "works until exp", "until exp or logout", "until logout"],
    ]
    return step(None, "Recap: three designs", [
        "Short access tokens limit a stolen one with no lookup; rotation turns a stolen refresh "
        "token into a tripwire; the denylist makes logout immediate, for one lookup per request.",
    ], TableBlock(Table(f"Revocation (this run: steps 8 and 9; refresh and denylist in {label})",
                        ["", "stateless JWT", "refresh + denylist", "server sessions"], rows)))
