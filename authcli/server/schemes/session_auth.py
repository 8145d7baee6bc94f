"""Session-cookie authentication: /login creates a server-side record, the cookie carries its ID."""

from __future__ import annotations

import calendar
import functools
import itertools
import math
import time
from dataclasses import replace
from typing import Callable
from urllib.parse import parse_qs

from authcli.passwords import HashBound, UserDirectory, demo_users
from authcli.server.schemes.cookies import (
    CookieLookup, check_session_id, clear_cookie, new_session_id, read_session_cookie, set_cookie,
)
from authcli.events import (
    CookieCleared, CookieRefused, CredentialsChecked, Event, FixationChecked, QueryIgnored,
    SessionCreated, SessionDeleted, SessionLookedUp,
)
from authcli.server.journal import Request, Response
from authcli.server.policy import HARDENED_SESSIONS, SessionPolicy
from authcli.server.throttle import LoginThrottle, client_address, gate
from authcli.server.routes import NO_STORE, Router, page, read_credentials, refuse_cross_site, text
from authcli.stores.base import SessionStore, overwrite
from authcli.timefmt import iso
from authcli.clock import now as clock_now

HASH_NOTE = "(checked against a salted Argon2id hash, in constant time)"
# With SessionPolicy.server_expiry off, the store keeps a record this long: in effect, forever.
FOREVER = 10 * 365 * 24 * 3600


class SessionAuth:
    """The handout's app.post('/login') and app.get('/profile'), done the way OWASP's session cheat sheet asks.

    Every security decision reads `policy`; `ttl` is a shortcut for `policy.ttl`.
    """

    mode = "session"

    def __init__(self, store: SessionStore, ttl: int | None = None, *,
                 policy: SessionPolicy = HARDENED_SESSIONS, users: UserDirectory | None = None,
                 clock: Callable[[], float] = clock_now, weak: tuple[str, ...] = (),
                 hashing: HashBound | None = None, first_id: int = 1001):
        """`first_id`: where a counter policy (the lab's predictable-id) starts counting."""
        self.store = store
        self.policy = policy if ttl is None else replace(policy, ttl=ttl)
        self.weak = weak  # the attack lab's names for this policy's mistakes (X-Authcli-Weak)
        self._counter = itertools.count(first_id)
        self.users = users or demo_users()
        self.hashing = hashing or HashBound()  # this server's logins queue only behind each other
        self.clock = clock
        limits = self.policy.login_limits
        self.throttle = LoginThrottle(limits, clock) if limits is not None else None
        self.router = Router({
            "/login": {"POST": self.login},
            "/profile": {"GET": self.profile},
            "/logout": {"POST": self.logout},
            "/session/record": {"GET": self.record_view},
        }, page("session.html"), {"/common.js": "common.js", "/session.js": "session.js", "/style.css": "style.css"})

    @property
    def ttl(self) -> int:
        return self.policy.ttl

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def warm(self) -> None:
        """First-use work, done before the server listens (time.strptime imports a module on its
        first call): none of it then runs inside a request, against a session's short lifetime."""
        stamp_seconds("2026-01-01T00:00:00Z")

    def slow(self, request: Request) -> bool:
        return self.router.slow(request)

    def login(self, request: Request) -> Response:
        if self.policy.refuse_cross_site:
            refuse_cross_site(request)
        email, password = read_credentials(request, self.policy.login_content_types)
        events: list[Event] = []
        refused = gate(self.throttle, email, request) or self._unknown(email)
        if refused is not None:
            return refused
        user = self.users.check(email, password, self.hashing)
        if user is None:
            return self._wrong(email, request)
        if self.throttle is not None:
            self.throttle.succeeded(email, client_address(request))
        events.append(CredentialsChecked(f"{email}: password matches the stored Argon2id hash",
                                         user_id=user.user_id))
        session_id = self._fixation(request, events) or self._new_id()
        now = self.clock()
        record = {"userId": user.user_id, "createdAt": iso(now), "expiresAt": iso(now + self.ttl)}
        if self.policy.idle is not None:  # the idle clock needs better than whole seconds
            record = {"userId": user.user_id, "createdAt": _iso_ms(now), "expiresAt": _iso_ms(now + self.ttl),
                      "lastSeenAt": _iso_ms(now)}
        # Without server-side expiry the record outlives the cookie: only Max-Age ends it, and
        # only in clients that obey it.
        kept = self.ttl if self.policy.server_expiry else FOREVER
        max_age = None if self.policy.server_expiry else self.ttl
        self.store.create(session_id, record, kept)
        events.append(SessionCreated(self.store.describe("write", session_id, record, kept),
                                     session_id=session_id, record=record, ttl=kept))
        return text(200, "Logged in", events,
                    [("Set-Cookie", set_cookie(session_id, self.policy, max_age)), NO_STORE])

    def _unknown(self, email: str) -> Response | None:
        """The lab's username enumeration: an unknown email answered at once, in its own words."""
        if not self.policy.name_unknown_email or self.users.has(email):
            return None
        shown = email if email.isprintable() else repr(email)
        return text(401, "No user with this email", [CredentialsChecked(f"{shown}: no such user (not hashed)")],
                    [NO_STORE])

    def _wrong(self, email: str, request: Request) -> Response:
        shown = email if email.isprintable() else repr(email)
        if self.throttle is not None:
            self.throttle.failed(email, client_address(request))
        if self.policy.name_unknown_email:
            return text(401, "Wrong password", [CredentialsChecked(f"{shown}: wrong password {HASH_NOTE}")],
                        [NO_STORE])
        return text(401, "Wrong credentials",
                    [CredentialsChecked(f"{shown}: no user with this email and password {HASH_NOTE}")], [NO_STORE])

    def _new_id(self) -> str:
        if self.policy.id_source == "counter":
            return str(next(self._counter))  # the lab's mistake: the next ID is one more
        return new_session_id(self.policy)

    def _fixation(self, request: Request, events: list[Event]) -> str | None:
        """The ID the client brought, when the policy adopts it; None means issue a new one."""
        brought = read_session_cookie(request.header_values("Cookie"), self.policy).session_id
        if brought is None:
            return None
        name = self.policy.cookie.name
        if self.policy.adopt_client_id:
            events.append(FixationChecked(f"the client brought {name}={brought}: ADOPTED as the new "
                                          "session's ID (session fixation)"))
            self.store.delete(brought)
            return brought
        # Session fixation: never adopt an ID the client chose; drop it if it was real.
        dropped = self.store.delete(brought)
        events.append(FixationChecked(f"the client brought {name}={brought}: not reused"
                                      + (" (its old record was deleted)" if dropped else "")
                                      + "; a new ID is issued"))
        return None

    def _lookup(self, request: Request, events: list[Event]) -> CookieLookup:
        name = self.policy.cookie.name
        query = request.target.split("?", 1)[1] if "?" in request.target else ""
        if f"{name}=" in query:
            values = parse_qs(query).get(name, [])
            if self.policy.read_id_from_query and len(values) == 1:
                events.append(QueryIgnored(f"?{name}= in the URL is USED: IDs in URLs end up in logs "
                                           "and history, and in Referer under a lax referrer policy"))
                return check_session_id(values[0], self.policy)
            events.append(QueryIgnored(f"?{name}= in the URL is ignored: IDs are read only from "
                                       "the Cookie header (URLs end up in logs and history, and in "
                                       "Referer under a lax referrer policy)"))
        return read_session_cookie(request.header_values("Cookie"), self.policy)

    def profile(self, request: Request) -> Response:
        events: list[Event] = []
        lookup = self._lookup(request, events)
        if lookup.session_id is None:
            events.append(CookieRefused(f"{lookup.problem} -> 401"))
            return text(401, "Not logged in", events, [NO_STORE])
        session = self.store.get(lookup.session_id)
        if session is None:
            # Why there is none (never issued, expired, logged out) is the narration's to say.
            events.append(SessionLookedUp(self.store.describe("read", lookup.session_id) + " -> 401",
                                          session_id=lookup.session_id))
            return text(401, "Not logged in", events, [NO_STORE])
        events.append(SessionLookedUp(self.store.describe("read", lookup.session_id, session),
                                      session_id=lookup.session_id, found=True, record=session))
        # The idle clock first: it says which of its two deadlines ended the session.
        ended = self._ended(lookup.session_id, session, events) if self.policy.idle is not None else None
        if ended is None:
            ended = self._past_deadline(lookup.session_id, session, events)
        if ended:
            return text(401, f"Not logged in: {ended}", events, [NO_STORE])
        return text(200, f"Welcome user {session['userId']}", events, [NO_STORE])

    def _past_deadline(self, session_id: str, session: dict, events: list[Event]) -> str | None:
        """Why a record this server must not honour, else None. The store's TTL is not enough:
        a store shared with another server (a weak lab server's ten-year records, an older run
        with a longer --ttl) may hold records this server never agreed to, so every read is
        checked against this server's own deadlines: createdAt + its ttl, and expiresAt."""
        user = session.get("userId")
        created = _deadline(session.get("createdAt"))
        if not isinstance(user, (int, str)) or isinstance(user, bool) or created is None:
            events.append(SessionDeleted("the record is not one this server writes (userId and createdAt "
                                         "expected) -> 401", session_id=session_id))
            return "the session record is not one this server wrote"
        if not self.policy.server_expiry:  # the attack lab's mistake: only the cookie ends it
            return None
        expires = _deadline(session.get("expiresAt"))
        deadline = min(created + self.ttl, expires if expires is not None else math.inf)
        if self.clock() < deadline:
            return None
        deleted = self.store.delete(session_id)
        events.append(SessionDeleted(f"created {session['createdAt']}, past this server's deadline "
                                     f"(createdAt + {self.ttl} s, or expiresAt): record deleted -> 401",
                                     session_id=session_id, deleted=deleted))
        return "the session reached its absolute timeout"

    def _ended(self, session_id: str, session: dict, events: list[Event]) -> str | None:
        """Why the session ended (None: it goes on). A request more than `idle` seconds after the
        last one finds it ended; any earlier one slides the idle deadline, never the absolute one."""
        now = self.clock()
        last, ends = stamp_seconds(session.get("lastSeenAt")), stamp_seconds(session.get("expiresAt"))
        if last is None or ends is None:
            return None
        if now >= ends:  # the store's whole-second TTL may outlive the deadline by a fraction
            self.store.delete(session_id)
            events.append(SessionDeleted(f"past expiresAt {session['expiresAt']}: the absolute timeout "
                                         "-> 401", session_id=session_id, deleted=True))
            return "the session reached its absolute timeout"
        if now - last > self.policy.idle:
            self.store.delete(session_id)
            events.append(SessionDeleted(f"idle {now - last:.1f} s, longer than the idle timeout of "
                                         f"{self.policy.idle} s: record deleted -> 401",
                                         session_id=session_id, deleted=True))
            return "the session timed out while idle"
        left = min(math.ceil(ends - now), self.ttl)  # a foreign record's far expiresAt never extends it
        if left > 0:
            touched = {**session, "lastSeenAt": _iso_ms(now)}
            overwrite(self.store, session_id, touched, left)
            events.append(SessionCreated(f"lastSeenAt = {touched['lastSeenAt']}: the idle deadline slides "
                                         f"to {_iso_ms(now + self.policy.idle)}; the absolute one stays "
                                         f"{session['expiresAt']}", session_id=session_id, record=touched, ttl=left))
        return None

    def record_view(self, request: Request) -> Response:
        """GET /session/record: the browser page's read-only view of the caller's own record,
        as the demos print it. The ID is shortened: a route that handed page script the whole
        ID would undo HttpOnly."""
        import json

        lookup = read_session_cookie(request.header_values("Cookie"), self.policy)
        if lookup.session_id is None:
            body = {"found": False, "line": f"{lookup.problem}: no record to show"}
            events: list[Event] = [CookieRefused(f"teaching view: {lookup.problem}")]
        else:
            session = self.store.get(lookup.session_id)
            short = lookup.session_id[:8] + "..."
            line = self.store.describe("read", short, session) if session is not None else \
                self.store.describe("read", short) + " (never issued, expired or logged out)"
            body = {"found": session is not None, "line": line, "record": session}
            events = [SessionLookedUp(f"teaching view: {line}", session_id=lookup.session_id,
                                      found=session is not None, record=session)]
        return Response(200, json.dumps(body) + "\n", [("Content-Type", "application/json"), NO_STORE], events)

    def logout(self, request: Request) -> Response:
        if self.policy.refuse_cross_site:
            refuse_cross_site(request)
        lookup = read_session_cookie(request.header_values("Cookie"), self.policy)
        events: list[Event]
        if lookup.session_id is None:
            events = [SessionDeleted(f"{lookup.problem}: no session to delete")]
        elif not self.policy.logout_deletes_record:
            events = [SessionDeleted("the record is KEPT: logout only clears the cookie, so a copied "
                                     "cookie still works", session_id=lookup.session_id)]
        else:
            deleted = self.store.delete(lookup.session_id)
            events = [SessionDeleted(self.store.describe("delete", lookup.session_id, deleted),
                                     session_id=lookup.session_id, deleted=deleted)]
        events.append(CookieCleared("Set-Cookie with Max-Age=0 tells the client to drop the cookie"))
        return text(200, "Logged out", events, [("Set-Cookie", clear_cookie(self.policy)), NO_STORE])


def _iso_ms(ts: float) -> str:
    """`2026-11-27T07:02:52.250Z`: the idle clock needs better than whole seconds."""
    return iso(ts)[:-1] + f".{int(ts % 1 * 1000):03d}Z"


def _deadline(stamp: object) -> float | None:
    """The end of the second (or millisecond) a stamp names: `...:52Z` is written for any moment
    in that second, so the deadline it states is not passed before the second is over."""
    seconds = stamp_seconds(stamp)
    if seconds is None:
        return None
    return seconds + (0.001 if "." in str(stamp) else 1.0)


def stamp_seconds(stamp: object) -> float | None:
    """A record's `2026-11-27T07:02:52Z` (or with .mmm) as Unix seconds; None when not that form."""
    return _stamp_seconds(stamp) if isinstance(stamp, str) else None


@functools.lru_cache(maxsize=4096)
def _stamp_seconds(stamp: str) -> float | None:
    # Cached: every /profile reads its session's two stamps, and strptime took ~10 µs a call,
    # a tenth of answering the request; the same stamps come back request after request.
    whole, _, frac = stamp.rstrip("Z").partition(".")
    try:
        return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + (int(frac[:3]) / 1000 if frac else 0.0)
    except ValueError:
        return None
