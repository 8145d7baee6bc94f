"""`authcli decode`: take a JWT apart, and verify it check by check when given a key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import finite, notice, reports_errors, stdout_console
from authcli.errors import UsageError

MAX_INPUT = 1024 * 1024


def _read(path: Path, what: str) -> bytes:
    """At most MAX_INPUT bytes: a key file that never ends (/dev/zero) is refused, not read."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_INPUT + 1)
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None
    if len(data) > MAX_INPUT:
        raise UsageError(f"{what} {path} is larger than 1 MB")
    return data


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
    from authcli.tokens import check_algorithm, key_from_file, secret_key

    given = [name for name, value in (("--secret", secret), ("--secret-file", secret_file),
                                      ("--key", key)) if value is not None]
    if len(given) > 1:
        raise UsageError(f"give one key, not {' and '.join(given)}")
    if alg is not None:
        if alg.lower() == "none":
            raise UsageError("--alg none would skip the signature check; authcli never does that")
        check_algorithm(alg)
    if secret is not None:
        return secret_key(secret.encode("utf-8"), alg)
    if secret_file is not None:
        # Secret files usually end with a newline that is not part of the secret.
        return secret_key(_read(secret_file, "secret file").rstrip(b"\r\n"), alg)
    if key is not None:
        return key_from_file(_read(key, "key file"), header, alg)
    if alg is not None:
        raise UsageError("--alg pins the algorithm used with a key: give --secret, --secret-file or --key too")
    return None


@reports_errors
def decode(
    token: str = typer.Argument(..., metavar="TOKEN", help="The JWT (a leading 'Bearer ' is fine), or - to read it from stdin."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HMAC secret as text."),
    secret_file: Optional[Path] = typer.Option(None, "--secret-file", help="HMAC secret in a file (raw bytes)."),
    key: Optional[Path] = typer.Option(None, "--key", help="Public key: PEM, or a JWK / JWKS JSON file (picked by kid)."),
    alg: Optional[str] = typer.Option(None, "--alg", help="Pin the algorithm (default: what the key type allows; never none)."),
    leeway: float = typer.Option(0, "--leeway", min=0, max=3600, callback=finite,
                                 help="Seconds of clock skew allowed for exp, nbf and iat."),
    audience: Optional[str] = typer.Option(None, "--audience", help="Require this aud."),
    at: Optional[str] = typer.Option(None, "--at", metavar="TIME",
                                     help="Judge exp, nbf and iat as of TIME: ISO 8601 (2024-05-01T12:00:00Z) or "
                                          "Unix seconds. Checks the signature of an old token."),
    ignore_exp: bool = typer.Option(False, "--ignore-exp", help="Do not check exp (shown as SKIP)."),
    require: list[str] = typer.Option([], "--require", metavar="CLAIM",
                                      help="Fail when this claim is missing (repeatable), e.g. --require exp."),
    issuer: Optional[str] = typer.Option(None, "--issuer", help="Require this iss."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON: header, payload, signature, verified, checks, warnings."),
) -> None:
    """Decode a JWT; with a key, verify its signature and claims, each check explained.

    Exit codes: 0 decoded (and verified, when a key was given), 1 a check failed,
    2 malformed token or usage error.

    \b
    Example: authcli decode eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln --secret mySecretKey
    """
    import time

    from authcli.tokens import examine, split

    if token == "-":
        token = sys.stdin.read(MAX_INPUT + 1)
        if len(token) > MAX_INPUT:
            raise UsageError("the token on stdin is larger than 1 MB")
    parts = split(token, jws=True)
    verify_key = _key(secret, secret_file, key, parts.header, alg)
    result = examine(token, verify_key, now=time.time(), leeway=leeway, audience=audience, issuer=issuer,
                     require=tuple(require), ignore=("exp",) if ignore_exp else (), at=_instant(at))
    if json_out:
        from authcli.render.jsonout import examination_json
        sys.stdout.write(examination_json(result) + "\n")
    else:
        from authcli.render.token import examination_renderable
        stdout_console().print(examination_renderable(result))
    if result.verdict is not None and audience is None and any(c.name == "aud" and not c.ok for c in result.verdict.checks):
        notice("The token names an audience (aud): pass --audience NAME to say which one this verifier is.")
    if result.verified is False:
        raise typer.Exit(1)
