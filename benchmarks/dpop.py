"""What DPoP (RFC 9449) costs a server per request: GET /profile with a bearer token against the
same request with `Authorization: DPoP` and a proof, on the same signing key.

    python benchmarks/dpop.py [--rounds 7] [--requests 1000]

1. In process: the scheme's `handle()` on a parsed request, the time the server's own work
   takes (bearer: the token's checks; DPoP: the proof's checks, its ES256 signature, the jti
   cache, then the same token checks). Proofs are made beforehand: making one is the client's
   work, not the server's.
2. Over HTTP on 127.0.0.1 (one keep-alive connection, `requests`): a whole request, with the
   DPoP request's headers about 500 bytes longer.

Rounds alternate which runs first; the median of the rounds is printed with their range,
never the best run. Each DPoP request carries a proof of its own, as a client sends it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import requests

from authcli.server.journal import Request
from authcli.server.policy import DpopPolicy
from authcli.server.schemes.dpop import DpopJwtAuth
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.dpop import make_proof, make_proof_key
from authcli.tokens.signing import issue, make_signing_key

HOST = "127.0.0.1:8000"
# Room for every proof of the run: the default (10,000 live jti) would answer 503 part way.
ROOMY = DpopPolicy(replay_entries=10 ** 7)


def tokens(alg: str, now: float) -> tuple[JwtAuth, DpopJwtAuth, str, str, object]:
    key, proof_key = make_signing_key(alg), make_proof_key()
    claims = {"sub": "1", "userId": 1, "iat": int(now), "exp": int(now) + 3600, "jti": "bench"}
    plain = issue(key, claims)
    bound = issue(key, {**claims, "cnf": {"jkt": proof_key.jkt}})
    clock = (lambda: now)
    return (JwtAuth(key, 3600, clock=clock), DpopJwtAuth(key, 3600, clock=clock, dpop=ROOMY), plain, bound,
            proof_key)


def in_process(alg: str, rounds: int, n: int) -> dict[str, list[float]]:
    now = time.time()
    plain_auth, dpop_auth, plain, bound, proof_key = tokens(alg, now)
    url = f"http://{HOST}/profile"
    bearer = Request("GET", "/profile", "HTTP/1.1", [("Host", HOST), ("Authorization", f"Bearer {plain}")])
    times: dict[str, list[float]] = {"bearer": [], "dpop": []}
    for r in range(rounds):
        proofs = [make_proof(proof_key, "GET", url, now, token=bound) for _ in range(n)]
        dpops = [Request("GET", "/profile", "HTTP/1.1", [("Host", HOST), ("Authorization", f"DPoP {bound}"),
                                                         ("DPoP", p)]) for p in proofs]

        def run_bearer() -> None:
            start = time.perf_counter()
            for _ in range(n):
                assert plain_auth.handle(bearer).status == 200
            times["bearer"].append((time.perf_counter() - start) / n * 1e6)

        def run_dpop() -> None:
            start = time.perf_counter()
            for request in dpops:
                assert dpop_auth.handle(request).status == 200
            times["dpop"].append((time.perf_counter() - start) / n * 1e6)

        for run in ((run_bearer, run_dpop) if r % 2 == 0 else (run_dpop, run_bearer)):
            run()
    return times


def over_http(alg: str, rounds: int, n: int) -> dict[str, list[float]]:
    now = time.time()
    _, _, plain, bound, proof_key = tokens(alg, now)
    key = make_signing_key(alg)  # each server signs its own tokens: log in to get them
    times: dict[str, list[float]] = {"bearer": [], "dpop": []}
    with AuthServer(JwtAuth(key, 3600)) as plain_server, \
            AuthServer(DpopJwtAuth(key, 3600, dpop=ROOMY)) as dpop_server:
        creds = {"email": "a@b.com", "password": "123"}
        with requests.Session() as http:
            plain = http.post(plain_server.url + "/login", json=creds, timeout=30).json()["token"]
            login_proof = make_proof(proof_key, "POST", dpop_server.url + "/login", time.time())
            bound = http.post(dpop_server.url + "/login", json=creds, headers={"DPoP": login_proof},
                              timeout=30).json()["token"]
            for r in range(rounds):
                proofs = [make_proof(proof_key, "GET", dpop_server.url + "/profile", time.time(), token=bound)
                          for _ in range(n)]

                def run_bearer() -> None:
                    start = time.perf_counter()
                    for _ in range(n):
                        got = http.get(plain_server.url + "/profile", headers={"Authorization": f"Bearer {plain}"})
                        assert got.status_code == 200, got.text
                    times["bearer"].append((time.perf_counter() - start) / n * 1e6)

                def run_dpop() -> None:
                    start = time.perf_counter()
                    for proof in proofs:
                        got = http.get(dpop_server.url + "/profile",
                                       headers={"Authorization": f"DPoP {bound}", "DPoP": proof})
                        assert got.status_code == 200, got.text
                    times["dpop"].append((time.perf_counter() - start) / n * 1e6)

                for run in ((run_bearer, run_dpop) if r % 2 == 0 else (run_dpop, run_bearer)):
                    run()
    return times


def report(title: str, times: dict[str, list[float]]) -> dict[str, object]:
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, values in times.items():
        print(f"  {title:<22} {name:<7} {med[name]:8.1f} µs  ({min(values):.1f}-{max(values):.1f})")
    print(f"  {title:<22} DPoP adds {med['dpop'] - med['bearer']:.1f} µs ({med['dpop'] / med['bearer']:.2f}x)")
    return {"median_us": med, "rounds_us": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="also print every round as JSON")
    args = parser.parse_args()
    results = {}
    for alg in ("HS256", "ES256"):
        print(f"server key {alg}, {args.rounds} rounds of {args.requests} requests, median (range):")
        results[f"{alg} in process"] = report(f"{alg} in process", in_process(alg, args.rounds, args.requests))
        results[f"{alg} over HTTP"] = report(f"{alg} over HTTP", over_http(alg, args.rounds, args.requests // 4))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
