"""Requests/s of `authcli serve` against a bare ThreadingHTTPServer doing the same lookup.

For each scheme and store (session in memory, session in Redis, JWT HS256) both servers run as
their own processes and the same load generator hits an authenticated GET /profile on each:
wrk from Debian's packages when installed, otherwise a bounded Python client (slower: it
measures the client as much as the server). Usage:

    python benchmarks/serve_throughput.py [--seconds 5] [--connections 8] [--rounds 3]

Needs `authcli` installed (pip install '.[redis]') and, for the Redis row, redis-server.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
CREDS = {"email": "a@b.com", "password": "123"}


def start_bare(mode: str, redis_url: str | None) -> tuple[subprocess.Popen, str, dict[str, str]]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    args = [sys.executable, str(HERE / "bare_server.py"), mode, str(port_file)] + ([redis_url] if redis_url else [])
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 10
    while not (port_file.exists() and port_file.read_text().endswith("\n")):
        if time.monotonic() > deadline:
            raise RuntimeError("bare server did not start")
        time.sleep(0.02)
    port, credential = port_file.read_text().split()
    return proc, f"http://127.0.0.1:{port}", _auth_header(mode, credential)


def start_authcli(mode: str, redis_url: str | None) -> tuple[subprocess.Popen, str, dict[str, str]]:
    args = ["authcli", "serve", "--port", "0", "--quiet", "--ttl", "3600"]
    args += ["--mode", "jwt"] if mode == "jwt" else ["--mode", "session"]
    if mode == "redis":
        args += ["--store", "redis", "--redis-url", redis_url]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)
    resp = requests.post(url + "/login", json=CREDS)
    credential = resp.json()["token"] if mode == "jwt" else resp.cookies["sessionId"]
    return proc, url, _auth_header(mode, credential)


def _auth_header(mode: str, credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"} if mode == "jwt" else {"Cookie": f"sessionId={credential}"}


def load(url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    """Requests/s on GET /profile; every answer must be 200."""
    assert requests.get(url + "/profile", headers=headers).status_code == 200
    if shutil.which("wrk"):
        (name, value), = headers.items()
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"{name}: {value}",
                              url + "/profile"], capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out:
            raise RuntimeError(f"non-2xx answers under load:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return _python_load(url, headers, seconds, connections)


def _python_load(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        with requests.Session() as http:
            while time.monotonic() < stop:
                if http.get(url + "/profile", headers=headers).status_code != 200:
                    raise RuntimeError("non-200 under load")
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server; the best counts")
    opts = parser.parse_args()

    redis = None
    if shutil.which("redis-server"):
        from authcli.stores.redis import ThrowawayRedis
        redis = ThrowawayRedis(shutil.which("redis-server"))
    generator = "wrk -t2" if shutil.which("wrk") else "Python threads"
    print(f"load: {generator}, {opts.connections} connections, {opts.seconds:g} s x {opts.rounds} rounds, "
          f"best run; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(f"{'scheme / store':<18} {'bare req/s':>11} {'authcli req/s':>14} {'ratio':>6}")
    try:
        for mode in ("session", "redis", "jwt"):
            if mode == "redis" and redis is None:
                print(f"{'session / redis':<18} skipped: no redis-server")
                continue
            url_arg = redis.url if mode == "redis" else None
            procs = []
            try:
                bare = start_bare(mode, url_arg)
                ours = start_authcli(mode, url_arg)
                procs = [bare[0], ours[0]]
                best = {"bare": 0.0, "authcli": 0.0}
                for _ in range(opts.rounds):
                    best["bare"] = max(best["bare"], load(bare[1], bare[2], opts.seconds, opts.connections))
                    best["authcli"] = max(best["authcli"], load(ours[1], ours[2], opts.seconds, opts.connections))
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait()
            label = {"session": "session / memory", "redis": "session / redis", "jwt": "jwt / HS256"}[mode]
            print(f"{label:<18} {best['bare']:>11.0f} {best['authcli']:>14.0f} {best['authcli'] / best['bare']:>6.2f}")
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
