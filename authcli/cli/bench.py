"""`authcli bench`: session lookup vs JWT verification, measured on this machine."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from dataclasses import asdict
from typing import Optional

import typer

from authcli.cli.common import (
    DataFormat, redis_url_option, reports_errors, stderr_console, stdout_console, try_store, wants_json,
)
from authcli.render import base as formats


@reports_errors
def bench(
    quick: bool = typer.Option(False, "--quick", help="A few seconds in all, rougher numbers."),
    json_out: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
    fmt: DataFormat = typer.Option(formats.DEFAULT, "--format", "-f", help="rich: a table; json: the same as --json."),
    redis_url: Optional[str] = redis_url_option(),
) -> None:
    """Measure what checking one authenticated request costs: session lookup vs JWT verification.

    Prints, for sessions in each store and HS256/RS256/ES256/EdDSA tokens, the check in
    microseconds, requests/s over real HTTP through authcli's own server, and the bytes of
    credentials each request carries.

    \b
    Example: authcli bench --quick
    """
    from authcli import bench as measure
    from authcli.stores import facts

    with ExitStack() as stack:
        stores = {}
        for name in measure.STORES:
            source, problem = try_store(stack, name, redis_url if facts(name).takes_url else None)
            stores[name] = source or problem
        err_console = stderr_console()
        if err_console.is_terminal:
            from rich.progress import Progress

            with Progress(console=err_console, transient=True) as bar:
                task = bar.add_task("measuring", total=len(measure.CONFIGS))

                def progress(done: int, total: int, label: str) -> None:
                    bar.update(task, completed=done, total=total, description=f"measuring {label}")

                result = measure.run(quick=quick, stores=stores, progress=progress)
        else:
            result = measure.run(quick=quick, stores=stores)
    if wants_json(fmt, json_out):
        sys.stdout.write(json.dumps(asdict(result), indent=2) + "\n")
    else:
        from authcli.render.bench import bench_renderable
        stdout_console().print(bench_renderable(result))
