"""`authcli bench` results as a table with a one-line reading."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from authcli.bench import BenchResult
from authcli.render.parts import table


def bench_renderable(result: BenchResult) -> RenderableType:
    rows = []
    for r in result.rows:
        name = f"{r.scheme} / {r.variant}"
        if r.check_us is None:
            rows.append([name, r.note, "", ""])
        else:
            kind = "cookie" if r.credential_header == "Cookie" else "bearer"
            rows.append([name, f"{r.check_us:,.1f}", f"{r.requests_per_s:,.0f}", f"{r.credential_bytes} ({kind})"])
    title = (f"One authenticated GET /profile: the check alone, then over real HTTP "
             f"({result.connections} keep-alive clients in this process, {result.seconds_per_http_run:g} s each)")
    return Group(table(title, ["scheme / store", "µs per check", "req/s over HTTP", "credential bytes"], rows),
                 Text(result.reading))
