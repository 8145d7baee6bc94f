"""What every command shares: consoles made per call, one-line errors, the step player."""

from __future__ import annotations

import functools
import sys
from contextlib import ExitStack
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import typer

from authcli.cli.exits import exit_code
from authcli.encoding import is_text
from authcli.errors import AuthcliError, StoreMissing, StoreUnavailable, UsageError
from authcli.render import base as formats
from authcli.stores import DEFAULT, SOURCES

if TYPE_CHECKING:
    from authcli.stores import StoreSource
    from authcli.tokens.keys import SigningKey

F = TypeVar("F", bound=Callable[..., object])



class Alg(str, Enum):
    HS256 = "HS256"
    RS256 = "RS256"
    PS256 = "PS256"
    ES256 = "ES256"
    EdDSA = "EdDSA"


# One choice per store in the registry: a new store needs no change here.
STORE_CHOICES = "|".join(SOURCES)


def store_option(help: str, default: str | None = DEFAULT):
    """--store NAME, or NAME:PATH for a store kept in a file (sqlite:sessions.db)."""
    return typer.Option(default, "--store", metavar=f"[{STORE_CHOICES}][:PATH]", callback=_store_name,
                        show_default=DEFAULT, help=help)


def _store_name(value: str | None) -> str | None:
    if value is not None and value.partition(":")[0] not in SOURCES:
        raise typer.BadParameter(f"{value!r} is not one of {STORE_CHOICES.replace('|', ', ')} (NAME or NAME:PATH)")
    return value


def redis_url_option():
    return typer.Option(None, "--redis-url", help="Redis for --store redis (default: $REDIS_URL, "
                        "else redis://127.0.0.1:6379/0; if none answers, a throwaway redis-server is started).")


# -f/--format's choices: every name in the render registry, so a new format needs no change here.
Format = Enum("Format", {name: name for name in formats.FORMATS}, type=str)  # type: ignore[misc]


# decode and bench: a table for people, or JSON (no handout formats).
DataFormat = Enum("DataFormat", {name: name for name in formats.DATA_FORMATS}, type=str)  # type: ignore[misc]


def wants_json(fmt: DataFormat, as_json: bool) -> bool:
    """decode's and bench's --json, or -f json, which is the same."""
    return as_json or fmt.value == formats.JSON


def output_format(fmt: Format, as_json: bool) -> Format:
    """-f/--format with --json, which every command with JSON output takes (decode and bench
    began with it): --json is -f json, and names a second format beside any -f but the default."""
    chosen = Format(formats.JSON) if as_json else fmt
    if fmt.value not in (formats.DEFAULT, chosen.value):
        raise UsageError(f"--json and -f {fmt.value} ask for two formats: give one")
    return chosen


def json_option():
    return typer.Option(False, "--json", help="Print JSON: the same as -f json.")


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


def not_text(values: dict[str, object]) -> str | None:
    """The first parameter whose text is not valid UTF-8, or None. Python hands such bytes over
    as lone surrogates (`--secret $'\\xff'`), which no encoder takes: refused here, once, instead
    of a UnicodeEncodeError wherever the value is used. Paths are left alone: a file name may
    be any bytes."""
    for name, value in values.items():
        texts = value if isinstance(value, (list, tuple)) else [value]
        for text in texts:
            if isinstance(text, str) and not is_text(text):  # a lone surrogate: bytes that were not UTF-8
                return name
    return None


def _option_name(func: Callable[..., object], name: str) -> str:
    """How the user wrote parameter `name` of a command: its option (--secret) or its metavar
    (TOKEN), read from the typer.Option or typer.Argument that declares it."""
    import inspect

    param = inspect.signature(func).parameters.get(name)
    declared = getattr(param, "default", None)
    decls = [d for d in getattr(declared, "param_decls", None) or () if d.startswith("--")]
    return decls[0] if decls else getattr(declared, "metavar", None) or name.upper()


def reports_errors(func: F) -> F:
    """Turn AuthcliError and Ctrl-C into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            bad = not_text(kwargs)
            if bad is not None:
                raise UsageError(f"{_option_name(func, bad)} is not valid UTF-8 text")
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


MAX_ANSWER = 200  # characters of an answer line kept; the rest of a longer line is skipped


def read_answer(stream) -> str | None:
    """One answer line from `stream`, at most MAX_ANSWER characters; None at the end of input.
    A longer line is read past in bounded chunks, so memory and time stay linear and small."""
    try:
        line = stream.readline(MAX_ANSWER + 1)
        if not line:
            return None
        if not line.endswith("\n"):
            while (rest := stream.readline(65536)) and not rest.endswith("\n"):
                pass
    except (OSError, ValueError, UnicodeError):  # a closed stream, bytes that are not text
        return None
    return line.rstrip("\r\n")[:MAX_ANSWER]


def open_store(stack: ExitStack, kind: str, redis_url: str | None) -> StoreSource:
    """The store source for --store, entered on `stack`; its note goes to stderr."""
    from authcli.stores import facts, open_source

    kind, colon, path = kind.partition(":")
    if redis_url is not None and not facts(kind).takes_url:
        raise UsageError(f"--redis-url goes with --store redis, not --store {kind}")
    if colon and not facts(kind).takes_path:
        raise UsageError(f"--store {kind} takes no :PATH")
    source = stack.enter_context(open_source(kind, path if colon else redis_url))
    if source.note:
        notice(source.note)
    return source


def try_store(stack: ExitStack, kind: str, redis_url: str | None) -> tuple[StoreSource | None, str]:
    """Like open_store, for commands that go on without it: (source, "") or (None, why not)."""
    try:
        return open_store(stack, kind, redis_url), ""
    except (StoreMissing, StoreUnavailable) as err:  # none to be had, or one that answers wrongly
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
    from authcli.tokens.keys import HMAC_ALGS
    from authcli.tokens.signing import make_signing_key

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
    renderer = formats.make(fmt.value, formats.Output(sys.stdout, stdout_console, full=all_headers))
    if predict and not renderer.interactive:
        raise UsageError("--predict is for the terminal view: leave out -f/--format")
    # Only a person at a terminal can press Enter; never block a pipe or a CI job. --predict
    # reads its answers from stdin whatever it is (piped: one line per answer, no pauses),
    # and goes on unanswered (skipped) when it closes.
    pausing = pause and (predict or sys.stdin.isatty())
    from authcli.cli.stepper import play_steps

    console = stderr_console()

    typed = sys.stdin.isatty()

    def ask(prompt: str) -> str | None:
        if typed:
            try:
                reply = console.input(prompt, markup=False)
            except EOFError:
                reply = None
        else:  # piped answers: read a bounded line, never a whole 10 MB one (rich echoes it slowly)
            console.print(prompt, markup=False, highlight=False, end="")
            reply = read_answer(sys.stdin)
        if not typed:  # piped answers: show them after the prompt, as if typed
            console.print(reply if reply is not None else "(no more input)", markup=False, highlight=False)
        return reply

    play_steps(renderer, info, steps, ask=ask if pausing else None, predict=predict, pauses=typed,
               say=lambda line: console.print(line, markup=False, style="dim", soft_wrap=True))
