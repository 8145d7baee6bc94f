"""Logins under load with Argon2id (m=19 MiB, t=2, p=1): one hash alone, logins/s, and the
server's memory while 64 clients log in at once.

    python benchmarks/logins.py [--clients 64] [--rounds 3]

1. One hash alone, median of 9: Argon2id as authcli stores it, and the scrypt (N=2^14, r=8,
   p=1) it replaced, for comparison on this machine.
2. `authcli serve` (memory sessions): logins/s from one client in a row, then from `--clients`
   clients at once (2 logins each); how many got 200 and how many 503 (the per-core bound on
   concurrent hashes turns the rest away after a 1 s wait); RSS idle, the kernel's peak
   (VmHWM) and 2 s after.

Needs `authcli` installed. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import threading
import time
from pathlib import Path

import requests
from server_limits import Serve  # run as a script from benchmarks/: its folder is on sys.path

CREDS = {"email": "a@b.com", "password": "123"}


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def hash_alone() -> None:
    from authcli.passwords import hash_password

    def median_ms(fn) -> float:
        times = []
        for _ in range(9):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    argon = median_ms(lambda: hash_password("123"))
    scrypt = median_ms(lambda: hashlib.scrypt(b"123", salt=b"0" * 16, n=2**14, r=8, p=1, dklen=32))
    print(f"1. one hash alone (median of 9): Argon2id m=19456,t=2,p=1 {argon:.0f} ms; "
          f"scrypt N=2^14,r=8,p=1 {scrypt:.0f} ms")


def login(serve: Serve) -> int:
    return requests.post(serve.url + "/login", json=CREDS, timeout=60).status_code


def logins(clients: int) -> None:
    serve = Serve()
    try:
        pid = serve.proc.pid
        login(serve)  # the demo user's own hash is made on the first login
        idle = status_mb(pid, "VmRSS")
        start, alone = time.perf_counter(), [login(serve) for _ in range(10)]
        one_rate = len(alone) / (time.perf_counter() - start)
        statuses: list[int] = []
        lock = threading.Lock()

        def client() -> None:
            for _ in range(2):
                code = login(serve)
                with lock:
                    statuses.append(code)

        workers = [threading.Thread(target=client) for _ in range(clients)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        peak = status_mb(pid, "VmHWM")
        time.sleep(2)
        after = status_mb(pid, "VmRSS")
        print(f"2. one client: {one_rate:.1f} logins/s. {clients} clients at once, 2 logins each, in "
              f"{elapsed:.1f} s: {statuses.count(200) / elapsed:.1f} logins/s answered 200 "
              f"({statuses.count(200)} x 200, {statuses.count(503)} x 503); RSS idle {idle:.0f} MB, "
              f"peak {peak:.0f} MB, 2 s after {after:.0f} MB")
    finally:
        serve.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    hash_alone()
    for _ in range(args.rounds):
        logins(args.clients)


if __name__ == "__main__":
    main()
