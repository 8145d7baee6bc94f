"""An exercise's admin-only route: GET /admin answers user 1 with this run's flag, anyone else 403.

It wraps a lab server (weak or hardened) without changing how it verifies: /admin is checked
exactly as /profile is, by the same code and policy, and only then asks who the user is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authcli.events import Refused, SessionLookedUp, TokenChecked
from authcli.server.journal import Request, Response
from authcli.server.routes import NO_STORE, text

ADMIN_PATH = "/admin"
ADMIN_ID = "1"  # the lab's user 1, a@b.com: the account the attacker wants to be


def user_of(events: list) -> str | None:
    """Who a /profile answer let in: the verified token's sub, or the session record's userId."""
    for event in events:
        if isinstance(event, TokenChecked) and event.payload is not None:
            return str(event.payload.get("sub"))
        if isinstance(event, SessionLookedUp) and event.record is not None:
            return str(event.record.get("userId"))
    return None


class WithAdmin:
    """`app` plus GET /admin. Every other request, and every attribute, is the wrapped app's."""

    def __init__(self, app: Any, flag: str):
        self.app = app
        self.flag = flag

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def handle(self, request: Request) -> Response:
        if request.path != ADMIN_PATH:
            return self.app.handle(request)
        if request.method != "GET":
            return text(405, "Method not allowed: /admin takes GET", [Refused("/admin takes GET -> 405")],
                        [("Allow", "GET")])
        answer = self.app.handle(replace(request, target="/profile" + request.target[len(ADMIN_PATH):]))
        if answer.status != 200:
            return answer
        user = user_of(answer.events)
        if user != ADMIN_ID:
            return text(403, f"Admins only: you are user {user}, and only user {ADMIN_ID} is an admin",
                        [*answer.events, Refused(f"user {user} is not an admin -> 403")], [NO_STORE])
        return text(200, f"Welcome, admin (user {ADMIN_ID}). This run's flag: {self.flag}", answer.events,
                    [NO_STORE])

    def slow(self, request: Request) -> bool:
        if request.path == ADMIN_PATH:  # verified as /profile is: on a worker where /profile would be
            return self.app.slow(replace(request, target="/profile"))
        return self.app.slow(request)
