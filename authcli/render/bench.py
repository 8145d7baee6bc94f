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
            low, high = r.requests_range or (r.requests_per_s, r.requests_per_s)
            rows.append([name, f"{r.check_us:,.1f}", f"{r.requests_per_s:,.0f} ({low:,.0f}-{high:,.0f})",
                         f"{r.credential_bytes} ({kind})"])
    title = (f"One authenticated GET /profile, with the cookie or token a real POST /login gave: the check "
             f"alone, then over real HTTP ({result.connections} keep-alive clients in this process; "
             f"{result.rounds} rounds of {result.seconds_per_http_run:g} s, taken in turn)")
    return Group(table(title, ["scheme / store", "µs per check", "req/s: median (range)", "credential bytes"], rows),
                 Text(result.reading))
