"""`authcli decode`: take a JWT apart, and verify it check by check when given a key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import reports_errors, stdout_console
from authcli.errors import UsageError

MAX_INPUT = 1024 * 1024


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None
    if len(data) > MAX_INPUT:
        raise UsageError(f"{what} {path} is larger than 1 MB")
    return data


@reports_errors
def decode(
    token: str = typer.Argument(..., help="The JWT (a leading 'Bearer ' is fine), or - to read it from stdin."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HMAC secret as text."),
    secret_file: Optional[Path] = typer.Option(None, "--secret-file", help="HMAC secret in a file (raw bytes)."),
    key: Optional[Path] = typer.Option(None, "--key", help="Public key: PEM, or a JWK / JWKS JSON file (picked by kid)."),
    alg: Optional[str] = typer.Option(None, "--alg", help="Pin the algorithm (default: what the key type allows; never none)."),
    leeway: float = typer.Option(0, "--leeway", min=0, max=3600, help="Seconds of clock skew allowed for exp, nbf and iat."),
    audience: Optional[str] = typer.Option(None, "--audience", help="Require this aud."),
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

    from authcli.tokens import examine, load_key, split

    if token == "-":
        token = sys.stdin.read(MAX_INPUT + 1)
        if len(token) > MAX_INPUT:
            raise UsageError("the token on stdin is larger than 1 MB")
    parts = split(token)
    verify_key = load_key(secret=secret, secret_file=_read(secret_file, "secret file") if secret_file else None,
                          key_file=_read(key, "key file") if key else None, header=parts.header, alg=alg)
    result = examine(token, verify_key, now=time.time(), leeway=leeway, audience=audience, issuer=issuer)
    if json_out:
        from authcli.render.jsonout import examination_json
        sys.stdout.write(examination_json(result) + "\n")
    else:
        from authcli.render.token import examination_renderable
        stdout_console().print(examination_renderable(result))
    if result.verified is False:
        raise typer.Exit(1)
