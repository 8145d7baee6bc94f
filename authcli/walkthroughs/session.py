"""The session-cookie walkthrough: the handout's sections 1-5, each step from real traffic."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Callable, Iterator

from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.schemes.cookies import COOKIE_NAME, new_session_id
from authcli.events import FixationChecked, SessionCreated, SessionDeleted
from authcli.server.schemes.session_auth import stamp_seconds
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.session_auth import SessionAuth
from authcli.stores.base import SessionStore, StoreFacts
from authcli.stores.memory import MemoryStore
from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS
from authcli.tls import TlsFiles
from authcli.walkthroughs.common import Shown, expect, sequence
from authcli.walkthroughs.https import HTTPS_DEFENCES, HTTPS_NOTES, plain_http_step, tls_step
from authcli.walkthroughs.idle import idle_steps
from authcli.walkthroughs.model import (
    Defences, ExchangeBlock, JarBlock, Note, NotesBlock, Sequence, Step, StoreBlock, Table, TableBlock, Wait,
    WalkthroughInfo, step,
)
from authcli.clock import now as clock_now

INFO = WalkthroughInfo("session", "Session cookies: the server remembers you", 12)
DEFAULT_TTL = 3
# After the record's deadline, a little slack so the expired lookup is not a race.
EXPIRY_MARGIN = 0.05

# The flags that defend something are a Defences block; these notes say what the others mean.
COOKIE_FLAG_NOTES = [
    Note("Path=/", "sent to every path on this host, any port [^rfc6265-8.5]. No Domain: not to "
         "subdomains [^rfc6265-4.1.2.3]."),
    Note("no Expires / Max-Age", "a browser drops it when it closes, unless session restore keeps "
         "it [^mdn-set-cookie]; the server's record decides how long the ID works."),
    Note("Secure (left off)", "production adds Secure and the __Host- prefix (--https shows both); "
         "over plain http://127.0.0.1, requests would not send a Secure cookie back."),
]


def _flag_notes(https: bool) -> list[Note]:
    """The cookie's other attributes explained; over HTTPS, Secure is on and the notes on the
    HTTPS headers join them."""
    if not https:
        return COOKIE_FLAG_NOTES
    return [n for n in COOKIE_FLAG_NOTES if not n.term.startswith("Secure")] + HTTPS_NOTES


def _credential_bytes(exchange: Exchange) -> int:
    value = exchange.request.header("Cookie") or ""
    return len(f"Cookie: {value}")


class _Stage:
    """The server the client talks to, which the walkthrough can stop and start again."""

    def __init__(self, make_store: Callable[[], SessionStore], ttl: int, clock: Callable[[], float],
                 tls: TlsFiles | None = None, idle: int | None = None):
        self._make_store = make_store
        self._ttl = ttl
        self.idle = idle
        self._clock = clock
        self.tls = tls
        self._context = tls.server_context() if tls else None
        self._start()
        self.client = ScriptedClient(self.server, ca=str(tls.ca) if tls else None)

    @property
    def cookie(self) -> str:
        return self.auth.policy.cookie.name

    def _start(self) -> None:
        self.store = self._make_store()
        policy = HTTPS_SESSIONS if self.tls else HARDENED_SESSIONS
        self.auth = SessionAuth(self.store, self._ttl, clock=self._clock, policy=replace(policy, idle=self.idle))
        try:
            self.server = AuthServer(self.auth, tls=self._context).start()
        except BaseException:
            self.store.close()
            raise

    def restart(self) -> None:
        """As a deploy or a crash would: a new server process, with whatever its store keeps."""
        self.server.stop()
        self.store.close()
        self._start()
        self.client.server = self.server

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.store.close()


def session_walkthrough(ttl: int = DEFAULT_TTL, *, make_store: Callable[[], SessionStore] | None = None,
                        clock: Callable[[], float] = clock_now,
                        sleep: Callable[[float], None] = time.sleep,
                        tls: TlsFiles | None = None, idle: int | None = None) -> Iterator[Step]:
    """Yield the session demo's steps. The servers live exactly as long as the generator.

    `make_store` is called at start and again at the restart step: a new MemoryStore is the
    empty memory of a new process; a new RedisStore reconnects to the same Redis. `tls`: serve
    HTTPS with these files, with the __Host- Secure cookie.
    """
    stage = _Stage(make_store or (lambda: MemoryStore(clock=clock)), ttl, clock, tls, idle)
    try:
        yield from _steps(stage, ttl, clock, sleep)
    finally:
        stage.close()


def _login(client: ScriptedClient) -> Exchange:
    return expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
                   200, "login")


def _store(store: SessionStore) -> StoreBlock:
    return StoreBlock(store.snapshot())


def _created(exchange: Exchange) -> str:
    return exchange.event(SessionCreated).session_id


def _steps(stage: _Stage, ttl: int, clock: Callable[[], float],
           sleep: Callable[[float], None]) -> Iterator[Step]:
    # Requests that need a session to be alive run as one burst (an "act"); their steps are
    # yielded afterwards. A teacher pausing between steps (--step) then shows real traffic
    # recorded a moment ago, instead of racing the session's TTL.
    store, client = stage.store, stage.client
    user = stage.auth.users.users()[0]
    shown = Shown()
    yield shown(step(None, f"A real server on {stage.server.url}", [
        f"authcli started an {'HTTPS' if stage.tls else 'HTTP'} server on {stage.server.url} with {store.where()}. The client "
        "is Python's requests: its cookie jar sends cookies back by host and path, as a browser "
        f"does, but knows nothing of SameSite. Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD} -> userId "
        f"{user.user_id}; the server keeps only a salted Argon2id hash (OWASP's parameters "
        "[^owasp-passwords]):",
    ], NotesBlock([Note(user.email, user.password_hash)]), _store(store)))
    if stage.tls:
        yield shown(tls_step(stage.server, stage.tls))

    first = _first_act(client, store, user.user_id, stage.cookie, bool(stage.tls))
    session_id = _created(first[1].exchange)
    last_store = first[-1].first(StoreBlock)
    row = last_store.snapshot.get(session_id) if last_store else None
    if row is None or row.ttl is None:
        raise WalkthroughError("the session disappeared before its time")
    idle_at = _idle_first(row.value, stage.idle)
    deadline = idle_at if idle_at is not None else clock() + row.ttl
    if stage.tls:  # while the session lives: it is the cookie the plain port must not get
        first.append(plain_http_step(stage.server, client, session_id))
    yield from shown.all(first)

    row, idle_at, deadline = _as_the_wait_begins(store, session_id, row, idle_at, deadline, stage.idle)
    expires_at = row.value["expiresAt"]
    yield shown(_waiting(store, ttl, expires_at, deadline - clock(), stage.idle, row.value.get("lastSeenAt"),
                         idle_at))
    # The renderer may animate a countdown; whatever it did, the deadline really passes here.
    if clock() < deadline + EXPIRY_MARGIN:
        sleep(deadline + EXPIRY_MARGIN - clock())

    yield shown(_after_expiry(stage, session_id, row.value, idle_at, ttl))
    facts = stage.store.facts
    if stage.idle is not None:  # the idle segment instead of steps 8-12, which --idle does not change
        yield from shown.all(idle_steps(stage.server, stage.store, ttl, stage.idle, clock, sleep, stage.client.ca))
        yield _recap(facts, first[3].exchange, first[1].exchange, None,
                     sequence(shown.steps, f"Store ({facts.label})"), stage.cookie)
        return
    last = _last_act(client, store, session_id, stage.cookie)
    yield from shown.all(last)
    restart: list[Step] = []
    for each in _restart_act(stage):  # step 11 comes before the restart: its pause sees the old server
        restart.append(each)
        yield shown(each)
    restarted = "Server restarted: a new process, " + (
        f"the same {facts.label}" if facts.survives_restart else f"a new empty {facts.label} store")
    yield _recap(facts, first[3].exchange, last[0].exchange, restart[-1].exchange,
                 sequence(shown.steps, f"Store ({facts.label})", {12: restarted}), stage.cookie)


def _as_the_wait_begins(store: SessionStore, session_id: str, row: Any, idle_at: float | None, deadline: float,
                        idle: int | None) -> tuple[Any, float | None, float]:
    """A "try it" line run during a pause (--step) is a real request: it slides the idle deadline.
    The wait is for the deadline in the record as the wait begins, never the one read before."""
    fresh = store.snapshot().get(session_id)
    if fresh is None or fresh.value.get("lastSeenAt") == row.value.get("lastSeenAt"):
        return row, idle_at, deadline
    idle_at = _idle_first(fresh.value, idle)
    return fresh, idle_at, idle_at if idle_at is not None else deadline


def _idle_first(record: dict, idle: int | None) -> float | None:
    """When the session goes idle, if this run has an idle timeout and it comes first."""
    if idle is None:
        return None
    last_seen, ends = stamp_seconds(record.get("lastSeenAt")), stamp_seconds(record.get("expiresAt"))
    if last_seen is None or ends is None or last_seen + idle + 2 * EXPIRY_MARGIN >= ends:
        return None
    return last_seen + idle


def _after_expiry(stage: _Stage, session_id: str, record: dict, idle_at: float | None, ttl: int) -> Step:
    """Step 7: the cookie goes out again; the narration says which deadline the server applied."""
    store, client, expires_at = stage.store, stage.client, record["expiresAt"]
    expired = expect(client.send("GET", "/profile"), 401, "expired session")
    if f"{stage.cookie}={session_id}" not in (expired.request.header("Cookie") or ""):
        raise WalkthroughError("the client did not send its cookie after expiry")
    ended = [e for e in expired.events(SessionDeleted) if e.deleted]
    if idle_at is not None:
        if not ended or not ended[0].message.startswith("idle"):
            raise WalkthroughError("the session did not end by its idle timeout")
        why = (f"But its last request was at {record['lastSeenAt']}, more than {stage.idle} s ago: the "
               "server found the record, saw the idle deadline had passed, deleted it and answered 401, "
               f"before the absolute deadline ({expires_at}) came.")
        waited = f"More than {stage.idle} s have passed since the last request."
    else:
        why = (f"But the session expired at {expires_at} and "
               + ("the server deleted the record when it found it" if ended else store.facts.gone)
               + ", so 401 Unauthorized.")
        waited = f"{ttl} s have passed since login."
    return step(7, "After expiry: the cookie still goes out, the server says 401", [
        f"The client still sends the same ID. {why}",
    ], ExchangeBlock(expired), _store(store), JarBlock(client.jar()),
        Defences(["server-expiry"] + (["idle-timeout"] if stage.idle is not None else [])),
        predict=f"{waited} The client sends its cookie again.")


def _waiting(store: SessionStore, ttl: int, expires_at: str, left: float, idle: int | None = None,
             last_seen: str | None = None, idle_at: float | None = None) -> Step:
    """Step 6: the wait for whichever deadline of this run's comes first, with the store as
    the wait begins."""
    already = "" if left > 0 else " It has already passed, while the steps above were on screen."
    if idle is None:
        why = (f"Only an absolute timeout here: {ttl} s from createdAt (until {expires_at}); an idle "
               "timeout (--idle) would end a quiet one [^owasp-session-expiration].")
        title, label = f"Waiting for the session to expire ({ttl} s after login)", "session expires in"
    elif idle_at is not None:
        why = (f"Sessions here have two timeouts: idle, {idle} s after the last request (that was "
               f"at {last_seen}), and absolute, {ttl} s after login (at {expires_at}). The idle one "
               "comes first.")
        title, label = f"Waiting for the idle timeout ({idle} s after the last request)", "idle timeout in"
    else:
        why = (f"Sessions here have two timeouts: idle ({idle} s after the last request) and absolute "
               f"({ttl} s after login, at {expires_at}). The absolute one comes first.")
        title, label = f"Waiting for the session to expire ({ttl} s after login)", "session expires in"
    return step(6, title, [
        why + already + (f" {store.facts.expiry}" if store.facts.expires_by_itself else ""),
    ], StoreBlock(store.snapshot(), "read as the wait begins"),
        Wait(max(left, 0.0) + EXPIRY_MARGIN, label))


def _restart_act(stage: _Stage) -> Iterator[Step]:
    """Steps 11-12: log in, restart the server, use the session again."""
    login = _login(stage.client)
    session_id = _created(login)
    facts = stage.store.facts
    yield step(11, "Log in, then restart the server", [
        "A fresh login, then a restart of the server, as a deploy or a crash would do.",
    ], ExchangeBlock(login), _store(stage.store), predict="The client logs in again.")
    stage.restart()
    survives = facts.survives_restart
    after = expect(stage.client.send("GET", "/profile"), 200 if survives else 401, "profile after restart")
    if survives:
        key = stage.store.key(session_id)
        text = [f"The new server at {stage.server.url} connected to the same {facts.label}, found "
                f"{key[:key.index(session_id) + 8]}... there, and answered 200. The session "
                f"outlived the server process: {facts.sharers} can share it.",
                "Cookies belong to a host, not a port [^rfc6265-8.5], so the client sent its cookie "
                "to the new server too."]
    else:
        text = [f"The new server at {stage.server.url} has an empty {facts.label} store: the session "
                "died with the old process (as on a second server behind a load balancer). The "
                "cookie came anyway: cookies belong to a host, not a port [^rfc6265-8.5]."]
    yield step(12, "After the restart", text, ExchangeBlock(after), _store(stage.store),
               predict="The server was restarted. The client sends its cookie.")


def _first_act(client: ScriptedClient, store: SessionStore, user_id: int, cookie: str = COOKIE_NAME,
               https: bool = False) -> list[Step]:
    """Steps 1-5: wrong password, login, the jar, /profile, a forged ID."""
    wrong = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": "wrong"}),
                    401, "wrong password")
    steps = [step(1, "Log in with a wrong password", [
        "POST /login with the wrong password: 401, and nothing is stored.",
    ], ExchangeBlock(wrong), _store(store), Defences(["password-hash", "same-answer"]),
        predict="The client logs in with a wrong password.")]

    login = _login(client)
    session_id = _created(login)
    fields = ", ".join(login.event(SessionCreated).record)
    steps.append(step(2, "Log in with the right password", [
        f"The server creates a random session ID ({len(session_id)} characters from Python's "
        f"`secrets`: 256 bits), stores {{{fields}}} under it, and sends only the ID back.",
    ], ExchangeBlock(login), _store(store),
        predict=f"The client logs in with the right password ({DEMO_EMAIL} / {DEMO_PASSWORD})."))

    jar = client.jar()
    if [c.value for c in jar if c.name == cookie] != [session_id]:
        raise WalkthroughError("the client's cookie jar did not keep the session cookie")
    steps.append(step(3, "The client's cookie jar saved it", [
        "requests keeps the cookie with the attributes the server set; the script never copies "
        "the ID. The handout's res.cookie(\"sessionId\", sessionId) sets no flags; this server adds "
        "HttpOnly and SameSite=Lax, which only a browser acts on (see demo browser).",
    ], JarBlock(jar), Defences(HTTPS_DEFENCES) if https else None, NotesBlock(_flag_notes(https))))

    profile = expect(client.send("GET", "/profile"), 200, "profile")
    steps.append(step(4, "GET /profile: the cookie goes back by itself", [
        "The script adds no headers: the jar added the Cookie line (host and path match). The ID is "
        f"only a key: userId {user_id} stayed on the server.",
    ], ExchangeBlock(profile), _store(store),
        predict="The client asks for /profile. It adds no headers of its own."))

    before = store.snapshot()
    forged = expect(client.send("GET", "/profile", headers={"Cookie": f"{cookie}={new_session_id()}"},
                                 fresh=True), 401, "forged session ID")
    after = store.snapshot()
    if after.ids() != before.ids():
        raise WalkthroughError("the store changed after a forged session ID")
    steps.append(step(5, "A forged session ID gets 401", [
        "Another client sends an ID of exactly the right shape that this server never issued: "
        "401, and no record is created (the store is unchanged).",
    ], ExchangeBlock(forged), StoreBlock(after), Defences(["random-id"]),
        predict="Another client sends a session ID it made up, of exactly the right shape."))
    return steps


def _last_act(client: ScriptedClient, store: SessionStore, old_id: str, cookie: str = COOKIE_NAME) -> list[Step]:
    """Steps 8-10: log in again, log out, replay the logged-out cookie."""
    relogin = _login(client)
    new_id = _created(relogin)
    relogin.event(FixationChecked)  # the old cookie went to /login and was not adopted
    steps = [step(8, "Log in again: a brand-new ID", [
        f"The client still had the old cookie and sent it to /login; the server issued a new ID "
        f"anyway ({new_id[:8]}... instead of {old_id[:8]}...).",
    ], ExchangeBlock(relogin), _store(store), Defences(["new-id-at-login"]),
        predict="The client logs in again, still holding its old, expired cookie.")]

    logout = expect(client.send("POST", "/logout"), 200, "logout")
    if not logout.event(SessionDeleted).deleted:
        raise WalkthroughError("logout did not delete the session")
    jar_after = client.jar()
    if jar_after:
        raise WalkthroughError("the client kept its cookie after logout")
    steps.append(step(9, "POST /logout: the record is deleted, the cookie cleared", [
        "The server deletes the record; Set-Cookie ... Max-Age=0 tells the client to drop the "
        "cookie [^rfc6265-5.2.2].",
    ], ExchangeBlock(logout), _store(store), JarBlock(jar_after), Defences(["logout-deletes"]),
        predict="The client logs out."))

    replay = expect(client.send("GET", "/profile", headers={"Cookie": f"{cookie}={new_id}"},
                                 fresh=True), 401, "replayed cookie")
    steps.append(step(10, "Replaying the old cookie after logout gets 401", [
        "A copy of the cookie taken before logout comes back: the record is gone, so 401.",
    ], ExchangeBlock(replay), _store(store),
        predict="Someone who copied the cookie before logout sends it again."))
    return steps


def _recap(facts: StoreFacts, profile: Exchange, login: Exchange, after_restart: Exchange | None,
           traffic: Sequence, cookie: str = COOKIE_NAME) -> Step:
    """The handout's Sessions column from this run; `after_restart` None: a run with --idle,
    which stops after step 7 and shows the idle segment instead of logout and the restart."""
    created = login.event(SessionCreated)
    record = created.record
    cookie_bytes = _credential_bytes(profile)
    if after_restart is None:
        scaling = "Not shown with --idle: run without it for logout and a server restart."
    elif facts.survives_restart:
        scaling = (f"After a restart the session still worked ({after_restart.response.status}, step 12): "
                   f"every server pointing at this {facts.label} shares the sessions.")
    else:
        scaling = (f"Gone after a restart ({after_restart.response.status}, step 12): memory belongs "
                   "to one process; --store redis fixes that.")
    return step(None, "Recap", [], TableBlock(Table("The handout's table, Sessions column, as this run observed it", ["", "Sessions"], [
            ["Data stored in", f"Server ({facts.name}): {{{', '.join(record)}}}, "
             f"{len(json.dumps(record))} bytes under the ID" + (" (steps 2-9)" if after_restart else "")],
            ["Auth sent via", f"Cookie header: the random ID alone, {cookie_bytes} bytes (step 4)"],
            ["Server checks", "The ID must name a live record: a forged, expired or logged-out ID "
             "gets 401 (steps 5, 7, 10)" if after_restart else "The ID must name a live record: a "
             "forged or expired ID gets 401 (steps 5, 7)"],
            ["Scaling", scaling],
        ])), traffic)
