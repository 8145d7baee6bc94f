"""What `authcli decode` does, without typer: the option table, the key rules, and a fast path.

`authcli decode` is what people paste tokens into; typer alone costs it 35-45 ms of start-up.
`fast_decode` parses decode's options from DECODE_OPTIONS and runs it without importing typer.
Anything it does not recognise, including --help and every malformed option, goes back to the
typer command, which gives click's usual messages. tests/test_decode.py checks that this table
and the typer command declare the same options, so the two cannot drift.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from authcli import clock
from authcli.encoding import is_text
from authcli.errors import UsageError

MAX_INPUT = 1024 * 1024
# option -> (parameter, kind): "text", "path", "float", "flag", "list", "format".
DECODE_OPTIONS = {
    "--secret": ("secret", "text"), "--secret-file": ("secret_file", "path"), "--key": ("key", "path"),
    "--alg": ("alg", "text"), "--leeway": ("leeway", "float"), "--audience": ("audience", "text"),
    "--at": ("at", "text"), "--ignore-exp": ("ignore_exp", "flag"), "--require": ("require", "list"),
    "--issuer": ("issuer", "text"), "--json": ("json_out", "flag"), "--format": ("fmt", "format"),
    "-f": ("fmt", "format"),
}


class _Trimmed:
    """A pipe's view of the terminal output: the same lines without the spaces rich pads them
    with to the full width (a terminal shows nothing there; a file would keep them), and, by
    reporting an ASCII encoding to rich, with rules and table lines drawn in - and = instead of
    box-drawing characters. The text itself is written as it is (UTF-8)."""

    encoding = "ascii"

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        import re

        return self._stream.write(re.sub(r"[ \t]+\n", "\n", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def plain_console() -> Any:
    """The same Console `authcli.cli.common.stdout_console` makes, for the typer-free path."""
    from rich.console import Console

    piped = not sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, file=_Trimmed(sys.stdout) if piped else None)


def _note(message: str) -> None:
    sys.stderr.write(message + "\n")


def _read(path: Path, what: str) -> bytes:
    """At most MAX_INPUT bytes of a regular file: a FIFO or a device (/dev/zero, a terminal)
    could block or never end, so it is refused before anything is read."""
    from authcli.errors import FileTooLarge
    from authcli.files import read_regular

    try:
        return read_regular(path, MAX_INPUT)
    except FileTooLarge:
        raise UsageError(f"{what} {path} is larger than 1 MB") from None
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None


def _instant(text: str | None) -> float | None:
    """--at: ISO 8601 (a date, or a date and time; UTC unless it says otherwise) or Unix seconds."""
    import math
    from datetime import datetime, timezone

    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise UsageError(f"--at takes ISO 8601 (2024-05-01T12:00:00Z) or Unix seconds, not {text!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if not math.isfinite(value) or abs(value) > 253402300799:
        raise UsageError(f"--at {text}: not a time between year 1 and 9999")
    return value


def _key(secret: str | None, secret_file: Path | None, key: Path | None, header: dict, alg: str | None):
    """The one key the user gave, or None; never more than one. Option names live here, not in
    the tokens library."""
    from authcli.tokens.keys import check_algorithm, key_from_file, secret_key

    given = [name for name, value in (("--secret", secret), ("--secret-file", secret_file),
                                      ("--key", key)) if value is not None]
    if len(given) > 1:
        raise UsageError(f"give one key, not {' and '.join(given)}")
    if alg is not None:
        if alg.lower() == "none":
            raise UsageError("--alg none would skip the signature check; authcli never does that")
        check_algorithm(alg)
    if secret is not None:
        return secret_key(secret.encode("utf-8"), alg, stdlib=True)
    if secret_file is not None:
        # Secret files usually end with a newline that is not part of the secret.
        return secret_key(_read(secret_file, "secret file").rstrip(b"\r\n"), alg, stdlib=True)
    if key is not None:
        return key_from_file(_read(key, "key file"), header, alg)
    if alg is not None:
        raise UsageError("--alg pins the algorithm used with a key: give --secret, --secret-file or --key too")
    return None


def _unfolded(token: str) -> tuple[str, str]:
    """A token copied from a terminal that wrapped it (or pasted across lines, quoted) comes with
    line breaks inside: base64url as JWS and JWE use it has no line breaks or whitespace (RFC 7515
    §2), so what is inside the token is removed; the line to tell the user, said only once the
    token parsed (bad input gets its one error line, nothing else)."""
    from authcli.tokens.parse import clean

    inner = clean(token)  # a leading `Bearer ` first: it is not part of the token
    joined = "".join(inner.split())
    if joined != inner and "." in joined:
        removed = len(inner) - len(joined)
        return joined, (f"removed {removed} whitespace character{'s' if removed != 1 else ''} from inside the "
                        "token (line breaks from a wrapped terminal line): a JWT has none")
    return token, ""


def run_decode(token: str, *, secret: str | None = None, secret_file: Path | None = None,
               key: Path | None = None, alg: str | None = None, leeway: float = 0,
               audience: str | None = None, issuer: str | None = None, at: str | None = None,
               ignore_exp: bool = False, require: Sequence[str] = (), json_out: bool = False,
               console: Any = None, note: Callable[[str], None] | None = None) -> int:
    """Decode (and verify) one token and print the result; the exit code: 0, or 1 when a check
    failed. Bad input raises an AuthcliError for the caller to report."""
    from authcli.tokens.parse import split
    from authcli.tokens.report import examine

    if token == "-":
        token = sys.stdin.read(MAX_INPUT + 1)
        if len(token) > MAX_INPUT:
            raise UsageError("the token on stdin is larger than 1 MB")
    token, unfolded = _unfolded(token)
    from authcli.tokens.jwe import is_jwe

    if is_jwe(token):  # encrypted: five parts, opened with the recipient's key
        from authcli.cli.opening import run_jwe

        console = console if console is not None or json_out else plain_console()
        code = run_jwe(token, secret=secret, secret_file=secret_file, key=key, json_out=json_out, console=console,
                       read=_read, inner=lambda inner: run_decode(inner, console=console, note=note))
        if unfolded:
            (note or _note)(unfolded)
        return code
    parts = split(token, jws=True)
    verify_key = _key(secret, secret_file, key, parts.header, alg)
    result = examine(token, verify_key, now=clock.now(), leeway=leeway, audience=audience, issuer=issuer,
                     require=tuple(require), ignore=("exp",) if ignore_exp else (), at=_instant(at))
    if json_out:
        from authcli.render.jsonout import examination_json
        sys.stdout.write(examination_json(result) + "\n")
    else:
        from authcli.render.token import examination_renderable
        (console or plain_console()).print(examination_renderable(result))
    if result.verdict is not None and audience is None and any(c.name == "aud" and c.ok is False
                                                               for c in result.verdict.checks):
        (note or _note)("The token names an audience (aud): pass --audience NAME to say which one this verifier is.")
    if unfolded:  # after everything else: an error stays the only line bad input gets
        (note or _note)(unfolded)
    return 1 if result.verified is False else 0


def parse_decode(args: list[str]) -> dict[str, Any] | None:
    """decode's arguments as keyword arguments, or None when typer should handle them."""
    found: dict[str, Any] = {"require": []}
    token = None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in DECODE_OPTIONS:
            param, kind = DECODE_OPTIONS[name]
            if kind == "flag":
                if eq:
                    return None
                found[param] = True
                i += 1
                continue
            if not eq:
                if i + 1 >= len(args):
                    return None
                inline, i = args[i + 1], i + 1
            if kind == "float":
                try:
                    value: Any = float(inline)
                except ValueError:
                    return None
                if not math.isfinite(value) or not 0 <= value <= 3600:
                    return None
            elif kind == "path":
                value = Path(inline)
            elif kind == "format":  # the registry is read only when -f is given: decode's start stays lean
                from authcli.render.base import DATA_FORMATS

                if inline not in DATA_FORMATS:
                    return None
                value = inline
            elif kind == "list":
                found[param].append(inline)
                i += 1
                continue
            else:
                value = inline
            if param in found:
                return None  # given twice: let typer decide what that means
            found[param] = value
        elif arg == "-" or not arg.startswith("-"):
            if token is not None:
                return None
            token = arg
        else:
            return None  # --help, -h, --, an unknown option: typer's job
        i += 1
    if token is None:
        return None
    if "fmt" in found:
        from authcli.render.base import JSON

        found["json_out"] = found.pop("fmt") == JSON or found.get("json_out", False)
    return {"token": token, **found}


def fast_decode(args: list[str]) -> int | None:
    """Run `authcli decode ARGS` without typer; None when typer must (help, usage errors)."""
    options = parse_decode(args)
    if options is None:
        return None
    from authcli.cli.exits import reported

    def run() -> int:
        for name, value in options.items():
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and not is_text(t) for t in texts):  # lone surrogates: not UTF-8
                flag = next((o for o, (p, _) in DECODE_OPTIONS.items() if p == name), "TOKEN")
                raise UsageError(f"{flag} is not valid UTF-8 text")
        return run_decode(**options)

    return reported(run)
