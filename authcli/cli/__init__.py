"""The `authcli` command: typer apps only; they parse options, call the library, render."""

from __future__ import annotations

import sys


def main() -> None:
    # `--version` answers before typer is even imported: it is what scripts and bug reports ask.
    if sys.argv[1:] == ["--version"]:
        from authcli import __version__

        print(f"authcli {__version__}")
        return
    from authcli.cli.app import app

    app()
