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
    assert seen[0] == (0, 3, "session / memory") and seen[-1] == (3, 3, "done")
    assert "HS256" in result.reading
