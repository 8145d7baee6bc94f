"""The `authcli` command: typer apps only; they parse options, call the library, render."""

from __future__ import annotations

import sys


def main() -> None:
    # `--version` answers before typer is even imported: it is what scripts and bug reports ask.
    if sys.argv[1:] == ["--version"]:
        from authcli import __version__

        print(f"authcli {__version__}")
        return
    from authcli.clock import PROBLEM

    if PROBLEM:  # a test harness's typo must not pass as an unshifted run
        print(f"error: {PROBLEM}", file=sys.stderr)
        raise SystemExit(2)
    # `decode` is what people paste tokens into, `sign` what scripts call: each runs without typer
    # unless it needs help or has a usage error, which typer reports (authcli/cli/inspecting.py,
    # authcli/cli/issuing.py).
    if sys.argv[1:2] in (["decode"], ["sign"]):
        if sys.argv[1] == "decode":
            from authcli.cli.inspecting import fast_decode as fast
        else:
            from authcli.cli.issuing import fast_sign as fast
        code = fast(sys.argv[2:])
        if code is not None:
            sys.stdout.flush()
            raise SystemExit(code)
    from authcli.cli.app import app

    app()
