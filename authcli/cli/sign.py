"""`authcli sign`: make a token from claims and a key (jwt-cli calls it encode)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import notice, reports_errors
from authcli.errors import UsageError
from authcli import clock

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def _signing_key(alg: str | None, secret: str | None, secret_file: Path | None, key: Path | None):
    from authcli.cli.inspecting import _read
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
    import secrets as random

    from authcli.tokens.keys import key_warnings
    from authcli.tokens.parse import split

    body = _claims(claims, claim)
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
        body["jti"] = random.token_urlsafe(16) if jti == "random" else jti
    from authcli.tokens.checks import claim_problems

    problems = claim_problems(body)
    if problems:  # a token authcli's own decode and server would refuse is no use to anyone
        raise UsageError(f"refusing to sign: {problems[0]}")
    signing = _signing_key(alg, secret, secret_file, key)
    from authcli.tokens.signing import issue

    token = issue(signing, body, {"kid": kid} if kid else None)
    parts = split(token)
    for warning in key_warnings(signing.verify, parts) + (
            ["no exp: this token never expires. Add --exp 15m."] if "exp" not in body else []):
        from authcli.render.cite import tagged

        notice(f"warning: {tagged(warning)}")  # [RFC 7518 §3.2], not the marker's key
    sys.stdout.write(token + "\n")
