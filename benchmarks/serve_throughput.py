"""Requests/s of `authcli serve` against a bare ThreadingHTTPServer doing the same work.

For each scheme and store (session in memory, session in Redis, JWT HS256) and each number of
connections, both servers run as their own processes and wrk hits an authenticated GET
/profile on each. Rounds are interleaved (bare, authcli, authcli, bare, ...) so drift hits
both; each cell is the median of the rounds with the spread (min-max). authcli runs with its
log on, one line per request, written to /dev/null as a pipe would take it.

    python benchmarks/serve_throughput.py [--seconds 4] [--rounds 5] [--connections 10,100]

Needs `authcli` installed (pip install '.[redis]'), wrk, and for the Redis row redis-server.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
CREDS = {"email": "a@b.com", "password": "123"}
LABELS = {"session": "session / memory", "redis": "session / redis", "jwt": "jwt / HS256"}


def start_bare(mode: str, redis_url: str | None) -> tuple[subprocess.Popen, str, str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    args = [sys.executable, str(HERE / "bare_server.py"), mode, str(port_file)] + ([redis_url] if redis_url else [])
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 10
    while not (port_file.exists() and port_file.read_text().endswith("\n")):
        if time.monotonic() > deadline:
            raise RuntimeError("bare server did not start")
        time.sleep(0.02)
    port, credential = port_file.read_text().split()
    return proc, f"http://127.0.0.1:{port}", _header(mode, credential)


def start_authcli(mode: str, redis_url: str | None) -> tuple[subprocess.Popen, str, str]:
    from authcli.stores.redis import free_port

    port = free_port()
    args = ["authcli", "serve", "--port", str(port), "--ttl", "3600"]
    args += ["--mode", "jwt"] if mode == "jwt" else ["--mode", "session"]
    if mode == "redis":
        args += ["--store", "redis", "--redis-url", redis_url]
    # The log (one line per request) goes to /dev/null: written and flushed, as to a pipe.
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "NO_COLOR": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            resp = requests.post(url + "/login", json=CREDS, timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError("authcli serve did not start") from None
            time.sleep(0.05)
    credential = resp.json()["token"] if mode == "jwt" else resp.cookies["sessionId"]
    return proc, url, _header(mode, credential)


def _header(mode: str, credential: str) -> str:
    return f"Authorization: Bearer {credential}" if mode == "jwt" else f"Cookie: sessionId={credential}"


def wrk(url: str, header: str, seconds: int, connections: int) -> tuple[float, int]:
    """Requests/s, and wrk's socket errors (connect, read, write, timeout) added up."""
    name, _, value = header.partition(": ")
    assert requests.get(url + "/profile", headers={name: value}).status_code == 200
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", header, url + "/profile"],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers under load:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), sum(map(int, errors.groups())) if errors else 0


def cell(values: list[float]) -> str:
    return f"{statistics.median(values):>7,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def measure(mode: str, redis_url: str | None, opts) -> None:
    procs = []
    try:
        bare = start_bare(mode, redis_url)
        ours = start_authcli(mode, redis_url)
        procs = [bare[0], ours[0]]
        for connections in opts.connections:
            runs: dict[str, list[float]] = {"bare": [], "authcli": []}
            errors = {"bare": 0, "authcli": 0}
            for i in range(opts.rounds):
                order = [("bare", bare), ("authcli", ours)]
                for name, (_, url, header) in order if i % 2 == 0 else reversed(order):
                    rate, failed = wrk(url, header, opts.seconds, connections)
                    runs[name].append(rate)
                    errors[name] += failed
            ratio = statistics.median(runs["authcli"]) / statistics.median(runs["bare"])
            print(f"{LABELS[mode]:<17} {connections:>5}  {cell(runs['bare']):>24}  {cell(runs['authcli']):>24}"
                  f"  {ratio:>5.2f}  {errors['bare']:>6} / {errors['authcli']}", flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="runs per server, interleaved; the median counts")
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")], default=[10, 100])
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk: apt-get install wrk")
    redis = None
    if shutil.which("redis-server"):
        from authcli.stores.redis import ThrowawayRedis
        redis = ThrowawayRedis(shutil.which("redis-server"))
    print(f"wrk -t2, {opts.seconds} s x {opts.rounds} rounds interleaved, median (min-max); "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; authcli logging on")
    print(f"{'scheme / store':<17} {'conns':>5}  {'bare req/s':>24}  {'authcli req/s':>24}  {'ratio':>5}"
          "  socket errors bare / authcli")
    try:
        for mode in ("session", "redis", "jwt"):
            if mode == "redis" and redis is None:
                print(f"{LABELS[mode]:<17} skipped: no redis-server")
                continue
            measure(mode, redis.url if mode == "redis" else None, opts)
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
