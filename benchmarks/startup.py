"""Wall time of whole commands: authcli's start-up and demos against a minimal PyJWT script.

Uses hyperfine (Debian package `hyperfine`) when installed, else a plain timing loop.
Usage: python benchmarks/startup.py [--runs 20]    (needs `authcli` installed, not editable:
an editable install adds an import hook that costs ~7 ms per start)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MINIMAL = ("import jwt, json, sys; "
           "print(json.dumps(jwt.decode(sys.argv[1], options={'verify_signature': False})))")


def token() -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": "123", "iat": now, "exp": now + 3600}, "s" * 32, algorithm="HS256")


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Mean seconds per command."""
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            args = ["hyperfine", "-N", "--warmup", "2", "--runs", str(runs), "--export-json", out.name]
            for name, argv in commands.items():
                args += ["-n", name, subprocess.list2cmdline(argv)]
            subprocess.run(args, check=True, capture_output=True)
            results = json.load(open(out.name))["results"]
        return {r["command"]: r["mean"] for r in results}
    means = {}
    for name, argv in commands.items():
        times = []
        for _ in range(runs + 2):
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        means[name] = statistics.mean(times[2:])
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    authcli = shutil.which("authcli") or sys.exit("authcli is not on PATH: pip install .")
    t = token()
    quick = {
        "minimal PyJWT decode script": [sys.executable, "-c", MINIMAL, t],
        "authcli decode TOKEN --json": [authcli, "decode", t, "--json"],
        "authcli decode TOKEN": [authcli, "decode", t],
        "authcli sign --sub 1 --secret S": [authcli, "sign", "--sub", "1", "--exp", "5m", "--secret", "s" * 32],
        "authcli --help": [authcli, "--help"],
        "authcli --version": [authcli, "--version"],
    }
    demos = {
        "authcli demo session --ttl 1": [authcli, "demo", "session", "--ttl", "1"],
        "authcli demo jwt --ttl 1": [authcli, "demo", "jwt", "--ttl", "1"],
    }
    means = measure(quick, opts.runs)
    means.update(measure(demos, max(3, opts.runs // 5)))
    base = means["minimal PyJWT decode script"]
    print(f"{'command':<32} {'mean':>9} {'vs minimal':>11}")
    for name, mean in means.items():
        ratio = f"{mean / base:.2f}x" if name in quick else f"TTL {mean - 1:+.2f} s"
        print(f"{name:<32} {mean * 1000:>7.1f}ms {ratio:>11}")


if __name__ == "__main__":
    main()
