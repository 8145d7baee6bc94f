"""What every command shares: consoles made per call, one-line errors, the step player."""

from __future__ import annotations

import functools
import sys
from contextlib import ExitStack
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import typer

from authcli.cli.exits import exit_code
from authcli.errors import AuthcliError, StoreMissing, UsageError
from authcli.stores import SOURCES

if TYPE_CHECKING:
    from authcli.stores import StoreSource
    from authcli.tokens import SigningKey

F = TypeVar("F", bound=Callable[..., object])



class Alg(str, Enum):
    HS256 = "HS256"
    RS256 = "RS256"
    PS256 = "PS256"
    ES256 = "ES256"
    EdDSA = "EdDSA"


# One choice per store in the registry: a new store needs no change here.
StoreKind = Enum("StoreKind", {name: name for name in SOURCES}, type=str)  # type: ignore[misc]


def redis_url_option():
    return typer.Option(None, "--redis-url", help="Redis for --store redis (default: $REDIS_URL, "
                        "else redis://127.0.0.1:6379/0; if none answers, a throwaway redis-server is started).")


class Format(str, Enum):
    rich = "rich"
    markdown = "markdown"
    html = "html"
    json = "json"


def stdout_console():
    """A rich Console made per command, so NO_COLOR, the terminal check and COLUMNS are read
    at run time. rich is imported here, not at start-up: `--version` and `decode --json` never
    need it."""
    from authcli.cli.inspecting import plain_console

    return plain_console()


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def finite(value: float | None) -> float | None:
    """A numeric option's callback: NaN and infinities are usage errors (every comparison with
    NaN is false, so `--leeway nan` would let a token that expired in 1970 pass)."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def notice(message: str) -> None:
    """A line about the run itself (not the walkthrough): stderr, so piped output stays clean."""
    stderr_console().print(message, markup=False, soft_wrap=True, style="dim")


def error_line(err: AuthcliError) -> str:
    from authcli.render.escape import printable

    return f"error: {printable(str(err))}"


def reports_errors(func: F) -> F:
    """Turn AuthcliError and Ctrl-C into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except AuthcliError as err:
            # soft_wrap: one line however narrow the terminal, so scripts can read it; a message
            # may quote a token or a key file, so its control characters (newlines too) are escaped.
            stderr_console().print(error_line(err), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exit_code(err)) from None
        except KeyboardInterrupt:
            stderr_console().print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def open_store(stack: ExitStack, kind: str, redis_url: str | None) -> StoreSource:
    """The store source for --store, entered on `stack`; its note goes to stderr."""
    from authcli.stores import facts, open_source

    if redis_url is not None and not facts(kind).takes_url:
        raise UsageError(f"--redis-url goes with --store redis, not --store {kind}")
    source = stack.enter_context(open_source(kind, redis_url))
    if source.note:
        notice(source.note)
    return source


def try_store(stack: ExitStack, kind: str, redis_url: str | None) -> tuple[StoreSource | None, str]:
    """Like open_store, for commands that go on without it: (source, "") or (None, why not)."""
    try:
        return open_store(stack, kind, redis_url), ""
    except StoreMissing as err:
        return None, str(err)


def https_files(stack: ExitStack, https: bool, cert=None, key=None, ca=None):
    """--https: the user's --cert/--key (clients trust --ca, else the certificate itself), or a
    throwaway CA and certificate deleted when `stack` closes. None without --https."""
    if not https:
        if cert is not None or key is not None or ca is not None:
            raise UsageError("--cert, --cert-key and --ca go with --https")
        return None
    from authcli.tls import given_files, make_files

    if (cert is None) != (key is None):
        raise UsageError("give both --cert and --cert-key, or neither (a throwaway certificate is made)")
    if cert is not None:
        return given_files(cert, key, ca)
    if ca is not None:
        raise UsageError("--ca goes with --cert and --cert-key")
    files = make_files()
    stack.callback(files.remove)
    return files


def https_option():
    return typer.Option(False, "--https", help="Serve HTTPS with a throwaway CA and certificate (deleted at exit): "
                        "the cookie becomes __Host-sessionId with Secure, and clients verify the server.")


def signing_key(alg: str, secret: str | None) -> SigningKey:
    """A server's signing key from --alg and --secret."""
    from authcli.tokens import HMAC_ALGS, make_signing_key

    if secret is not None and alg not in HMAC_ALGS:
        raise UsageError(f"--secret is for HMAC (--alg HS256); {alg} uses a key pair made at start")
    return make_signing_key(alg, secret.encode("utf-8") if secret is not None else None)


def play(info, steps: Iterator, fmt: Format, *, pause: bool, all_headers: bool = False,
         predict: bool = False) -> None:
    """Feed a walkthrough's steps to a renderer, one at a time; `pause` waits for Enter;
    boilerplate headers fold and credentials shorten after their first showing unless
    `all_headers` (--all-headers/--verbose; JSON always carries everything); `predict` asks
    the class what each step will show first."""
    if predict and not pause:
        raise UsageError("--predict goes with --step: the class answers before each step is shown")
    if predict and fmt is not Format.rich:
        raise UsageError("--predict is for the terminal view: leave out -f/--format")
    # Only a person at a terminal can press Enter; never block a pipe or a CI job. --predict
    # reads its answers from stdin whatever it is, and goes on unanswered when it closes.
    pausing = pause and (predict or sys.stdin.isatty())
    if fmt is Format.rich:
        from authcli.render.terminal import TerminalRenderer
        renderer = TerminalRenderer(stdout_console(), fold_headers=not all_headers, concise=not all_headers)
    elif fmt is Format.markdown:
        from authcli.render.markdown import MarkdownRenderer
        renderer = MarkdownRenderer(sys.stdout, concise=not all_headers)
    elif fmt is Format.html:
        from authcli.render.html import HtmlRenderer
        renderer = HtmlRenderer(sys.stdout)
    else:
        from authcli.render.jsonout import JsonRenderer
        renderer = JsonRenderer(sys.stdout)
    from authcli.cli.stepper import play_steps

    console = stderr_console()

    typed = sys.stdin.isatty()

    def ask(prompt: str) -> str | None:
        try:
            reply = console.input(prompt, markup=False)
        except EOFError:
            reply = None
        if not typed:  # piped answers: show them after the prompt, as if typed
            console.print(reply if reply is not None else "(no more input)", markup=False, highlight=False)
        return reply

    play_steps(renderer, info, steps, ask=ask if pausing else None, predict=predict,
               say=lambda line: console.print(line, markup=False, style="dim", soft_wrap=True))
