"""Requests/s of `authcli serve` against a bare ThreadingHTTPServer doing the same work.

For each scheme and store (session in memory, session in Redis, JWT HS256) and each number of
connections, every server runs as its own process and wrk hits an authenticated GET /profile
on each. Rounds are interleaved, each round starting with the next server, so drift hits all;
each cell is the median of the rounds with the spread (min-max), in requests/s and in requests
per CPU-second of the server process (on a machine shared with other work, a server with one
thread per connection gets more of the CPU than one event loop: req/s then measures the
scheduler's share, CPU time what the server spends). authcli runs with its log on, one line per
request, written to /dev/null as a pipe would take it; the peers log nothing.

    python benchmarks/serve_throughput.py [--seconds 4] [--rounds 5] [--connections 10,100]
        [--modes session,redis,jwt] [--peers starlette,starlette+extras,express]

The peers (peers/, session and jwt rows) need: pip install starlette uvicorn uvloop httptools,
and npm install --prefix benchmarks/peers/.node express@5 express-session@1 argon2@0.45 jsonwebtoken@9

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
    deadline = time.monotonic() + 30  # a busy shared machine: importing can take seconds
    while True:
        try:
            resp = requests.post(url + "/login", json=CREDS, timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                proc.terminate()  # never left running behind a failed benchmark
                proc.wait()
                raise RuntimeError("authcli serve did not start") from None
            time.sleep(0.05)
    credential = resp.json()["token"] if mode == "jwt" else resp.cookies["sessionId"]
    return proc, url, _header(mode, credential)


def start_peer(name: str, mode: str) -> tuple[subprocess.Popen, str, str]:
    """A peer from peers/ (Starlette on uvicorn, Express), logged in through its own /login."""
    port_file = Path(tempfile.mkdtemp()) / "port"
    args = {"starlette": [sys.executable, str(HERE / "peers" / "starlette_app.py"), mode, str(port_file), "plain"],
            "starlette+extras": [sys.executable, str(HERE / "peers" / "starlette_app.py"), mode, str(port_file), "extras"],
            "express": ["node", str(HERE / "peers" / "express_app.js"), mode, str(port_file)]}[name]
    env = {**os.environ, "NODE_PATH": str(HERE / "peers" / ".node" / "node_modules")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().endswith("\n")):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        resp = requests.post(url + "/login", json=CREDS, timeout=10)
        resp.raise_for_status()
    except BaseException:
        proc.terminate()
        proc.wait()
        raise
    return proc, url, _header(mode, resp.json()["token"] if mode == "jwt" else resp.cookies["sessionId"])


def _header(mode: str, credential: str) -> str:
    return f"Authorization: Bearer {credential}" if mode == "jwt" else f"Cookie: sessionId={credential}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads: what it cost, whoever else ran."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, header: str, seconds: int, connections: int, pid: int | None = None) -> tuple[float, int, float]:
    """Requests/s, wrk's socket errors (connect, read, write, timeout) added up, and requests
    per CPU-second of the server (0 without a pid or /proc)."""
    name, _, value = header.partition(": ")
    assert requests.get(url + "/profile", headers={name: value}).status_code == 200
    before = cpu_seconds(pid) if pid and os.path.exists(f"/proc/{pid}/stat") else None
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", header, url + "/profile"],
                         capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before if before is not None else 0.0
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers under load:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, sum(map(int, errors.groups())) if errors else 0, rate * seconds / used if used else 0.0


def cell(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def measure(mode: str, redis_url: str | None, opts) -> None:
    servers: dict[str, tuple[subprocess.Popen, str, str]] = {}
    try:
        servers["bare"] = start_bare(mode, redis_url)
        servers["authcli"] = start_authcli(mode, redis_url)
        if mode != "redis":
            for peer in opts.peers:
                servers[peer] = start_peer(peer, mode)
        names = list(servers)
        for connections in opts.connections:
            rates: dict[str, list[float]] = {name: [] for name in names}
            per_cpu: dict[str, list[float]] = {name: [] for name in names}
            errors = dict.fromkeys(names, 0)
            for i in range(opts.rounds):  # each round starts with the next server: drift hits all
                for name in names[i % len(names):] + names[:i % len(names)]:
                    proc, url, header = servers[name]
                    rate, failed, rate_cpu = wrk(url, header, opts.seconds, connections, proc.pid)
                    rates[name].append(rate)
                    per_cpu[name].append(rate_cpu)
                    errors[name] += failed
            ours, ours_cpu = statistics.median(rates["authcli"]), statistics.median(per_cpu["authcli"])
            for name in names:
                ratio = ours / statistics.median(rates[name])
                ratio_cpu = ours_cpu / statistics.median(per_cpu[name]) if statistics.median(per_cpu[name]) else 0
                print(f"{LABELS[mode]:<17} {connections:>5}  {name:<17} {cell(rates[name]):>24}  "
                      f"{cell(per_cpu[name]):>24}  {ratio:>5.2f}  {ratio_cpu:>5.2f}  {errors[name]:>6}", flush=True)
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="runs per server, interleaved; the median counts")
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")], default=[10, 100])
    parser.add_argument("--peers", type=lambda s: [p for p in s.split(",") if p], default=[],
                        help="also run these peers (session and jwt rows): starlette,starlette+extras,express")
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["session", "redis", "jwt"])
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk: apt-get install wrk")
    redis = None
    if shutil.which("redis-server"):
        from authcli.stores.redis import ThrowawayRedis
        redis = ThrowawayRedis(shutil.which("redis-server"))
    print(f"wrk -t2, {opts.seconds} s x {opts.rounds} rounds interleaved, median (min-max); "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; authcli logging on")
    print("ratio: authcli's median / this server's; per CPU-s: requests per second of the server's own CPU "
          "time (user + system), which a busy shared machine distorts less than req/s")
    print(f"{'scheme / store':<17} {'conns':>5}  {'server':<17} {'req/s':>24}  {'req per CPU-s':>24}  {'ratio':>5}"
          f"  {'/CPU':>5}  {'socket errors':>6}")
    try:
        for mode in opts.modes:
            if mode == "redis" and redis is None:
                print(f"{LABELS[mode]:<17} skipped: no redis-server")
                continue
            measure(mode, redis.url if mode == "redis" else None, opts)
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
