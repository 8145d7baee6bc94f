"""The server's classroom limits, measured: the targets of the server issue, one line each.

    python benchmarks/server_limits.py [--rounds 3]

1. 1,000 keep-alive clients (wrk -c1000) on `authcli serve`: socket errors, and the latency of
   a fresh client's GET /profile (a new connection each time) meanwhile, p50 and p99.
2. requests/s with 1 and with 100,000 sessions stored (memory), rounds interleaved.
3. 64 concurrent logins: the server's RSS idle, at its peak, and 2 s after; 200s and 503s.
4. 200,000 one-second sessions: how long until the memory store holds none.
5. `demo scaling` (rounds 1, 2, 4): time spent in server stops.

Needs `authcli` installed and wrk. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

CREDS = {"email": "a@b.com", "password": "123"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Serve:
    """`authcli serve` on a free port, its log sent to /dev/null (written and flushed)."""

    def __init__(self, *args: str):
        from authcli.stores.redis import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["authcli", "serve", "--port", str(self.port), "--ttl", "3600", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(self.url + "/nope", timeout=1)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("authcli serve did not start") from None
                time.sleep(0.05)

    def cookie(self) -> str:
        return "sessionId=" + requests.post(self.url + "/login", json=CREDS, timeout=10).cookies["sessionId"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def wrk(url: str, header: str, connections: int, seconds: int) -> tuple[float, str]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-H", header,
                          url + "/profile"], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Socket errors: .*", out)
    return rate, errors.group(0) if errors else "Socket errors: none"


def thousand_clients() -> None:
    serve = Serve()
    try:
        cookie = serve.cookie()
        result: dict[str, object] = {}
        load = threading.Thread(target=lambda: result.update(wrk=wrk(serve.url, f"Cookie: {cookie}", 1000, 10)))
        load.start()
        time.sleep(3)  # all 1,000 connected and busy
        times = []
        for _ in range(200):
            started = time.perf_counter()
            resp = requests.get(serve.url + "/profile", headers={"Cookie": cookie, "Connection": "close"}, timeout=10)
            times.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200
        load.join()
        times.sort()
        rate, errors = result["wrk"]
        print(f"1. 1,000 keep-alive clients: {rate:,.0f} req/s, {errors}; a fresh client's GET /profile "
              f"meanwhile: p50 {statistics.median(times):.1f} ms, p99 {times[int(len(times) * 0.99) - 1]:.1f} ms "
              f"(n={len(times)})")
    finally:
        serve.stop()


PREFILLED = r'''
import os, sys, threading
from authcli.render.serve import log_line, store_state
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.server.schemes.cookies import new_session_id
from authcli.stores.memory import MemoryStore
store = MemoryStore()
for _ in range(int(sys.argv[1])):
    store.create(new_session_id(), {"userId": 2, "createdAt": "-", "expiresAt": "-"}, 3600)
sid = new_session_id(); store.create(sid, {"userId": 1, "createdAt": "-", "expiresAt": "-"}, 3600)
out, lock = open(os.devnull, "w"), threading.Lock()
def log(record):  # what `authcli serve` does for each request
    line = log_line(record, store_state(store.count(), stateless=False), color=False)
    with lock:
        out.write(line); out.flush()
server = AuthServer(SessionAuth(store, 3600), on_record=log).start()
print(server.port, sid, flush=True)
sys.stdin.read()
server.stop()
'''


def stored_sessions(rounds: int) -> None:
    procs, runs = {}, {1: [], 100_000: []}
    try:
        for n in runs:
            proc = subprocess.Popen([sys.executable, "-c", PREFILLED, str(n)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            port, sid = proc.stdout.readline().split()
            procs[n] = (proc, f"http://127.0.0.1:{port}", f"Cookie: sessionId={sid}")
        for i in range(rounds):
            for n in (list(runs) if i % 2 == 0 else list(reversed(runs))):
                runs[n].append(wrk(procs[n][1], procs[n][2], 10, 4)[0])
    finally:
        for proc, _, _ in procs.values():
            proc.stdin.close()
            proc.wait()
    cells = [f"{n:,} stored: {statistics.median(v):,.0f} req/s ({min(v):,.0f}-{max(v):,.0f})" for n, v in runs.items()]
    print("2. " + "; ".join(cells) + f", logging on, 10 connections, {rounds} rounds interleaved")


def concurrent_logins() -> None:
    serve = Serve()
    try:
        idle = rss_mb(serve.proc.pid)
        statuses: list[int] = []
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], rss_mb(serve.proc.pid))

        def login() -> None:
            for _ in range(2):
                statuses.append(requests.post(serve.url + "/login", json=CREDS, timeout=30).status_code)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        workers = [threading.Thread(target=login) for _ in range(64)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        time.sleep(2)
        after = rss_mb(serve.proc.pid)
        print(f"3. 64 concurrent clients, 2 logins each, in {elapsed:.1f} s: {statuses.count(200)} x 200, "
              f"{statuses.count(503)} x 503; RSS idle {idle:.0f} MB, peak {peak[0]:.0f} MB, 2 s after {after:.0f} MB")
    finally:
        serve.stop()


def purge() -> None:
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.cookies import new_session_id
    from authcli.stores.memory import MemoryStore

    store = MemoryStore()
    with AuthServer(SessionAuth(store, 1)):
        started = time.monotonic()
        for _ in range(200_000):
            store.create(new_session_id(), {"userId": 1, "createdAt": "-", "expiresAt": "-"}, 1)
        made = time.monotonic() - started
        while store.count() and time.monotonic() - started < 30:
            time.sleep(0.05)
        gone = time.monotonic() - started
    print(f"4. 200,000 sessions of 1 s, created in {made:.1f} s: all gone {gone - made:.2f} s after the last "
          f"was created ({store.count()} left)")


def scaling_stops() -> None:
    from authcli.server.transport import httpd
    from authcli.walkthroughs.scaling import scaling_walkthrough

    spent, stops, original = [0.0], [0], httpd.AuthServer.stop

    def timed(self) -> None:
        started = time.perf_counter()
        original(self)
        spent[0] += time.perf_counter() - started
        stops[0] += 1

    httpd.AuthServer.stop = timed
    try:
        started = time.perf_counter()
        list(scaling_walkthrough((1, 2, 4)))
        total = time.perf_counter() - started
    finally:
        httpd.AuthServer.stop = original
    print(f"5. demo scaling (rounds 1, 2, 4): {stops[0]} server stops took {spent[0] * 1000:.0f} ms of "
          f"{total * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    thousand_clients()
    stored_sessions(opts.rounds)
    concurrent_logins()
    purge()
    scaling_stops()


if __name__ == "__main__":
    main()
