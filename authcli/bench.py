"""`authcli bench`: what checking one authenticated request costs the server, session vs JWT.

Measures, on this machine, the check itself (a store lookup, a signature verification) in
microseconds, and requests/s for GET /profile over real HTTP through authcli's own server.
Returns plain data; the CLI renders it.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable
from authcli import clock
from authcli.stores import DEFAULT, SOURCES

if TYPE_CHECKING:
    import requests

    from authcli.stores import StoreSource

ProgressFn = Callable[[int, int, str], None]  # (done, total, what is being measured)
STORES = tuple(SOURCES)
ALGS = ("HS256", "RS256", "ES256", "EdDSA")
# A JWT with a jti denylist (demo refresh): the HS256 check plus one lookup in each store.
CONFIGS = ([("session", name) for name in STORES] + [("jwt", alg) for alg in ALGS]
           + [("jwt+denylist", name) for name in STORES])


@dataclass(frozen=True)
class BenchRow:
    scheme: str
    variant: str
    check: str
    check_us: float | None
    requests_per_s: float | None
    credential_header: str | None
    credential_bytes: int | None
    note: str = ""
    requests_range: tuple[float, float] | None = None  # the lowest and highest round


@dataclass(frozen=True)
class BenchResult:
    rows: list[BenchRow]
    seconds_per_http_run: float
    connections: int
    reading: str
    rounds: int = 1


def time_per_call(fn: Callable[[], object], budget: float) -> float:
    """Microseconds per call: the median of 5 batches, each as many calls as fit in a tenth of
    `budget` (the median, not the best: a best run is luck, not the cost)."""
    import statistics

    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget / 10:
        fn()
        calls += 1
    batch = max(calls, 10)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        runs.append((time.perf_counter() - t) / batch)
    return statistics.median(runs) * 1e6


def _http_rate(host: str, port: int, header: str, seconds: float, connections: int) -> float:
    """Requests/s for keep-alive GET /profile from raw-socket clients; every answer must be 200."""
    request = f"GET /profile HTTP/1.1\r\nHost: {host}:{port}\r\n{header}\r\n\r\n".encode("latin-1")
    counts = [0] * connections
    failures: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = sock.makefile("rb")
            while time.monotonic() < stop_at:
                sock.sendall(request)
                status = reader.readline()
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                if b" 200 " not in status:
                    failures.append(status.decode("latin-1").strip())
                    return
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"GET /profile answered {failures[0]} under load")
    return sum(counts) / (time.monotonic() - started)


LOGIN = {"email": "a@b.com", "password": "123"}  # the handout's demo user, as every demo logs in
ROUNDS = 3  # HTTP runs per configuration, interleaved: the spread is reported, not hidden


def _login(server) -> "requests.Response":
    """Credentials the way every demo gets them: a real POST /login to the server measured, so
    the cookie, the token and the stored record are byte for byte what the demos show."""
    import requests

    answer = requests.post(f"{server.url}/login", json=LOGIN, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"POST /login answered {answer.status_code}")
    return answer


def _session_setup(source: StoreSource, stack) -> tuple:
    """(server, credential header, check description, the check) for a session store."""
    from authcli.server.schemes.cookies import COOKIE_NAME
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.session_auth import SessionAuth

    store = source.make()
    stack.callback(store.close)
    server = stack.enter_context(AuthServer(SessionAuth(store, 3600)))
    session_id = _login(server).cookies[COOKIE_NAME]
    return (server, f"Cookie: {COOKIE_NAME}={session_id}", f"{store.facts.name} lookup",
            lambda: store.get(session_id))


def _jwt_setup(variant: str, stack) -> tuple:
    """(server, credential header, check description, the check) for a signing algorithm."""
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.jwt_auth import REQUIRED, JwtAuth
    from authcli.tokens.checks import verify
    from authcli.tokens.parse import split
    from authcli.tokens.signing import make_signing_key

    key = make_signing_key(variant)
    server = stack.enter_context(AuthServer(JwtAuth(key, 3600)))
    token = _login(server).json()["token"]

    def check() -> object:
        return verify(split(token), key.verify, now=clock.now(), require=REQUIRED)

    return server, f"Authorization: Bearer {token}", f"{variant} verify", check


def _denylist_setup(source: StoreSource, stack) -> tuple:
    """(server, credential header, check description, the check): HS256 plus a denylist lookup,
    the token from a real login, the lookup in the store the server reads."""
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.jwt_auth import REQUIRED
    from authcli.server.schemes.refresh_auth import RefreshAuth
    from authcli.tokens.checks import verify
    from authcli.tokens.parse import split
    from authcli.tokens.signing import make_signing_key

    store = source.make()
    stack.callback(store.close)
    key = make_signing_key("HS256")
    server = stack.enter_context(AuthServer(RefreshAuth(key, store, 3600)))
    token = _login(server).json()["access_token"]
    jti = split(token).payload["jti"]

    def check() -> object:
        verify(split(token), key.verify, now=clock.now(), require=REQUIRED)
        return store.get(f"deny:{jti}")

    return server, f"Authorization: Bearer {token}", f"HS256 verify + {store.facts.name} denylist lookup", check


def run(*, quick: bool = False, stores: dict[str, StoreSource | str] | None = None,
        connections: int = 4, progress: ProgressFn | None = None) -> BenchResult:
    """`stores` maps each name in STORES to its source, or to why it cannot be had here. Every
    configuration's server runs for the whole bench; the HTTP runs go round-robin over them,
    ROUNDS times, so a slow moment of the machine hits all of them alike."""
    import statistics
    from contextlib import ExitStack

    seconds = 0.15 if quick else 0.7
    budget = 0.1 if quick else 0.5
    skipped: dict[tuple[str, str], str] = {}
    ready: dict[tuple[str, str], tuple] = {}
    with ExitStack() as stack:
        for scheme, variant in CONFIGS:
            if scheme in ("session", "jwt+denylist"):
                source = (stores or {}).get(variant, f"no {variant} store given")
                if isinstance(source, str):
                    skipped[(scheme, variant)] = f"skipped: {source}"
                    continue
                setup = _session_setup if scheme == "session" else _denylist_setup
                ready[(scheme, variant)] = setup(source, stack)
            else:
                ready[(scheme, variant)] = _jwt_setup(variant, stack)
        total = len(ready) * (ROUNDS + 1)
        checks = {}
        for done, (config, (_, _, _, check)) in enumerate(ready.items()):
            if progress:
                progress(done, total, f"{config[0]} / {config[1]}: the check alone")
            checks[config] = time_per_call(check, budget)
        rates: dict[tuple[str, str], list[float]] = {config: [] for config in ready}
        for round_ in range(ROUNDS):
            for i, (config, (server, header, _, _)) in enumerate(ready.items()):
                if progress:
                    progress(len(ready) * (round_ + 1) + i, total,
                             f"{config[0]} / {config[1]}: HTTP, round {round_ + 1} of {ROUNDS}")
                rates[config].append(_http_rate(server.host, server.port, header, seconds, connections))
    if progress:
        progress(total, total, "done")
    rows = []
    for scheme, variant in CONFIGS:
        if (scheme, variant) in skipped:
            rows.append(BenchRow(scheme, variant, f"{variant} lookup", None, None, None, None,
                                 skipped[(scheme, variant)]))
            continue
        _, header, what, _ = ready[(scheme, variant)]
        got = rates[(scheme, variant)]
        rows.append(BenchRow(scheme, variant, what, checks[(scheme, variant)], statistics.median(got),
                             header.split(":")[0], len(header), requests_range=(min(got), max(got))))
    return BenchResult(rows, seconds, connections, _reading(rows), ROUNDS)


def _reading(rows: list[BenchRow]) -> str:
    measured = {(r.scheme, r.variant): r for r in rows if r.check_us is not None}
    memory, hs = measured.get(("session", DEFAULT)), measured.get(("jwt", "HS256"))
    slowest = max((r for r in measured.values() if r.scheme == "jwt"), key=lambda r: r.check_us, default=None)
    if not (memory and hs and slowest and memory.requests_range and hs.requests_range):
        return ""
    share = hs.check_us / (1e6 / hs.requests_per_s) * 100
    (m_low, m_high), (h_low, h_high) = memory.requests_range, hs.requests_range
    gap = (memory.requests_per_s / hs.requests_per_s - 1) * 100
    if m_low > h_high or h_low > m_high:
        http = (f"over HTTP memory sessions answered {abs(gap):.0f}% {'more' if gap >= 0 else 'fewer'} "
                f"requests/s than HS256 tokens in every round, not {hs.check_us / memory.check_us:.0f}x")
    else:
        http = ("over HTTP the two answered about as many requests/s: their rounds overlap "
                f"({m_low:,.0f}-{m_high:,.0f} against {h_low:,.0f}-{h_high:,.0f}), so this machine's "
                "noise is larger than the difference")
    return (f"Reading: a memory lookup costs {memory.check_us:.1f} µs, an HS256 verification "
            f"{hs.check_us:.1f} µs and {slowest.variant} {slowest.check_us:.0f} µs. The HS256 check is "
            f"only ~{share:.0f}% of a whole request here, and {http}. "
            f"Beyond speed, the schemes differ in where the state lives and in the bytes sent with "
            f"every request: {memory.credential_bytes} for the cookie, {hs.credential_bytes} for the "
            f"HS256 bearer token the demos use.")
