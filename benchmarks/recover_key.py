"""How long recovering an RSA public key from two RS256 tokens takes (the lab's
alg-confusion-no-key): gmpy2 (GMP) against Python's own ints, for 512-, 1024- and 2048-bit keys.

    python benchmarks/recover_key.py [--bits 1024,2048] [--rounds 3] [--python-cap 120]

Each round signs two new tokens with one new key and recovers n from them,
gcd(s1^e - m1, s2^e - m2) with e = 65537, timing the two powers and the gcd apart. Rounds
alternate which engine runs first; the median of the rounds is printed with their range, never
the best run. Python's ints run in a child process stopped after --python-cap seconds (its gcd
is quadratic: on numbers of 2048 * 65537 bits it takes hours), so a phase that did not finish
shows as "> cap". Wall time and the process's CPU time are both shown: on a shared machine the
CPU seconds say what the work costs, the wall seconds what the lab's user waits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time, math
e, s1, m1, s2, m2 = (int(x) for x in sys.argv[1:6])
t, c = time.perf_counter(), time.process_time(); a = s1 ** e - m1; b = s2 ** e - m2
print(json.dumps({"pow": time.perf_counter() - t, "pow cpu": time.process_time() - c}), flush=True)
t, c = time.perf_counter(), time.process_time(); g = math.gcd(a, b)
print(json.dumps({"gcd": time.perf_counter() - t, "gcd cpu": time.process_time() - c}), flush=True)
"""


def tokens(bits: int) -> tuple[object, object, object]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from authcli.tokens.parse import split
    from authcli.tokens.signing import from_private, issue

    if bits < 1024:
        from authcli.server.lab.jwt_weak import small_rsa_key

        key = small_rsa_key(bits)
    else:
        key = from_private(rsa.generate_private_key(public_exponent=65537, key_size=bits), "RS256")
    now = int(time.time())
    one, two = (issue(key, {"sub": str(i), "iat": now, "exp": now + 60}) for i in (1, 2))
    return key, split(one), split(two)


def numbers(first, second) -> tuple[int, int, int, int]:
    from authcli.tokens.recover import _parts, encoded

    (alg1, in1, sig1), (alg2, in2, sig2) = _parts(first), _parts(second)
    size = len(sig1)
    return (int.from_bytes(sig1, "big"), encoded(alg1, in1, size), int.from_bytes(sig2, "big"),
            encoded(alg2, in2, size))


def with_gmpy2(first, second, key) -> dict[str, float]:
    import gmpy2

    from authcli.tokens.recover import E, strip_small

    s1, m1, s2, m2 = (gmpy2.mpz(x) for x in numbers(first, second))
    t, c = time.perf_counter(), time.process_time()
    a, b = s1 ** E - m1, s2 ** E - m2
    powered, powered_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    g = int(gmpy2.gcd(a, b))
    gcd, gcd_cpu = time.perf_counter() - t, time.process_time() - c
    n, _ = strip_small(g, key.private.key_size)
    assert n == key.private.public_key().public_numbers().n, "gmpy2 did not recover the key"
    return {"pow": powered, "pow cpu": powered_cpu, "gcd": gcd, "gcd cpu": gcd_cpu}


def with_python(first, second, cap: float) -> dict[str, float | None]:
    from authcli.tokens.recover import E

    s1, m1, s2, m2 = numbers(first, second)
    args = [sys.executable, "-c", CHILD, str(E), str(s1), str(m1), str(s2), str(m2)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = child.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
    found: dict[str, float | None] = {"pow": None, "pow cpu": None, "gcd": None, "gcd cpu": None}
    for line in out.splitlines():
        found.update({k: v for k, v in json.loads(line).items() if k in found})
    return found


def show(name: str, runs: list[float | None], cap: float) -> str:
    if any(r is None for r in runs):
        return f"{name}: > {cap:.0f} s (stopped in {sum(r is None for r in runs)} of {len(runs)} rounds)"
    return (f"{name}: median {statistics.median(runs):.2f} s (range {min(runs):.2f}-{max(runs):.2f}, "
            f"{len(runs)} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", default="1024,2048")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-cap", type=float, default=120)
    args = parser.parse_args()
    for bits in (int(b) for b in args.bits.split(",")):
        times: dict[str, list] = {f"{engine} {phase}": [] for engine in ("gmpy2", "python")
                                  for phase in ("pow", "pow cpu", "gcd", "gcd cpu")}
        for r in range(args.rounds):
            key, first, second = tokens(bits)

            def gmp() -> None:
                for phase, t in with_gmpy2(first, second, key).items():
                    times[f"gmpy2 {phase}"].append(t)

            def py() -> None:
                for phase, t in with_python(first, second, args.python_cap).items():
                    times[f"python {phase}"].append(t)

            for run in ((gmp, py) if r % 2 == 0 else (py, gmp)):
                run()
        print(f"{bits}-bit key, s^e of {bits * 65537 / 1e6:.0f} million bits:")
        for name, runs in times.items():
            print("  " + show(name, runs, args.python_cap), flush=True)


if __name__ == "__main__":
    main()
