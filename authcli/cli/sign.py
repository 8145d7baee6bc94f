"""`authcli sign` (jwt-cli calls it encode): the typer command; what it does is in cli/issuing.py."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import notice, reports_errors
from authcli.cli.issuing import run_sign


@reports_errors
def sign(
    claims: Optional[str] = typer.Argument(None, metavar="[CLAIMS]",
                                           help="The claims as a JSON object, or - to read them from stdin."),
    claim: list[str] = typer.Option([], "--claim", "-c", metavar="NAME=VALUE",
                                    help="One claim (repeatable); VALUE is read as JSON when it is JSON."),
    exp: Optional[str] = typer.Option(None, "--exp", metavar="DURATION", help="Expire this long from now: 15m, 1h, 30s, 2d."),
    nbf: Optional[str] = typer.Option(None, "--nbf", metavar="DURATION", help="Not valid before now plus this (0 = now)."),
    iat: bool = typer.Option(True, "--iat/--no-iat", help="Add iat, the time of signing."),
    jti: Optional[str] = typer.Option(None, "--jti", help="Add this jti; 'random' makes one."),
    sub: Optional[str] = typer.Option(None, "--sub", help="The subject (a string, RFC 7519)."),
    aud: Optional[str] = typer.Option(None, "--aud", help="The audience."),
    iss: Optional[str] = typer.Option(None, "--iss", help="The issuer."),
    kid: Optional[str] = typer.Option(None, "--kid", help="A kid header (a --key's own kid or thumbprint by default)."),
    alg: Optional[str] = typer.Option(None, "--alg", help="HS256/384/512 with a secret; RS/PS/ES256 or EdDSA with --key."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HMAC secret as text."),
    secret_file: Optional[Path] = typer.Option(None, "--secret-file", help="HMAC secret in a file (raw bytes)."),
    key: Optional[Path] = typer.Option(None, "--key", help="Private key: PEM, or a JWK (authcli keys makes both)."),
) -> None:
    """Sign a JWT and print it: claims as JSON or --claim pairs, plus --exp, --sub, --aud...

    The token goes to stdout alone, so it can be piped; warnings (a weak secret, no exp) go to
    stderr. A token signed with the secret of `authcli serve --mode jwt` works against it.

    \b
    Example: authcli sign --sub 1 --exp 15m --secret mySecretKey
    """
    run_sign(claims, claim=claim, exp=exp, nbf=nbf, iat=iat, jti=jti, sub=sub, aud=aud, iss=iss, kid=kid,
             alg=alg, secret=secret, secret_file=secret_file, key=key, note=notice)
