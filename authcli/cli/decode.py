"""`authcli decode`: the typer command; what it does is in cli/inspecting.py (no typer there)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import DataFormat, finite, notice, reports_errors, stdout_console, wants_json
from authcli.cli.inspecting import run_decode
from authcli.render import base as formats


@reports_errors
def decode(
    token: str = typer.Argument(..., metavar="TOKEN", help="The JWT (a leading 'Bearer ' is fine), or - to read it from stdin."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HMAC secret as text."),
    secret_file: Optional[Path] = typer.Option(None, "--secret-file", help="HMAC secret in a file (raw bytes)."),
    key: Optional[Path] = typer.Option(None, "--key", help="Public key: PEM, or a JWK / JWKS JSON file (picked by kid)."),
    alg: Optional[str] = typer.Option(None, "--alg", help="Pin the algorithm (default: what the key type allows; never none)."),
    leeway: float = typer.Option(0, "--leeway", min=0, max=3600, callback=finite, metavar="SECONDS",
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
    fmt: DataFormat = typer.Option(formats.DEFAULT, "--format", "-f", help="rich: for people; json: the same as --json."),
) -> None:
    """Decode a JWT; with a key, verify its signature and claims, each check explained.

    A JWE (five parts, encrypted) shows its header; --key or --secret decrypts it (joserfc).

    Exit codes: 0 decoded (and verified, when a key was given), 1 a check failed,
    2 malformed token or usage error.

    \b
    Example: authcli decode eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln --secret mySecretKey
    """
    code = run_decode(token, secret=secret, secret_file=secret_file, key=key, alg=alg, leeway=leeway,
                      audience=audience, issuer=issuer, at=at, ignore_exp=ignore_exp, require=require,
                      json_out=wants_json(fmt, json_out), console=stdout_console(), note=notice)
    if code:
        raise typer.Exit(code)
