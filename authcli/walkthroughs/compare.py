"""The handout's closing table, live: the session flow, the JWT flow and the JWT-in-a-cookie flow
run back to back, then every cell is filled from what the runs observed."""

from __future__ import annotations

import json
import time
from typing import Callable, Iterator

from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.events import SessionCreated, TokenChecked
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.stores.base import SessionStore
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.jwt import jwt_walkthrough
from authcli.walkthroughs.model import ExchangeBlock, Sequence, Step, Table, TableBlock, WalkthroughInfo, step
from authcli.walkthroughs.session import session_walkthrough
from authcli.walkthroughs.compare_cookie import cookie_steps, with_cookie_column
from authcli.walkthroughs.jwt_cookie import jwt_cookie_walkthrough
from authcli import clock

INFO = WalkthroughInfo("compare", "Sessions vs JWT: the handout's table, filled in by real runs")
TTL = 2  # 1 s left a busy machine (Argon2id logins at load 10) too little: tokens expired mid-burst


def _by_number(steps: list[Step]) -> dict[int, Exchange]:
    return {s.number: s.exchange for s in steps if s.number is not None and s.exchange is not None}


def _jwt_restart(key) -> tuple[Exchange, Exchange]:
    """Log in on one JWT server, stop it, ask a brand-new one with the same key."""
    from authcli.client import ScriptedClient

    with AuthServer(JwtAuth(key, 60)) as first:
        client = ScriptedClient(first)
        login = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
                       200, "login before the restart")
        client.close()
    token = json.loads(login.response.body)["token"]
    with AuthServer(JwtAuth(key, 60)) as second:
        client = ScriptedClient(second)
        after = expect(client.send("GET", "/profile", headers={"Authorization": f"Bearer {token}"}),
                       200, "the token on a new server")
        client.close()
    return login, after


def _check_costs(budget: float) -> tuple[float, float]:
    """Microseconds: one memory-store lookup, one HS256 verification (the server's own code)."""
    from authcli.bench import time_per_call
    from authcli.server.schemes.cookies import new_session_id
    from authcli.stores.memory import MemoryStore
    from authcli.tokens.checks import verify
    from authcli.tokens.parse import split
    from authcli.tokens.signing import issue

    store, sid = MemoryStore(), new_session_id()
    store.create(sid, {"userId": 1, "createdAt": "-", "expiresAt": "-"}, 3600)
    key = make_signing_key("HS256")
    now = int(clock.now())
    token = issue(key, {"sub": "1", "iat": now, "exp": now + 3600})
    lookup = time_per_call(lambda: store.get(sid), budget)
    check = time_per_call(lambda: verify(split(token), key.verify, now=clock.now(), require=("exp", "iat", "sub")),
                          budget)
    return lookup, check


def compare_walkthrough(*, make_store: Callable[[], SessionStore] | None = None,
                        budget: float = 0.2) -> Iterator[Step]:
    """Yield: what ran, then the table. The sessions' own demo runs first, then the JWT one."""
    yield step(None, "Real runs, one table", [
        "authcli runs the session demo, the JWT demo and the JWT demo with --cookie (the handout's "
        "other place for the token) back to back on real local servers (with "
        f"{TTL} s lifetimes, so expiry is quick), then fills the handout's closing table with "
        "what those runs observed: where the data was, what each request carried, what the "
        "server checked, and what a restart did.",
    ])
    session = list(session_walkthrough(TTL, make_store=make_store, sleep=time.sleep))
    jwt = list(jwt_walkthrough(make_signing_key("HS256"), TTL))
    in_cookie = list(jwt_cookie_walkthrough(make_signing_key("HS256"), TTL))
    s, j = _by_number(session), _by_number(jwt)
    created = s[2].event(SessionCreated)
    cookie = s[4].request.header("Cookie") or ""
    bearer = j[3].request.header("Authorization") or ""
    token_checks = j[3].event(TokenChecked)
    jwt_login, jwt_after_restart = _jwt_restart(make_signing_key("HS256"))
    lookup_us, verify_us = _check_costs(budget)
    yield step(None, "What the two runs saw", [
        f"Sessions: login stored {json.dumps(created.record)} on the server under a random ID; every "
        f"later request sent only that ID ({len('Cookie: ' + cookie)} bytes); the server looked it "
        f"up: found (step 4: {s[4].response.status}), expired (step 7: {s[7].response.status}), "
        f"deleted by logout (step 10: {s[10].response.status}).",
        f"JWT: login returned a token; every request sent all of it ({len('Authorization: ' + bearer)} "
        f"bytes); the server checked {', '.join(c.name for c in token_checks.checks)} and stored nothing "
        f"(step 3: {j[3].response.status}); tampered (step 4: {j[4].response.status}); after logout "
        f"it still worked (step 7: {j[7].response.status}); after exp it did not (step 9: "
        f"{j[9].response.status}).",
        "The two runs' traffic, session demo first, then the JWT demo:",
    ], session[-1].first(Sequence), jwt[-1].first(Sequence))
    yield step(None, "JWT: log in on one server, use the token on a new one", [
        "One more run, for the table's last row: a JWT server signs a token at login and stops; a "
        "brand-new server holding the same key (and nothing else) gets the token.",
    ], ExchangeBlock(jwt_login), ExchangeBlock(jwt_after_restart))
    extra, restarted = cookie_steps(in_cookie)
    yield from extra
    rows = [
        ["Data stored in", f"Server: {len(json.dumps(created.record))} bytes of JSON per session, under "
                           "its random ID",
         "Token (client side): the payload travels with every request, readable by whoever sees it"],
        ["Auth sent via", f"Cookie, added by the jar: {len('Cookie: ' + cookie)} bytes",
         f"Authorization: Bearer, added by the client: {len('Authorization: ' + bearer)} bytes"],
        ["Server checks", f"Session ID in store: an in-memory lookup, {lookup_us:.1f} µs here "
                          "(a shared store adds a network round trip)",
         f"Signature with the key (and exp, iat, sub): {verify_us:.1f} µs here"],
        ["Scaling", f"After a restart the memory session was gone ({s[12].response.status}, step 12 "
                    "of the session demo): servers must share a store (pinning a client to one "
                    "server does not survive its restart)",
         f"After a restart a new server with the same key accepted the token "
         f"({jwt_after_restart.response.status}): any server with the key verifies"],
        ["Logout", f"Deleted the record: the old cookie got {s[10].response.status}",
         f"Nothing to delete: the old token still got {j[7].response.status} until exp"],
    ]
    rows = with_cookie_column(rows, in_cookie, restarted, verify_us)
    yield step(None, "The handout's table, observed", [
        "Each cell below comes from the three runs just made (the check costs were measured now, on "
        "this machine, with the server's own code: a median of 5 batches).",
    ], TableBlock(Table("Sessions vs JWT", ["", "Sessions", "JWT", "JWT in a cookie"], rows)))
