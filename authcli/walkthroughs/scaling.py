"""The scaling walkthrough: two servers behind a load balancer, sessions versus JWT, for real."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Callable, Iterator

from authcli.http import Exchange
from authcli.server.transport.balancer import SERVED_BY
from authcli.server.transport.haproxy import CHECK_MS, INSTALL, find_haproxy, version
from authcli.server.transport.httpd import App
from authcli.server.schemes.session_auth import SessionAuth
from authcli.stores import StoreSource
from authcli.stores.memory import MemoryStore
from authcli.walkthroughs.cluster import CREDS, TTL, Cluster, answer, served_by
from authcli.walkthroughs.scaling_jwt import round4, round5, token_alg
from authcli.walkthroughs.common import expect
from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS
from authcli.tls import TlsFiles
from authcli.walkthroughs.model import (
    Sequence,
    ExchangeBlock, ServersBlock, ServerView, Step, Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("scaling", "Scaling: two servers behind a load balancer")
ALL_ROUNDS = (1, 2, 3, 4, 5)
DEFAULT_ROUNDS = (1, 2, 3, 4)  # 5, clock skew, only when asked for
FIND = "find"  # scaling_walkthrough(haproxy=FIND): HAProxy if it is on PATH, else the in-process balancer


def _intro(haproxy: str | None, tls: TlsFiles | None) -> Step:
    if haproxy is not None:
        front = [
            "Each round starts two authcli servers, A and B, each on its own port with its own memory "
            "(threads of this process standing in for separate machines), and in front of them the "
            f"real {version(haproxy)}, run with a configuration authcli writes for the round. "
            "The client only ever talks to HAProxy, which forwards each request to A or B and adds a "
            f"response header {SERVED_BY} naming the one that answered. HAProxy passes header names "
            "on in lower case: HTTP header names are case-insensitive.[^rfc9110-5.1]"]
    else:
        front = [
            "Each round starts two authcli servers, A and B, each on its own port with its own "
            "memory (threads of this process standing in for separate machines), and a tiny load "
            "balancer in front of them. The client only ever talks to the balancer, which forwards "
            f"each request to A or B and adds a response header {SERVED_BY} naming the one that "
            "answered.",
            f"HAProxy is not installed, so a small balancer written for this demo stands in ({INSTALL} "
            "for the real one)."]
    return step(None, "Two servers and a load balancer", [
        *front,
        *(["HTTPS: the balancer terminates TLS. The hop from the client to the balancer is "
           "encrypted (the client verifies the balancer's certificate); the hops from the "
           "balancer to A and B are plain HTTP on this machine, as on a private network in "
           "production (where many re-encrypt them too). The session cookie is Secure: the "
           "client only ever speaks https."] if tls else []),
    ])


def scaling_walkthrough(rounds: tuple[int, ...] = DEFAULT_ROUNDS, *, shared: StoreSource | None = None,
                        shared_problem: str = "no Redis available", tls: TlsFiles | None = None,
                        haproxy: str | None = FIND, alg: str = "HS256") -> Iterator[Step]:
    """Yield the scaling demo's steps; every server (and HAProxy) is stopped when the generator ends.

    Round 3 makes both servers' stores from `shared`, a source both servers reach (Redis).
    `tls`: the balancer serves HTTPS with these files and terminates TLS. `haproxy`: the haproxy
    binary to put in front (FIND: the one on PATH), or None for the in-process balancer. `alg`:
    round 4's algorithm (a key pair: B holds the public key only).
    """
    if haproxy == FIND:
        haproxy = find_haproxy()
    observed: dict[int, list[Exchange]] = {}
    sessions = HTTPS_SESSIONS if tls else HARDENED_SESSIONS  # Secure: the client only ever sees https
    with ExitStack() as stack:
        def cluster(make_app: Callable[[str], App], sticky: bool = False) -> Cluster:
            made = Cluster(make_app, sticky, haproxy=haproxy, tls=tls)
            stack.callback(made.close)
            return made

        yield _intro(haproxy, tls)
        for number in rounds:
            if number == 1:
                yield from _round1(cluster(lambda _: SessionAuth(MemoryStore(), TTL, policy=sessions)), observed)
            elif number == 2:
                yield from _round2(cluster(lambda _: SessionAuth(MemoryStore(), TTL, policy=sessions), True), observed)
            elif number == 3:
                if shared is None:
                    yield step(None, "Round 3 skipped: shared Redis", [
                        f"Round 3 needs Redis: {shared_problem}. Then run it again with --rounds 3."])
                    continue
                yield from _round3(cluster(lambda _: SessionAuth(shared.make(), TTL, policy=sessions)), observed)
            elif number == 4:
                yield from round4(cluster, observed, alg)
            elif number == 5:
                yield from round5(cluster, observed)
            stack.close()  # each round's servers are gone before the next round starts
        yield _recap(observed, "HAProxy" if haproxy else "Balancer")


def _round1(c: Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 1 login")
    yield step(None, "Round 1 · Sessions in memory, round-robin: log in", [
        f"POST /login went to {served_by(login)}. {served_by(login)} created the session in its own "
        "memory and sent the cookie back through the balancer.",
    ], c.config(), ExchangeBlock(login), ServersBlock(c.views()),
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


def _failover(c: Cluster, stopped: str, took: float | None, after: Exchange) -> str:
    """How the request reached another server once `stopped` was gone, as the balancer showed it."""
    if took is None:
        return f"The balancer could not reach it and sent the request to {served_by(after)} instead"
    now = served_by(after)
    cookies = [v for k, v in after.response.headers if k.lower() == "set-cookie"]
    moved = any(v.startswith(f"{c.sticky_cookie}={now};") for v in cookies)
    return (f"HAProxy's health check (check inter {CHECK_MS}ms fall 1) marked {stopped} DOWN "
            f"{took * 1000:.0f} ms later, so the {c.sticky_cookie}={stopped} cookie no longer counted: "
            f"HAProxy sent the request to {now}" + (f" and set {c.sticky_cookie}={now}" if moved else "")
            + f" (option redispatch does the same, on the last connection retry by default, for a request "
            f"whose connection to {stopped} fails before a check notices)[^haproxy-redispatch]")


def _round2(c: Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
    login = expect(c.send("POST", "/login", json=CREDS), 200, "round 2 login")
    first, cookie = served_by(login), c.sticky_cookie
    owner = "HAProxy's own cookie (cookie SERVERID insert)" if c.proxy else "the balancer's own cookie"
    yield step(None, "Round 2 · Sticky sessions: the balancer pins the client", [
        f"POST /login went to {first}. Look at the response: two Set-Cookie lines. One is the "
        f"session; the other, {cookie}={first}, is {owner}, so that it can send every later request "
        f"from this client to {first}.",
    ], c.config(), ExchangeBlock(login), ServersBlock(c.views()),
        predict="The balancer is now sticky: it remembers which server a client belongs to. The client logs in.")
    profiles = [expect(c.send("GET", "/profile"), 200, "round 2 pinned profile") for _ in range(2)]
    hidden = (f" HAProxy takes its cookie out before passing a request on (indirect): {first} never "
              "sees it.[^haproxy-cookie]") if c.proxy else ""
    yield step(None, "Round 2 · Every request goes to the same server", [
        f"Two GET /profile requests: {answer(profiles[0])}, then {answer(profiles[1])}. The "
        f"{cookie} cookie overrides round-robin, so the session is found as long as {first} is up.{hidden}",
    ], *(ExchangeBlock(p) for p in profiles), ServersBlock(c.views()),
        predict="The client sends GET /profile twice, with its cookies.")
    c.stop(first)
    took = c.noticed(first, "DOWN")
    after = expect(c.send("GET", "/profile"), 401, "round 2 profile after the pinned server stopped")
    yield step(None, f"Round 2 · Server {first} stops: the session is gone", [
        f"authcli stopped {first}, as a crash or a deploy would. {_failover(c, first, took, after)}: "
        f"{after.response.status}. The session lived only in {first}'s memory, so the user "
        "is logged out. Sticky sessions spread the load, not the state.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict=f"Server {first}, the one the client is pinned to, stops. The client sends its cookies.")
    observed[2] = [login, *profiles, after]


def _round3(c: Cluster, observed: dict[int, list[Exchange]]) -> Iterator[Step]:
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
    c.noticed(stopped, "DOWN")
    after = expect(c.send("GET", "/profile"), 200, "round 3 profile after a server stopped")
    yield step(None, f"Round 3 · Server {stopped} stops: nothing is lost", [
        f"authcli stopped {stopped}, the server that created the session. {answer(after)}: the "
        "session lives in Redis, not in any one server.",
    ], ExchangeBlock(after), ServersBlock(c.views()),
        predict=f"Server {stopped}, which created the session, stops. The client sends its cookie.")
    observed[3] = [login, profile, after]


def _served(exchanges: list[Exchange]) -> str:
    """`A and B answered 200` / `B answered 401`: who answered these requests, with what."""
    servers = " and ".join(dict.fromkeys(served_by(e) for e in exchanges))
    statuses = " and ".join(dict.fromkeys(str(e.response.status) for e in exchanges))
    return f"{servers} answered {statuses}"


def _recap(observed: dict[int, list[Exchange]], front: str) -> Step:
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
        ["Server checks", "session ID in that server's store",
         "signature with the shared key" if 4 not in observed or token_alg(observed[4][0]).startswith("HS")
         else "signature with the public key (only A could sign)"],
        ["Scaling (observed)", " ".join(sessions) or "(no session round run)",
         "; ".join(jwt_cells) + ". The price: no revocation without shared state." if jwt_cells
         else "(round 4 not run)"],
    ]
    return step(None, "Recap: the handout's table, filled in by this run", [
        "Sessions need every server to see the same store (or the client pinned to one server, "
        "until it dies); JWTs need every server to hold the key. As observed:",
    ], TableBlock(Table("Sessions vs JWT, with evidence", ["", "Sessions", "JWT"], rows)), _traffic(observed, front))


def _traffic(observed: dict[int, list[Exchange]], front: str) -> Sequence:
    """The rounds' requests through the balancer: which server each reached, what it answered."""
    messages: list[tuple[str, str, str, bool]] = []
    for round_, exchanges in sorted(observed.items()):
        for ex in exchanges:
            server = served_by(ex)
            messages.append(("Client", front, f"{ex.request.method} {ex.request.target} (round {round_})", False))
            if server in ("A", "B"):
                messages.append((front, server, "forwarded", False))
                messages.append((server, front, str(ex.response.status), True))
            messages.append((front, "Client", f"{ex.response.status} {ex.response.reason}", True))
    return Sequence(["Client", front, "A", "B"], messages)
