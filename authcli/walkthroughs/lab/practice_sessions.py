"""The session labs' exercise servers, and what user 1 (the victim, played by the exercise) does
on each before the student starts: log in, and for some labs log out or let the cookie age.

A session story runs once per server, as in the lab: the hardened server's user 1 does the same,
so the replay shows the hardened server refusing the same move, not an ID it never issued.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authcli.client import ScriptedClient
from authcli.passwords import DEMO_EMAIL
from authcli.server.lab.weaknesses import Weakness, session_policy
from authcli.stores.memory import MemoryStore

SHORT_TTL = 1  # no-server-expiry: the session's lifetime, waited out once at the start
TTL = 900


def session_apps(w: Weakness, users: Any) -> tuple[Any, Any]:
    """The weak server and the hardened one. A counter server starts at a random number, so an
    ID guessed in one run names nobody in the next."""
    from authcli.server.schemes.session_auth import SessionAuth

    ttl = SHORT_TTL if w.name == "no-server-expiry" else TTL
    start = 1001 + secrets.randbelow(10 ** 6)
    return (SessionAuth(MemoryStore(), ttl, policy=session_policy([w]), users=users, weak=(w.name,),
                        first_id=start),
            SessionAuth(MemoryStore(), ttl, users=users))


def _cookie(exchange) -> str:
    header = exchange.response.header("Set-Cookie") or ""
    return header.split(";", 1)[0].partition("=")[2]


def victim(name: str, servers: tuple[Any, Any], password: str) -> tuple[str | None, str | None]:
    """User 1's moves on each server; what the student is handed from each (a copied cookie),
    or None when the lab hands nothing over."""
    copies = []
    if name in ("no-rate-limit", "user-enum", "fixation"):  # user 1 does nothing yet: the student starts
        return None, None
    for server in servers:
        client = ScriptedClient(server)
        try:
            copy = _cookie(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": password}))
            if name == "logout-cookie-only":
                client.send("POST", "/logout")
        finally:
            client.close()
        copies.append(copy)
    if name == "no-server-expiry":
        time.sleep(SHORT_TTL + 0.2)  # the cookie's Max-Age really passes, once for both servers
    if name == "predictable-id":
        return None, None
    return copies[0], copies[1]


def candidates() -> list[str]:
    """The user-enum exercise's twenty emails: the lab's list, without user 1's (always there)."""
    from authcli.walkthroughs.lab.logins import EMAILS

    return [e for e in EMAILS if e != DEMO_EMAIL] + ["ceo@b.com"]


def accounts(first_id: int) -> list[Any]:
    """3 to 8 of the candidates, drawn for this run, each with a random password: an answer from
    another run names other accounts."""
    from authcli.passwords import User, hash_password

    pool = candidates()
    chosen = sorted(secrets.SystemRandom().sample(pool, 3 + secrets.randbelow(6)), key=pool.index)
    return [User(email, first_id + n, hash_password(secrets.token_urlsafe(24))) for n, email in enumerate(chosen)]


def logs_in_carrying(server: Any, session_id: str, password: str) -> int:
    """User 1 (fixation's victim), whose browser carries the planted cookie, logs in: the status."""
    client = ScriptedClient(server)
    try:
        return client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": password},
                           headers={"Cookie": f"sessionId={session_id}"}).response.status
    finally:
        client.close()
