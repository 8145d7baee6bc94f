"""`authcli demo ...`: the narrated walkthroughs."""

from __future__ import annotations

import typer

from authcli.cli.common import Format, play, reports_errors

app = typer.Typer(help="Narrated walkthroughs on a real local server.", no_args_is_help=True)

FORMAT = typer.Option(Format.rich, "--format", "-f",
                      help="rich: coloured terminal output; markdown: a handout; json: data.")
STEP = typer.Option(False, "--step", help="Wait for Enter between steps (classroom mode; only on a terminal).")


@app.command("session")
@reports_errors
def session(
    ttl: int = typer.Option(3, "--ttl", min=1, max=3600,
                            help="Seconds a session lives on the server before it expires."),
    fmt: Format = FORMAT,
    step: bool = STEP,
) -> None:
    """Log in with a session cookie, use it, watch it expire, log out: every request shown.

    Example: authcli demo session --ttl 5 --step
    """
    from authcli.walkthroughs.session import INFO, session_walkthrough

    play(INFO, session_walkthrough(ttl), fmt, pause=step)
