"""The scaling walkthrough: two servers behind a load balancer, sessions versus JWT, for real."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Callable, Iterator

from authcli.client import ScriptedClient
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.transport.balancer import SERVED_BY, STICKY_COOKIE, Backend, Balancer
from authcli.server.transport.httpd import App, AuthServer
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.stores import StoreSource
from authcli.stores.memory import MemoryStore
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.common import expect
from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS
from authcli.tls import TlsFiles
from authcli.walkthroughs.model import (
    Sequence,
    ExchangeBlock, ServersBlock, ServerView, Step, Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("scaling", "Scaling: two servers behind a load balancer")
ALL_ROUNDS = (1, 2, 3, 4)
TTL = 300
CREDS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


class _Cluster:
    """Servers A and B (threads here, each its own HTTP server, port and store) behind a balancer."""

    def __init__(self, make_app: Callable[[], App], policy: str, tls: TlsFiles | None = None):
        self._make_app = make_app
        self.apps: dict[str, App] = {}
        self.backends = [Backend("A", None), Backend("B", None)]
        for backend in self.backends:
            self.start(backend.name)
        # With HTTPS the balancer terminates TLS, as real deployments do; A and B behind it
        # speak plain HTTP to it.
        self.balancer = AuthServer(Balancer(self.backends, policy),
                                   tls=tls.server_context() if tls else None).start()
        self.client = ScriptedClient(self.balancer, ca=str(tls.ca) if tls else None)

    def _backend(self, name: str) -> Backend:
        return next(b for b in self.backends if b.name == name)

    def start(self, name: str) -> None:
        app = self._make_app()
        self.apps[name] = app
        self._backend(name).server = AuthServer(app).start()

    def stop(self, name: str) -> None:
        backend = self._backend(name)
        if backend.server is not None:
            backend.server.stop()
            backend.server = None
        store = self.apps[name].store
        if store is not None:
            store.close()

    def views(self) -> list[ServerView]:
        views = []
        for backend in self.backends:
            store = self.apps[backend.name].store
            url = backend.server.url if backend.server is not None else None
            views.append(ServerView(backend.name, url, store.snapshot() if url and store is not None else None))
        return views

    def send(self, method: str, path: str, **kwargs) -> Exchange:
        return self.client.send(method, path, **kwargs)

    def close(self) -> None:
        self.client.close()
        self.balancer.stop()
        for backend in self.backends:
            self.stop(backend.name)


def served_by(exchange: Exchange) -> str:
    return exchange.response.header(SERVED_BY) or "?"


def _answer(exchange: Exchange) -> str:
    return f"{served_by(exchange)} answered {exchange.response.status}"


def scaling_walkthrough(rounds: tuple[int, ...] = ALL_ROUNDS, *, shared: StoreSource | None = None,
                        shared_problem: str = "no Redis available", tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield the scaling demo's steps; every server is stopped when the generator ends.

    Round 3 makes both servers' stores from `shared`, a source both servers reach (Redis).
    `tls`: the balancer serves HTTPS with these files and terminates TLS.
    """
    observed: dict[int, list[Exchange]] = {}
    sessions = HTTPS_SESSIONS if tls else HARDENED_SESSIONS  # Secure: the client only ever sees https
    with ExitStack() as stack:
        def cluster(make_app: Callable[[], App], policy: str) -> _Cluster:
            made = _Cluster(make_app, policy, tls)
            stack.callback(made.close)
            return made

        yield step(None, "Two servers and a load balancer", [
            "Each round starts two authcli servers, A and B, each on its own port with its own "
            "memory (threads of this process standing in for separate machines), and a tiny load "
            "balancer in front of them. The client only ever talks to the balancer, which forwards "
            f"each request to A or B and adds a response header {SERVED_BY} naming the one that "
            "answered.",
            *(["HTTPS: the balancer terminates TLS. The hop from the client to the balancer is "
               "encrypted (the client verifies the balancer's certificate); the hops from the "
               "balancer to A and B are plain HTTP on this machine, as on a private network in "
               "production (where many re-encrypt them too). The session cookie is Secure: the "
               "client only ever speaks https."] if tls else []),
        ])
        for number in rounds:
            if number == 1:
                yield from _round1(cluster(lambda: SessionAuth(MemoryStore(), TTL, policy=sessions), "round-robin"), observed)
            elif number == 2:
                yield from _round2(cluster(lambda: SessionAuth(MemoryStore(), TTL, policy=sessions), "sticky"), observed)
            elif number == 3:
                if shared is None:
                    yield step(None, "Round 3 skipped: shared Redis", [
                        f"Round 3 needs Redis: {shared_problem}. Then run it again with --rounds 3."])
                    continue
                yield from _round3(cluster(lambda: SessionAuth(shared.make(), TTL, policy=sessions), "round-robin"),
                                   observed)
            elif number == 4:
                key = make_signing_key("HS256")
                yield from _round4(cluster(lambda: JwtAuth(key, TTL), "round-robin"), observed)
            stack.close()  # each round's servers are gone before the next round starts
        yield _recap(observed)


def _round1(c: _Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 1 login")
    yield step(None, "Round 1 · Sessions in memory, round-robin: log in", [
        f"POST /login went to {served_by(login)}. {served_by(login)} created the session in its own "
        "memory and sent the cookie back through the balancer.",
    ], ExchangeBlock(login), ServersBlock(c.views()),
        predict="Two servers keep sessions in their own memory; a round-robin balancer sits in front. "
                "The client logs in.")
    profile = expect(c.send("GET", "/profile"), 401, "round 1 profile on the other server")
    yield step(None, "Round 1 · The next request lands on the other server", [
        f"Round-robin sent GET /profile to {served_by(profile)}. The client sent its cookie, but "
        f"{served_by(profile)} has never seen this session: {profile.response.status}. The session "
        f"exists only in {served_by(login)}'s memory (compare the two stores).",
    ], ExchangeBlock(profile), ServersBlock(c.views()),
        predict="Round-robin: this request goes to the other server. The client sends its cookie.")
    observed[1] = [login, profile]


def _round2(c: _Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 2 login")
    first = served_by(login)
    yield step(None, "Round 2 · Sticky sessions: the balancer pins the client", [
        f"POST /login went to {first}. Look at the response: two Set-Cookie lines. One is the "
        f"session; the other, {STICKY_COOKIE}={first}, is the balancer's own cookie, so that it can "
        f"send every later request from this client to {first}.",
    ], ExchangeBlock(login), ServersBlock(c.views()),
        predict="The balancer is now sticky: it remembers which server a client belongs to. The client logs in.")
    profiles = [expect(c.send("GET", "/profile"), 200, "round 2 pinned profile") for _ in range(2)]
    yield step(None, "Round 2 · Every request goes to the same server", [
        f"Two GET /profile requests: {_answer(profiles[0])}, then {_answer(profiles[1])}. The "
        f"{STICKY_COOKIE} cookie overrides round-robin, so the session is found as long as A is up.",
    ], *(ExchangeBlock(p) for p in profiles), ServersBlock(c.views()),
        predict="The client sends GET /profile twice, with its cookies.")
    c.stop(first)
    after = expect(c.send("GET", "/profile"), 401, "round 2 profile after the pinned server stopped")
    yield step(None, f"Round 2 · Server {first} stops: the session is gone", [
        f"authcli stopped {first}, as a crash or a deploy would. The balancer could not reach it "
        f"and sent the request to {served_by(after)} instead: {after.response.status}. The session "
        f"lived only in {first}'s memory, so the user is logged out. Sticky sessions spread the "
        "load, not the state.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict=f"Server {first}, the one the client is pinned to, stops. The client sends its cookies.")
    observed[2] = [login, *profiles, after]


def _round3(c: _Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 3 login")
    yield step(None, "Round 3 · A shared Redis store, round-robin: log in", [
        f"Both servers keep sessions in the same Redis. POST /login went to {served_by(login)}, "
        "which wrote session:<id> into Redis.",
    ], ExchangeBlock(login), ServersBlock(c.views()),
        predict="Both servers now keep sessions in one shared Redis; round-robin again. The client logs in.")
    profile = expect(c.send("GET", "/profile"), 200, "round 3 profile on the other server")
    yield step(None, "Round 3 · The other server finds the session", [
        f"Round-robin sent GET /profile to {served_by(profile)}: {profile.response.status}. Both "
        "servers read the same Redis, so it does not matter which one answers.",
    ], ExchangeBlock(profile), ServersBlock(c.views()),
        predict="Round-robin: this request goes to the other server. The client sends its cookie.")
    stopped = served_by(login)
    c.stop(stopped)
    after = expect(c.send("GET", "/profile"), 200, "round 3 profile after a server stopped")
    yield step(None, f"Round 3 · Server {stopped} stops: nothing is lost", [
        f"authcli stopped {stopped}, the server that created the session. {_answer(after)}: the "
        "session lives in Redis, not in any one server.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict=f"Server {stopped}, which created the session, stops. The client sends its cookie.")
    observed[3] = [login, profile, after]


def _round4(c: _Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 4 login")
    token = json.loads(login.response.body)["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    yield step(None, "Round 4 · JWT with a shared key, round-robin: log in", [
        f"Both servers hold the same HS256 secret. POST /login went to {served_by(login)}, which "
        "signed a token and stored nothing: both stores stay empty.",
    ], ExchangeBlock(login), ServersBlock(c.views()),
        predict="Both servers now sign and verify JWTs with the same secret. The client logs in.")
    profiles = [expect(c.send("GET", "/profile", headers=bearer), 200, "round 4 profile") for _ in range(2)]
    yield step(None, "Round 4 · Both servers verify the token", [
        f"Two GET /profile requests: {_answer(profiles[0])}, then {_answer(profiles[1])}. Each "
        "checks the signature with the shared key; neither looks anything up.",
    ], *(ExchangeBlock(p) for p in profiles), ServersBlock(c.views()),
        predict="The client sends GET /profile twice with its token; round-robin picks both servers.")
    for name in ("A", "B"):
        c.stop(name)
        c.start(name)
    after = expect(c.send("GET", "/profile", headers=bearer), 200, "round 4 profile after restarts")
    yield step(None, "Round 4 · Restart both servers: the token still works", [
        f"authcli restarted A and B (new processes' worth of memory, the same key). {_answer(after)}. "
        "There was nothing to lose.",
        "The price: no server can take the token back. Logging out, or banning the user, leaves the "
        "token valid until exp unless every server checks a shared denylist, which is a shared "
        "store again.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict="Both servers restart (their memory is wiped). The client sends its token.")
    observed[4] = [login, *profiles, after]


def _served(exchanges: list[Exchange]) -> str:
    """`A and B answered 200` / `B answered 401`: who answered these requests, with what."""
    servers = " and ".join(dict.fromkeys(served_by(e) for e in exchanges))
    statuses = " and ".join(dict.fromkeys(str(e.response.status) for e in exchanges))
    return f"{servers} answered {statuses}"


def _recap(observed: dict[int, list[Exchange]]) -> Step:
    """Each round's cell is one sentence made from what its requests got (the steps show each)."""
    sessions, jwt_cells = [], []
    if 1 in observed:
        login, profile = observed[1]
        sessions.append(f"Round 1, memory + round-robin: login on {served_by(login)}, then {_served([profile])}.")
    if 2 in observed:
        login, *profiles, after = observed[2]
        sessions.append(f"Round 2, sticky: {_served(profiles)}, until A stopped: then {_served([after])}.")
    if 3 in observed:
        login, profile, after = observed[3]
        sessions.append(f"Round 3, shared Redis: {_served([profile])}, and again with A stopped "
                        f"({_served([after])}).")
    if 4 in observed:
        login, *profiles, after = observed[4]
        jwt_cells.append(f"Round 4: {_served(profiles)}; after a restart, {_served([after])}")
    cookie = next((e.request.header("Cookie") for ex in observed.values() for e in ex if e.request.header("Cookie")), None)
    bearer = next((e.request.header("Authorization") for e in observed.get(4, []) if e.request.header("Authorization")), None)
    stored = []
    if 1 in observed or 2 in observed:
        stored.append("memory: only on the server that took the login")
    if 3 in observed:
        stored.append("Redis: one store both servers read")
    rows = [
        ["Data stored in", "; ".join(stored) or "(no session round run)",
         "the token; both servers' stores stayed empty" if 4 in observed else "(round 4 not run)"],
        ["Auth sent via", f"Cookie header ({len('Cookie: ' + cookie)} bytes)" if cookie else "(no session round run)",
         f"Authorization header ({len('Authorization: ' + bearer)} bytes)" if bearer else "(round 4 not run)"],
        ["Server checks", "session ID in that server's store", "signature with the shared key"],
        ["Scaling (observed)", " ".join(sessions) or "(no session round run)",
         "; ".join(jwt_cells) + ". The price: no revocation without shared state." if jwt_cells
         else "(round 4 not run)"],
    ]
    return step(None, "Recap: the handout's table, filled in by this run", [
        "Sessions need every server to see the same store (or the client pinned to one server, "
        "until it dies); JWTs need every server to hold the key. As observed:",
    ], TableBlock(Table("Sessions vs JWT, with evidence", ["", "Sessions", "JWT"], rows)), _traffic(observed))


def _traffic(observed: dict[int, list[Exchange]]) -> Sequence:
    """The rounds' requests through the balancer: which server each reached, what it answered."""
    messages: list[tuple[str, str, str, bool]] = []
    for round_, exchanges in sorted(observed.items()):
        for ex in exchanges:
            server = served_by(ex)
            messages.append(("Client", "Balancer", f"{ex.request.method} {ex.request.target} (round {round_})", False))
            if server in ("A", "B"):
                messages.append(("Balancer", server, "forwarded", False))
                messages.append((server, "Balancer", str(ex.response.status), True))
            messages.append(("Balancer", "Client", f"{ex.response.status} {ex.response.reason}", True))
    return Sequence(["Client", "Balancer", "A", "B"], messages)
