"""A fresh client's GET /profile while hostile clients attack the server (issue #22): p50/p90/p99.

    python benchmarks/hostile_clients.py [--rounds 3] [--seconds 4] [--same-address] [--attackers-nice N]

`authcli serve` runs in its own process (log on, to /dev/null). Each attacker is a process of
its own, from its own loopback address (127.0.0.2-4: another student's laptop), unless
--same-address puts every client on 127.0.0.1 (a classroom behind one NAT address):

  pipeline  one connection sending `GET /nope` 64 KB at a time, reading the answers as they come
  hold      up to 4,100 idle connections, reopening every one the server closes
  logins    200 connections each sending wrong-password logins, again as soon as answered

On loopback the attackers' own CPU is taken from the server's cores, which a student's laptop on
the network would not do; --attackers-nice 10 runs them at a lower priority to model that (the
default, 0, is the harsher case).

The fresh client (127.0.0.1) opens a new connection for each GET /profile with a valid cookie,
one every 10 ms, and every 25th time logs in for real. Rounds are interleaved (quiet then
attacked, attacked then quiet, ...); each condition's samples are pooled over every round, never
a best run. Everything runs on 127.0.0.1, each phase bounded in time; the run ends by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
LOGIN_BODY = b'{"email": "a@b.com", "password": "123"}'
WRONG_BODY = b'{"email": "a@b.com", "password": "wrong"}'


def login_request(body: bytes) -> bytes:
    return (b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


def connect(port: int, source: str, timeout: float = 5) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((HOST, port))
    return sock


def one_answer(sock: socket.socket) -> tuple[int, bytes]:
    """Read one whole response (Content-Length framed): its status and its head."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    size = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0))
    while len(rest) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), head


# Attackers: each runs for `seconds`, then prints one JSON line of what it did -------------------

def pipeline(port: int, source: str, seconds: float) -> dict:
    sock = connect(port, source)
    burst = b"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n" * (65536 // 32)
    received = [0]
    end = time.monotonic() + seconds

    def read() -> None:
        sock.settimeout(0.5)
        while time.monotonic() < end:
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            received[0] += data.count(b"HTTP/1.1 ")

    reader = threading.Thread(target=read)
    reader.start()
    sent = 0
    sock.settimeout(0.5)
    while time.monotonic() < end:
        if sent * len(burst) // 32 - received[0] > 20000:  # keep ~20,000 requests in flight
            time.sleep(0.001)
            continue
        try:
            sock.sendall(burst)
            sent += 1
        except socket.timeout:
            continue
        except OSError:
            break
    reader.join()
    sock.close()
    return {"requests_sent": sent * len(burst) // 32, "answers_read": received[0]}


def hold(port: int, source: str, seconds: float) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    selector = selectors.DefaultSelector()
    opened = refused = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        while len(selector.get_map()) < 4100 and time.monotonic() < end:
            try:
                sock = connect(port, source, timeout=1)
            except OSError:
                refused += 1
                break
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            opened += 1
        for key, _ in selector.select(timeout=0.2):  # closed by the server (or a 503): reopen
            selector.unregister(key.fileobj)
            key.fileobj.close()
    held = len(selector.get_map())
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return {"opened": opened, "held_at_end": held, "connect_failures": refused}


def logins(port: int, source: str, seconds: float) -> dict:
    selector = selectors.DefaultSelector()
    request = login_request(WRONG_BODY)
    counts: dict[str, int] = {}
    end = time.monotonic() + seconds

    def start() -> None:
        try:
            sock = connect(port, source, timeout=1)
            sock.setblocking(False)
            sock.send(request)
            selector.register(sock, selectors.EVENT_READ)
        except OSError:
            counts["connect_failures"] = counts.get("connect_failures", 0) + 1

    for _ in range(200):
        start()
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 "):
                status = data[9:12].decode()
                counts[status] = counts.get(status, 0) + 1
            if not data or b"Connection: close" in data:
                selector.unregister(sock)
                sock.close()
                start()
            else:
                try:
                    sock.send(request)
                except OSError:
                    pass
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return counts


ATTACKERS = {"pipeline": pipeline, "hold": hold, "logins": logins}


# The measuring side --------------------------------------------------------------------------------

def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "authcli", "serve", "--port", str(port), "--ttl", "3600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            with connect(port, HOST, timeout=1) as sock:
                sock.sendall(b"GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                one_answer(sock)
            return proc
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("authcli serve did not start") from None
            time.sleep(0.05)


def fresh_profile(port: int, cookie: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        with connect(port, HOST, timeout=5) as sock:
            sock.sendall(b"GET /profile HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie + b"\r\nConnection: close\r\n\r\n")
            status, _ = one_answer(sock)
    except OSError:
        status = 0  # refused, reset or timed out: counted as an error
    return (time.perf_counter() - start) * 1000, status


def real_login(port: int) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    try:
        with connect(port, HOST, timeout=10) as sock:
            sock.sendall(login_request(LOGIN_BODY))
            status, head = one_answer(sock)
    except OSError:
        status, head = 0, b""
    return (time.perf_counter() - start) * 1000, status, head


def measure(port: int, cookie: bytes, seconds: float, result: dict) -> None:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        if n % 25 == 0:
            ms, status, _ = real_login(port)
            result.setdefault("login_ms", []).append(ms)
            result.setdefault("login_status", []).append(status)
        else:
            ms, status = fresh_profile(port, cookie)
            result.setdefault("ms", []).append(ms)
            result.setdefault("status", []).append(status)
        time.sleep(0.01)


def attacked(port: int, seconds: float, same_address: bool, nice: int, result: dict) -> None:
    sources = {"pipeline": "127.0.0.2", "hold": "127.0.0.3", "logins": "127.0.0.4"}
    procs = {name: subprocess.Popen(["nice", "-n", str(nice), sys.executable, __file__, "--attacker", name, "--port", str(port),
                                     "--source", HOST if same_address else sources[name],
                                     "--seconds", str(seconds + 1.5)], stdout=subprocess.PIPE, text=True)
             for name in ATTACKERS}
    time.sleep(1.0)  # the attack in full swing before measuring
    measure(port, result["cookie"], seconds, result)
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=30)
        result.setdefault("attackers", {}).setdefault(name, []).append(json.loads(out.strip().splitlines()[-1]))


def percentiles(samples: list[float]) -> str:
    if len(samples) < 2:
        return "no samples"
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"median {statistics.median(samples):7.1f} ms  p90 {q[89]:7.1f} ms  p99 {q[98]:7.1f} ms  (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--same-address", action="store_true")
    parser.add_argument("--attackers-nice", type=int, default=0)
    parser.add_argument("--attacker", choices=sorted(ATTACKERS))
    parser.add_argument("--port", type=int)
    parser.add_argument("--source", default=HOST)
    args = parser.parse_args()
    if args.attacker:
        print(json.dumps(ATTACKERS[args.attacker](args.port, args.source, args.seconds)), flush=True)
        return

    from authcli.stores.redis import free_port

    port = free_port()
    server = start_server(port)
    quiet: dict = {}
    loud: dict = {}
    try:
        _, status, head = real_login(port)
        assert status == 200, status
        cookie = next(line.split(b":", 1)[1].split(b";")[0].strip() for line in head.split(b"\r\n")
                      if line.lower().startswith(b"set-cookie:"))
        quiet["cookie"] = loud["cookie"] = cookie
        for r in range(args.rounds):
            phases = [("quiet", quiet), ("attacked", loud)]
            for name, result in (phases if r % 2 == 0 else phases[::-1]):
                if name == "quiet":
                    measure(port, cookie, args.seconds, result)
                else:
                    attacked(port, args.seconds, args.same_address, args.attackers_nice, result)
                time.sleep(1.0)  # the server settles (held sockets closed) before the next phase
    finally:
        server.terminate()
        _, err = server.communicate(timeout=15)
    report(args, quiet, loud, err.decode("utf-8", "replace"))


def report(args, quiet: dict, loud: dict, err: str) -> None:
    print(f"fresh client GET /profile, {args.rounds} interleaved rounds of {args.seconds:g} s each, "
          f"attackers from {'127.0.0.1 (same address)' if args.same_address else '127.0.0.2-4'}, "
          f"nice {args.attackers_nice}; load average at the end: {os.getloadavg()[0]:.1f}")
    for name, result in (("without attackers", quiet), ("with attackers", loud)):
        statuses = result.get("status", [])
        print(f"  {name:18} {percentiles(result.get('ms', []))}  "
              f"statuses {dict(sorted((s, statuses.count(s)) for s in set(statuses)))}")
        logins = result.get("login_status", [])
        print(f"  {'':18} real logins: {percentiles(result.get('login_ms', []))}  "
              f"statuses {dict(sorted((s, logins.count(s)) for s in set(logins)))}")
    for name, runs in loud.get("attackers", {}).items():
        print(f"  attacker {name}: {runs}")
    print(f"  server stderr: {'Traceback!' if 'Traceback' in err else 'no traceback'}"
          f"{'' if not err.strip() else ' (' + err.strip()[-300:] + ')'}")


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main()
