"""The idle timeout beside the absolute one: a quiet session dies early, a busy one lives until
its absolute limit and not a second longer."""

from __future__ import annotations

from typing import Callable

from authcli.client import ScriptedClient
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.transport.httpd import AuthServer
from authcli.stores.base import SessionStore
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import Defences, ExchangeBlock, Step, StoreBlock, Table, TableBlock, step

MARGIN = 0.05
CREDS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


def idle_steps(server: AuthServer, store: SessionStore, ttl: int, idle: int, clock: Callable[[], float],
               sleep: Callable[[float], None], ca: str | None = None) -> list[Step]:
    """Two logins at once; A goes quiet, B asks for /profile every idle/2 seconds until its
    absolute limit. Runs as one burst; the steps are shown afterwards."""
    quiet, busy = ScriptedClient(server, ca=ca), ScriptedClient(server, ca=ca)
    try:
        expect(quiet.send("POST", "/login", json=CREDS), 200, "A's login")
        expect(busy.send("POST", "/login", json=CREDS), 200, "B's login")
        start, polls, died, store_then, died_at = clock(), [], None, None, 0.0
        while True:
            # The poll that would pass B's absolute deadline is made just after it instead: the
            # record is then still in the store (its TTL is whole seconds from the last poll), so
            # the answer is always the absolute timeout's, never the store's own expiry.
            wait = idle / 2
            if clock() + wait > start + ttl:
                wait = max(0.0, start + ttl + MARGIN - clock())
            sleep(wait)
            answer = busy.send("GET", "/profile")
            polls.append((clock() - start, answer))
            if died is None and clock() - start > idle + MARGIN:
                died = expect(quiet.send("GET", "/profile"), 401, "A after its idle timeout")
                store_then, died_at = store.snapshot(), clock() - start
            if answer.response.status != 200:
                break
            if clock() - start > ttl + 2 * idle:
                break
    finally:
        quiet.close()
        busy.close()
    last = expect(polls[-1][1], 401, "B after its absolute limit")
    rows = [[f"{t:.1f} s", f"{ex.response.status} {ex.response.reason}"] for t, ex in polls]
    return [
        step(None, f"Idle timeout ({idle} s): A goes quiet, B keeps asking", [
            f"Two logins, one right after the other. A sends nothing for more than {idle} s: its next request "
            "finds the session ended and the record deleted. B asks for /profile every "
            f"{idle / 2:g} s; each request slides B's idle deadline, never its absolute one.",
        ], ExchangeBlock(died), StoreBlock(store_then, f"right after A's request, {died_at:.1f} s in"), Defences(["idle-timeout"]),
            TableBlock(Table("B's requests, seconds after login", ["when", "answer"], rows)),
            predict=f"A has been quiet for more than {idle} s and asks for /profile."),
        step(None, f"B reaches the absolute limit ({ttl} s)", [
            f"However busy, B's session ends {ttl} s after login: the idle timeout ends abandoned "
            "sessions early; the absolute timeout bounds how long a stolen cookie can work, however "
            "busy the thief keeps it [^owasp-session-expiration].",
        ], ExchangeBlock(last), predict=f"B, busy all along, asks again after {ttl} s."),
    ]
