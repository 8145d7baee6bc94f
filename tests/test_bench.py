"""`authcli bench`: real measurements, asserted on their shape, never on their speed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from authcli import bench
from authcli.stores.memory import MemorySource
from authcli.cli.app import app


def test_bench_json_has_every_row(redis_url):
    result = CliRunner().invoke(app, ["bench", "--quick", "--json", "--redis-url", redis_url])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {(r["scheme"], r["variant"]): r for r in doc["rows"]}
    assert set(rows) == set(bench.CONFIGS)
    for row in rows.values():
        assert row["check_us"] > 0 and row["requests_per_s"] > 0
    assert rows[("session", "memory")]["credential_bytes"] == len("Cookie: sessionId=") + 43
    assert rows[("jwt", "RS256")]["credential_bytes"] > rows[("jwt", "HS256")]["credential_bytes"]
    assert doc["reading"].startswith("Reading: a memory lookup costs")


def test_bench_without_redis_skips_that_row(monkeypatch):
    monkeypatch.setattr(bench, "CONFIGS", [("session", "memory"), ("session", "redis"), ("jwt", "HS256")])
    seen = []
    result = bench.run(quick=True, stores={"memory": MemorySource(), "redis": "no redis-server"},
                       progress=lambda done, total, label: seen.append((done, total, label)))
    redis_row = next(r for r in result.rows if r.variant == "redis")
    assert redis_row.check_us is None and "no redis-server" in redis_row.note
    total = 2 * (bench.ROUNDS + 1)  # two measured: each check alone, then each HTTP round
    assert seen[0] == (0, total, "session / memory: the check alone") and seen[-1] == (total, total, "done")
    assert "HS256" in result.reading


def test_the_bench_measures_the_demos_own_credentials(monkeypatch):
    """The bearer token's bytes under bench's heading are the JWT demo's: both come from a real
    POST /login with the same claims."""
    import time as _time

    from authcli.tokens.signing import make_signing_key
    from authcli.walkthroughs.jwt import jwt_walkthrough
    from conftest import FakeClock

    monkeypatch.setattr(bench, "CONFIGS", [("jwt", "HS256")])
    row = bench.run(quick=True).rows[0]
    clock = FakeClock(_time.time())
    steps = list(jwt_walkthrough(make_signing_key("HS256"), 3, clock=clock, sleep=clock.advance))
    profile = next(s for s in steps if s.number == 3).exchange
    assert row.credential_bytes == len(f"Authorization: {profile.request.header('Authorization')}")


def _row(variant: str, us: float, rates: tuple[float, float, float]) -> "bench.BenchRow":
    scheme = "session" if variant == "memory" else "jwt"
    return bench.BenchRow(scheme, variant, "", us, sorted(rates)[1], "Cookie", 61, requests_range=(min(rates), max(rates)))


def test_the_reading_claims_a_difference_only_when_every_round_shows_it():
    overlapping = bench._reading([_row("memory", 2, (3900, 4100, 4000)), _row("HS256", 27, (3800, 4050, 3950))])
    assert "about as many requests/s" in overlapping and "more" not in overlapping.split("Beyond")[0]
    apart = bench._reading([_row("memory", 2, (4900, 5100, 5000)), _row("HS256", 27, (3800, 4050, 3950))])
    assert "answered 27% more requests/s than HS256 tokens in every round" in apart
    reversed_ = bench._reading([_row("memory", 2, (3000, 3100, 3050)), _row("HS256", 27, (3800, 4050, 3950))])
    assert "fewer requests/s" in reversed_
