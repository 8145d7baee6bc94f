"""What `authcli sign` does, without typer: claims, durations, the key rules, and a fast path.

`authcli sign` is made for scripts, so its start-up counts: typer and building every subcommand
cost ~110 ms, PyJWT's import ~120 ms (issue #24's profile). `fast_sign` parses sign's options from SIGN_OPTIONS and
signs an HMAC token (tokens/hmacjws.py: the standard library, byte for byte PyJWT's token) with
neither. Anything else goes back to the typer command, which gives click's usual messages:
--help, every malformed or repeated option, text that is not UTF-8, and --key or a non-HMAC
--alg (those need PyJWT and cryptography anyway). tests/test_sign_fast.py checks that this
table and the typer command declare the same options, and that both paths print the same.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from authcli import clock
from authcli.encoding import is_text
from authcli.errors import UsageError

if TYPE_CHECKING:  # pathlib is a few ms of a start that is meant to be short
    from pathlib import Path
    from typing import Any, Callable

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# option -> (parameter, kind): "text", "path", "list", or "on"/"off" for the --iat/--no-iat pair.
SIGN_OPTIONS = {
    "--claim": ("claim", "list"), "-c": ("claim", "list"), "--exp": ("exp", "text"), "--nbf": ("nbf", "text"),
    "--iat": ("iat", "on"), "--no-iat": ("iat", "off"), "--jti": ("jti", "text"), "--sub": ("sub", "text"),
    "--aud": ("aud", "text"), "--iss": ("iss", "text"), "--kid": ("kid", "text"), "--alg": ("alg", "text"),
    "--secret": ("secret", "text"), "--secret-file": ("secret_file", "path"), "--key": ("key", "path"),
}


def _duration(text: str, option: str) -> int:
    """`15m`, `1h`, `30s`, `2d` or plain seconds; `-5m` goes back in time."""
    import re

    match = re.fullmatch(r"\s*([+-]?[0-9]{1,9})\s*([smhd]?)\s*", text)
    if not match:
        raise UsageError(f"{option} takes a duration such as 15m, 1h, 30s or 2d, not {text!r}")
    return int(match.group(1)) * UNITS[match.group(2) or "s"]


def _claims(source: str | None, pairs: list[str]) -> dict:
    import json

    claims: dict = {}
    if source is not None:
        text = sys.stdin.read(1024 * 1024 + 1) if source == "-" else source
        try:
            claims = json.loads(text)
        except (ValueError, RecursionError):
            raise UsageError("the claims are not JSON: give an object such as '{\"sub\": \"1\"}'") from None
        if not isinstance(claims, dict):
            raise UsageError("the claims must be a JSON object, such as '{\"sub\": \"1\"}'")
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--claim takes NAME=VALUE, not {pair!r}")
        try:
            claims[name] = json.loads(value)  # numbers, true, lists... as JSON
        except ValueError:
            claims[name] = value  # anything else is a string
        except RecursionError:
            raise UsageError(f"--claim {name[:40]}: the value is nested too deeply") from None
    return claims


def _read(path: Path, what: str) -> bytes:
    from authcli.cli import inspecting  # pathlib and more: only when there is a file to read

    return inspecting._read(path, what)


def _signing_key(alg: str | None, secret: str | None, secret_file: Path | None, key: Path | None):
    from authcli.tokens.keys import HMAC_ALGS
    from authcli.tokens.signing import load_signing_key, make_signing_key

    given = [n for n, v in (("--secret", secret), ("--secret-file", secret_file), ("--key", key)) if v is not None]
    if len(given) != 1:
        raise UsageError("give one key: --secret, --secret-file or --key (a private PEM or JWK)"
                         + (f", not {' and '.join(given)}" if given else ""))
    if key is not None:
        return load_signing_key(_read(key, "key file"), alg)
    if alg is not None and alg not in HMAC_ALGS:
        raise UsageError(f"--alg {alg} signs with a private key: give --key, not a shared secret")
    raw = secret.encode("utf-8") if secret is not None else _read(secret_file, "secret file").rstrip(b"\r\n")
    if not raw:
        raise UsageError("the secret is empty")
    return make_signing_key(alg or "HS256", raw)


def notice(message: str) -> None:
    """cli/common.py's notice (rich, dim, on stderr) without importing rich when stderr is not a
    terminal: rich then writes the text as it is, and so does this."""
    if sys.stderr.isatty() or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        from rich.console import Console

        Console(stderr=True, highlight=False).print(message, markup=False, soft_wrap=True, style="dim")
    else:
        sys.stderr.write(message + "\n")


def run_sign(claims: str | None = None, *, claim: list[str] = (), exp: str | None = None,  # type: ignore[assignment]
             nbf: str | None = None, iat: bool = True, jti: str | None = None, sub: str | None = None,
             aud: str | None = None, iss: str | None = None, kid: str | None = None, alg: str | None = None,
             secret: str | None = None, secret_file: Path | None = None, key: Path | None = None,
             note: Callable[[str], None] = notice) -> int:
    """Sign one token and print it alone on stdout (warnings to stderr); 0. Bad input raises an
    AuthcliError for the caller to report."""
    from authcli.tokens.checks import claim_problems
    from authcli.tokens.keys import key_warnings
    from authcli.tokens.parse import split
    from authcli.tokens.signing import issue

    body = _claims(claims, list(claim))
    now = int(clock.now())
    for name, value in (("sub", sub), ("aud", aud), ("iss", iss)):
        if value is not None:
            body[name] = value
    if iat:
        body.setdefault("iat", now)
    if exp is not None:
        body["exp"] = now + _duration(exp, "--exp")
    if nbf is not None:
        body["nbf"] = now + _duration(nbf, "--nbf")
    if jti is not None:
        import secrets

        body["jti"] = secrets.token_urlsafe(16) if jti == "random" else jti
    problems = claim_problems(body)
    if problems:  # a token authcli's own decode and server would refuse is no use to anyone
        raise UsageError(f"refusing to sign: {problems[0]}")
    signing = _signing_key(alg, secret, secret_file, key)
    token = issue(signing, body, {"kid": kid} if kid else None, stdlib=True)
    for warning in key_warnings(signing.verify, split(token)) + (
            ["no exp: this token never expires. Add --exp 15m."] if "exp" not in body else []):
        from authcli.render.cite import tagged

        note(f"warning: {tagged(warning)}")  # [RFC 7518 §3.2], not the marker's key
    sys.stdout.write(token + "\n")
    return 0


def parse_sign(args: list[str]) -> dict[str, Any] | None:
    """sign's arguments as keyword arguments for an HMAC token, or None when typer should
    handle them (help, anything malformed or repeated, text that is not UTF-8, --key, an
    --alg that is not HS256/384/512)."""
    from authcli.tokens.keys import HMAC_ALGS

    found: dict[str, Any] = {}
    claims = None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in SIGN_OPTIONS:
            param, kind = SIGN_OPTIONS[name]
            if kind in ("on", "off"):
                if eq or param in found:
                    return None
                found[param] = kind == "on"
                i += 1
                continue
            if not eq:
                if i + 1 >= len(args):
                    return None
                inline, i = args[i + 1], i + 1
            if kind == "list":
                found.setdefault(param, []).append(inline)
            elif param in found:
                return None  # given twice: let typer decide what that means
            elif kind == "path":
                from pathlib import Path

                found[param] = Path(inline)
            else:
                found[param] = inline
        elif arg == "-" or not arg.startswith("-"):
            if claims is not None:
                return None
            claims = arg
        else:
            return None  # --help, -h, --, -cVALUE, an unknown option: typer's job
        i += 1
    if "key" in found or found.get("alg", "HS256") not in HMAC_ALGS:
        return None
    texts = [claims, *found.get("claim", []), *(v for v in found.values() if isinstance(v, str))]
    if not all(t is None or is_text(t) for t in texts):  # lone surrogates: typer names the option
        return None
    return {"claims": claims, **found}


def fast_sign(args: list[str]) -> int | None:
    """Run `authcli sign ARGS` without typer or PyJWT; None when typer must."""
    options = parse_sign(args)
    if options is None:
        return None
    from authcli.cli.exits import reported

    return reported(lambda: run_sign(**options))
