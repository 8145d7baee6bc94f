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

if TYPE_CHECKING:
    from authcli.stores import StoreSource

ProgressFn = Callable[[int, int, str], None]  # (done, total, what is being measured)
STORES = ("memory", "redis")
ALGS = ("HS256", "RS256", "ES256", "EdDSA")
CONFIGS = [("session", name) for name in STORES] + [("jwt", alg) for alg in ALGS]


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


@dataclass(frozen=True)
class BenchResult:
    rows: list[BenchRow]
    seconds_per_http_run: float
    connections: int
    reading: str


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


def _session_setup(source: StoreSource):
    """(app, credential header, check description, the check, close) for a session store."""
    from authcli.server.cookies import new_session_id
    from authcli.server.session_auth import SessionAuth

    store = source.make()
    app = SessionAuth(store, 3600)
    session_id = new_session_id()
    store.create(session_id, {"userId": 1, "createdAt": "-", "expiresAt": "-"}, 3600)
    return (app, f"Cookie: sessionId={session_id}",
            f"{store.facts.name} lookup", lambda: store.get(session_id), store.close)


def _jwt_setup(variant: str):
    """(app, credential header, check description, the check, close) for a signing algorithm."""
    from authcli.server.jwt_auth import REQUIRED, JwtAuth
    from authcli.tokens import issue, make_signing_key, split, verify

    key = make_signing_key(variant)
    app = JwtAuth(key, 3600)
    now = int(time.time())
    token = issue(key, {"sub": "123", "iat": now, "exp": now + 3600})

    def check() -> object:
        return verify(split(token), key.verify, now=time.time(), require=REQUIRED)

    return app, f"Authorization: Bearer {token}", f"{variant} verify", check, lambda: None


def run(*, quick: bool = False, stores: dict[str, StoreSource | str] | None = None,
        connections: int = 4, progress: ProgressFn | None = None) -> BenchResult:
    """`stores` maps each name in STORES to its source, or to why it cannot be had here."""
    from authcli.server.httpd import AuthServer

    seconds = 0.4 if quick else 2.0
    budget = 0.1 if quick else 0.5
    rows = []
    for done, (scheme, variant) in enumerate(CONFIGS):
        if progress:
            progress(done, len(CONFIGS), f"{scheme} / {variant}")
        if scheme == "session":
            source = (stores or {}).get(variant, f"no {variant} store given")
            if isinstance(source, str):
                rows.append(BenchRow(scheme, variant, f"{variant} lookup", None, None, None, None,
                                     f"skipped: {source}"))
                continue
            app, header, what, check, close = _session_setup(source)
        else:
            app, header, what, check, close = _jwt_setup(variant)
        try:
            check_us = time_per_call(check, budget)
            with AuthServer(app) as server:
                rate = _http_rate(server.host, server.port, header, seconds, connections)
        finally:
            close()
        rows.append(BenchRow(scheme, variant, what, check_us, rate, header.split(":")[0], len(header)))
    if progress:
        progress(len(CONFIGS), len(CONFIGS), "done")
    return BenchResult(rows, seconds, connections, _reading(rows))


def _reading(rows: list[BenchRow]) -> str:
    measured = {(r.scheme, r.variant): r for r in rows if r.check_us is not None}
    memory, hs = measured.get(("session", "memory")), measured.get(("jwt", "HS256"))
    slowest = max((r for r in measured.values() if r.scheme == "jwt"), key=lambda r: r.check_us, default=None)
    if not (memory and hs and slowest):
        return ""
    share = hs.check_us / (1e6 / hs.requests_per_s) * 100
    gap = (memory.requests_per_s / hs.requests_per_s - 1) * 100
    return (f"Reading: a memory lookup costs {memory.check_us:.1f} µs, an HS256 verification "
            f"{hs.check_us:.1f} µs and {slowest.variant} {slowest.check_us:.0f} µs; yet the HS256 check is "
            f"only ~{share:.0f}% of a whole request here, so over HTTP memory sessions answer "
            f"{abs(gap):.0f}% {'more' if gap >= 0 else 'fewer'} requests/s, not {hs.check_us / memory.check_us:.0f}x. "
            f"Beyond speed, the schemes differ in where the state lives and in the bytes sent with "
            f"every request: {memory.credential_bytes} for the cookie, {hs.credential_bytes} for an "
            f"HS256 bearer token.")
