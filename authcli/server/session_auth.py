"""Session-cookie authentication: /login creates a server-side record, the cookie carries its ID."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

from authcli.passwords import UserDirectory, demo_users
from authcli.server.cookies import (
    COOKIE_NAME, clear_cookie, new_session_id, read_session_cookie, set_cookie,
)
from authcli.server.journal import Event, Request, Response
from authcli.server.routes import Router, read_credentials, text
from authcli.stores.base import SessionStore

NO_STORE = ("Cache-Control", "no-store")

INDEX = """<!doctype html>
<meta charset="utf-8"><title>authcli session server</title>
<h1>authcli: session cookies</h1>
<p>Log in as <code>a@b.com</code> / <code>123</code>, then open <a href="/profile">/profile</a>.
Your browser stores the <code>sessionId</code> cookie and sends it back by itself.</p>
<form method="post" action="/login">
<input name="email" value="a@b.com"> <input name="password" type="password" value="123">
<button>POST /login</button></form>
<form method="post" action="/logout"><button>POST /logout</button></form>
"""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SessionAuth:
    """The handout's app.post('/login') and app.get('/profile'), done the way SECURITY.md asks."""

    mode = "session"

    def __init__(self, store: SessionStore, ttl: int, *, users: UserDirectory | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.ttl = ttl
        self.users = users or demo_users()
        self.clock = clock
        self.router = Router({
            "/login": {"POST": self.login},
            "/profile": {"GET": self.profile},
            "/logout": {"POST": self.logout},
        }, INDEX)

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def login(self, request: Request) -> Response:
        email, password = read_credentials(request)
        events: list[Event] = []
        user = self.users.check(email, password)
        if user is None:
            shown = email if email.isprintable() else repr(email)
            events.append(Event("credentials", f"{shown}: no user with this email and password "
                                "(checked against a salted scrypt hash, in constant time)"))
            return text(401, "Wrong credentials", events, [NO_STORE])
        events.append(Event("credentials", f"{email}: password matches the stored scrypt hash",
                            {"userId": user.user_id}))
        brought = read_session_cookie(request.header_values("Cookie")).session_id
        if brought is not None:
            # Session fixation: never adopt an ID the client chose; drop it if it was real.
            dropped = self.store.delete(brought)
            events.append(Event("fixation", f"the client brought {COOKIE_NAME}={brought}: not reused"
                                + (" (its old record was deleted)" if dropped else "")
                                + "; a new ID is issued"))
        session_id = new_session_id()
        now = self.clock()
        record = {"userId": user.user_id, "createdAt": iso(now), "expiresAt": iso(now + self.ttl)}
        self.store.create(session_id, record, self.ttl)
        events.append(Event("store.write", self.store.describe("write", session_id, record, self.ttl),
                            {"sessionId": session_id, "record": record, "ttl": self.ttl}))
        return text(200, "Logged in", events, [("Set-Cookie", set_cookie(session_id)), NO_STORE])

    def profile(self, request: Request) -> Response:
        events = self._ignored_query(request)
        lookup = read_session_cookie(request.header_values("Cookie"))
        if lookup.session_id is None:
            events.append(Event("cookie", f"{lookup.problem} -> 401"))
            return text(401, "Not logged in", events, [NO_STORE])
        session = self.store.get(lookup.session_id)
        if session is None:
            events.append(Event("store.read", self.store.describe("read", lookup.session_id)
                                + " (never issued, expired or logged out) -> 401",
                                {"sessionId": lookup.session_id, "found": False}))
            return text(401, "Not logged in", events, [NO_STORE])
        events.append(Event("store.read", self.store.describe("read", lookup.session_id, session),
                            {"sessionId": lookup.session_id, "found": True, "record": session}))
        return text(200, f"Welcome user {session['userId']}", events, [NO_STORE])

    def logout(self, request: Request) -> Response:
        lookup = read_session_cookie(request.header_values("Cookie"))
        if lookup.session_id is not None:
            deleted = self.store.delete(lookup.session_id)
            events = [Event("store.delete", self.store.describe("delete", lookup.session_id, deleted),
                            {"sessionId": lookup.session_id, "deleted": deleted})]
        else:
            events = [Event("store.delete", f"{lookup.problem}: no session to delete", {"deleted": False})]
        events.append(Event("cookie", "Set-Cookie with Max-Age=0 tells the browser to drop the cookie"))
        return text(200, "Logged out", events, [("Set-Cookie", clear_cookie()), NO_STORE])

    @staticmethod
    def _ignored_query(request: Request) -> list[Event]:
        if "?" in request.target and f"{COOKIE_NAME}=" in request.target.split("?", 1)[1]:
            return [Event("query", f"?{COOKIE_NAME}= in the URL is ignored: IDs are read only from "
                          "the Cookie header (URLs leak into logs, history and Referer)")]
        return []
