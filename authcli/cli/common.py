"""What every command shares: consoles made per call, one-line errors, the step player."""

from __future__ import annotations

import functools
import sys
from contextlib import closing
from enum import Enum
from typing import Callable, Iterator, TypeVar

import typer

from authcli.errors import AuthcliError

F = TypeVar("F", bound=Callable[..., object])


class Alg(str, Enum):
    HS256 = "HS256"
    RS256 = "RS256"
    ES256 = "ES256"
    EdDSA = "EdDSA"


class StoreKind(str, Enum):
    memory = "memory"
    redis = "redis"


def redis_url_option():
    return typer.Option(None, "--redis-url", help="Redis for --store redis (default: $REDIS_URL, "
                        "else redis://127.0.0.1:6379/0; if none answers, a throwaway redis-server is started).")


class Format(str, Enum):
    rich = "rich"
    markdown = "markdown"
    json = "json"


def stdout_console():
    """A rich Console made per command, so NO_COLOR, the terminal check and COLUMNS are read
    at run time. rich is imported here, not at start-up: `--version` and `decode --json` never
    need it."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def notice(message: str) -> None:
    """A line about the run itself (not the walkthrough): stderr, so piped output stays clean."""
    stderr_console().print(message, markup=False, soft_wrap=True, style="dim")


def reports_errors(func: F) -> F:
    """Turn AuthcliError and Ctrl-C into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except AuthcliError as err:
            # soft_wrap: one line however narrow the terminal, so scripts can read it.
            stderr_console().print(f"error: {err}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            stderr_console().print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def play(info, steps: Iterator, fmt: Format, *, pause: bool) -> None:
    """Feed a walkthrough's steps to a renderer, one at a time; `pause` waits for Enter."""
    if fmt is Format.rich:
        from authcli.render.terminal import TerminalRenderer
        renderer = TerminalRenderer(stdout_console())
    elif fmt is Format.markdown:
        from authcli.render.markdown import MarkdownRenderer
        renderer = MarkdownRenderer(sys.stdout)
    else:
        from authcli.render.jsonout import JsonRenderer
        renderer = JsonRenderer(sys.stdout)
    # Only a person at a terminal can press Enter; never block a pipe or a CI job.
    pause = pause and sys.stdin.isatty()
    renderer.start(info)
    with closing(steps):
        for step in steps:
            renderer.step(step)
            if pause:
                stderr_console().input("[dim]Enter: next step[/dim] ")
    renderer.end()
