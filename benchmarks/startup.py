"""Wall time of whole commands: authcli's start-up and demos against minimal PyJWT scripts.

Every round runs each command once, in a rotated order, so a busy moment on a shared machine
slows every command of that round alike; the table shows the median of the rounds with their
spread (min-max), and each ratio is the median of the per-round ratios with its 10th-90th
percentile range. It shows the CPU time (user + system) of each command too: on a busy machine
a command also waits for a core, which its wall time counts and its CPU time does not.

The baselines are what a user would otherwise write: a PyJWT script that signs the same claims
(`sub`, `iat`, `exp`), one that verifies a token with the secret and prints its claims, one
that decodes it unverified; and, for the floor, the same signing with only the standard library
(hmac, hashlib, base64, json), which is what `authcli sign` does for an HMAC secret
(authcli/tokens/hmacjws.py).

Usage: python benchmarks/startup.py [--rounds 20] [--demos] [--compare OTHER_AUTHCLI]
Needs `authcli` installed, not editable (an editable install adds an import hook that costs
~7 ms per start). --compare adds sign and decode of another install (say, the last release in
another venv), measured in the same rounds.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time

SECRET = "s" * 32
PYJWT_SIGN = ("import jwt, sys, time; now = int(time.time()); "
              "print(jwt.encode({'sub': '1', 'iat': now, 'exp': now + 300}, sys.argv[1], algorithm='HS256'))")
PYJWT_VERIFY = ("import jwt, json, sys; "
                "print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=['HS256'])))")
PYJWT_DECODE = ("import jwt, json, sys; "
                "print(json.dumps(jwt.decode(sys.argv[1], options={'verify_signature': False})))")
STDLIB_SIGN = ("import base64, hashlib, hmac, json, sys, time; now = int(time.time()); "
               "b = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b'=').decode(); "
               "head = b(json.dumps({'alg': 'HS256', 'typ': 'JWT'}, separators=(',', ':')).encode()); "
               "body = b(json.dumps({'sub': '1', 'iat': now, 'exp': now + 300}, separators=(',', ':')).encode()); "
               "print(f'{head}.{body}.' + b(hmac.new(sys.argv[1].encode(), f'{head}.{body}'.encode(), "
               "hashlib.sha256).digest()))")
BASE = "minimal PyJWT sign script"


def token() -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": "123", "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


def commands(authcli: str, compare: str | None) -> dict[str, list[str]]:
    t = token()
    py = sys.executable
    out = {
        BASE: [py, "-c", PYJWT_SIGN, SECRET],
        "stdlib HMAC sign script": [py, "-c", STDLIB_SIGN, SECRET],
        "python -c pass": [py, "-c", "pass"],
        "minimal PyJWT verify script": [py, "-c", PYJWT_VERIFY, t, SECRET],
        "minimal PyJWT decode script": [py, "-c", PYJWT_DECODE, t],
    }
    for label, exe in (("authcli", authcli), ("compared", compare)):
        if exe is None:
            continue
        out.update({
            f"{label} sign --sub 1 --exp 5m --secret S": [exe, "sign", "--sub", "1", "--exp", "5m", "--secret", SECRET],
            f"{label} decode TOKEN --secret S --json": [exe, "decode", t, "--secret", SECRET, "--json"],
            f"{label} decode TOKEN --secret S": [exe, "decode", t, "--secret", SECRET],
        })
    out.update({
        "authcli decode TOKEN --json": [authcli, "decode", t, "--json"],
        "authcli decode TOKEN": [authcli, "decode", t],
        "authcli --help": [authcli, "--help"],
        "authcli --version": [authcli, "--version"],
    })
    return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmds: dict[str, list[str]], rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and CPU seconds (user + system) per command per round; two warm-up rounds
    are not kept. On a shared machine the CPU time is the steadier of the two: waiting for a
    core counts in the wall time only."""
    names = list(cmds)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds + 2):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            start, start_cpu = time.perf_counter(), cpu_seconds()
            subprocess.run(cmds[name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r >= 2:
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(cpu_seconds() - start_cpu)
    return wall, cpu


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ratio(runs: list[float], base: list[float]) -> str:
    ratios = [t / b for t, b in zip(runs, base)]
    return f"{statistics.median(ratios):.2f}x ({quantile(ratios, 0.1):.2f}-{quantile(ratios, 0.9):.2f})"


def report(times: tuple[dict[str, list[float]], dict[str, list[float]]], base: str) -> None:
    wall, cpu = times
    print(f"{'command':<44} {'wall: median (min-max) ms':>26} {'ratio (p10-p90)':>18} {'CPU: median ms':>15} "
          f"{'ratio (p10-p90)':>18}")
    print(f"{'':<44} {'':>26} {'vs ' + base:>37}")
    for name, runs in wall.items():
        spread = f"{statistics.median(runs) * 1000:.0f} ({min(runs) * 1000:.0f}-{max(runs) * 1000:.0f})"
        print(f"{name:<44} {spread:>26} {_ratio(runs, wall[base]):>18} {statistics.median(cpu[name]) * 1000:>15.0f} "
              f"{_ratio(cpu[name], cpu[base]):>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--demos", action="store_true", help="also time demo session and demo jwt (--ttl 1)")
    parser.add_argument("--compare", metavar="AUTHCLI", help="another authcli executable to time beside this one")
    opts = parser.parse_args()
    authcli = shutil.which("authcli") or sys.exit("authcli is not on PATH: pip install .")
    report(measure(commands(authcli, opts.compare), opts.rounds), BASE)
    if opts.demos:
        demos = {"python -c pass": [sys.executable, "-c", "pass"],
                 "authcli demo session --ttl 1": [authcli, "demo", "session", "--ttl", "1"],
                 "authcli demo jwt --ttl 1": [authcli, "demo", "jwt", "--ttl", "1"]}
        print()
        report(measure(demos, max(3, opts.rounds // 5)), "python -c pass")


if __name__ == "__main__":
    main()
