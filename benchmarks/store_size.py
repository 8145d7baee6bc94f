"""Does `authcli serve`'s log cost more when its store holds many sessions? It should not.

For Redis and SQLite, two `authcli serve` processes with their log on run side by side: one on a
store holding one session, one on a store holding --sessions more (made through the store's
own create(), so they are indexed and counted as any session is). wrk hits GET /profile on each,
rounds interleaved; each cell is the median of the rounds with the spread, in req/s and in
requests per CPU-second of the server process (steadier on a shared machine), and the ratio is
full / one (1.0: the log's store size costs the same whatever the store holds).

    python benchmarks/store_size.py [--sessions 100000] [--seconds 3] [--rounds 5] [--connections 10]

Needs authcli installed, wrk, and redis-server for the Redis row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_throughput import CREDS, cell, wrk  # noqa: E402

from authcli.server.schemes.cookies import new_session_id  # noqa: E402
from authcli.stores.redis import free_port  # noqa: E402

RECORD = {"userId": 1, "createdAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-01-01T01:00:00Z"}


def fill(store, n: int) -> None:
    for _ in range(n):
        store.create(new_session_id(), RECORD, 3600)


def serve(store_args: list[str]) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    proc = subprocess.Popen(["authcli", "serve", "--port", str(port), "--ttl", "3600", *store_args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 20
    while True:
        try:
            resp = requests.post(url + "/login", json=CREDS, timeout=5)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError("authcli serve did not start") from None
            time.sleep(0.05)
    return proc, url, f"Cookie: sessionId={resp.cookies['sessionId']}"


def compare(label: str, one: list[str], full: list[str], opts) -> None:
    servers = {"one": serve(one), "full": serve(full)}
    try:
        rates: dict[str, list[float]] = {"one": [], "full": []}
        per_cpu: dict[str, list[float]] = {"one": [], "full": []}
        for i in range(opts.rounds):
            for name in (["one", "full"] if i % 2 == 0 else ["full", "one"]):
                proc, url, header = servers[name]
                rate, _, rate_cpu = wrk(url, header, opts.seconds, opts.connections, proc.pid)
                rates[name].append(rate)
                per_cpu[name].append(rate_cpu)
        ratio = statistics.median(rates["full"]) / statistics.median(rates["one"])
        ratio_cpu = statistics.median(per_cpu["full"]) / statistics.median(per_cpu["one"])
        print(f"{label:<8} {cell(rates['one']):>22} {cell(rates['full']):>22}  {ratio:5.2f}   "
              f"{cell(per_cpu['one']):>22} {cell(per_cpu['full']):>22}  {ratio_cpu:5.2f}", flush=True)
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    opts = ap.parse_args()
    print(f"GET /profile, log on; wrk -t2 -c{opts.connections}, {opts.seconds} s x {opts.rounds} rounds "
          f"interleaved, median (min-max) req/s; {opts.sessions:,} extra sessions in the full store")
    print(f"{'store':<8} {'req/s, 1 session':>22} {f'+{opts.sessions:,} sessions':>22}  ratio   "
          f"{'req per CPU-s, 1':>22} {f'+{opts.sessions:,}':>22}  ratio")
    from authcli.stores.sqlite import SqliteStore

    folder = Path(tempfile.mkdtemp())
    sqlite_full = str(folder / "full.sqlite3")
    store = SqliteStore(sqlite_full)
    fill(store, opts.sessions)
    store.close()
    compare("sqlite", ["--store", f"sqlite:{folder / 'one.sqlite3'}"], ["--store", f"sqlite:{sqlite_full}"], opts)
    if shutil.which("redis-server"):
        from authcli.stores.redis import RedisStore, ThrowawayRedis

        one, full = ThrowawayRedis(shutil.which("redis-server")), ThrowawayRedis(shutil.which("redis-server"))
        try:
            store = RedisStore(full.url)
            fill(store, opts.sessions)
            store.close()
            compare("redis", ["--store", "redis", "--redis-url", one.url],
                    ["--store", "redis", "--redis-url", full.url], opts)
        finally:
            one.stop()
            full.stop()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
