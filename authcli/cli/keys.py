"""`authcli keys`: make a key pair and write it as the files other tools expect."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import reports_errors, stdout_console
from authcli.errors import UsageError


class KeyAlg(str, Enum):
    RS256 = "RS256"
    PS256 = "PS256"
    ES256 = "ES256"
    EdDSA = "EdDSA"


@reports_errors
def keys(
    alg: KeyAlg = typer.Option(KeyAlg.ES256, "--alg", help="The algorithm the key pair is for."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="The folder to write the files into."),
    name: Optional[str] = typer.Option(None, "--name", help="File name prefix (default: authcli-<alg>)."),
    kid: Optional[str] = typer.Option(None, "--kid", help="The key's kid (default: its RFC 7638 thumbprint)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
) -> None:
    """Make a key pair: a private PEM, a public PEM and a JWKS with a kid (like `step crypto jwk create`).

    The files work with `authcli sign --key`, `authcli decode --key` and
    `authcli serve --mode jwt --key`. The private key is written readable by you alone.

    \b
    Example: authcli keys --alg ES256 --out /tmp
    """
    import os

    from authcli.tokens import key_files, make_signing_key
    from authcli.tokens.signing import from_private

    key = make_signing_key(alg.value)
    if kid is not None:
        key = from_private(key.private, alg.value, kid)
    prefix = name or f"authcli-{alg.value.lower()}"
    paths = {suffix: out / f"{prefix}.{suffix}" for suffix in ("private.pem", "public.pem", "jwks.json")}
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken and not force:
        raise UsageError(f"{', '.join(taken)} exists: pass --force to overwrite")
    if not out.is_dir():
        raise UsageError(f"--out {out} is not a folder")
    for suffix, data in key_files(key).items():
        path = paths[suffix]
        # The private key: created 0600, never readable by others even for a moment.
        mode = 0o600 if suffix == "private.pem" else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    console = stdout_console()
    console.print(f"{alg.value} key pair, kid {key.kid}:", markup=False)
    for suffix, path in paths.items():
        what = {"private.pem": "private key: signs; keep it secret (mode 600)",
                "public.pem": "public key: verifies; share it",
                "jwks.json": "the public key as a JWKS, the way servers publish it"}[suffix]
        console.print(f"  {path}  {what}", markup=False, soft_wrap=True)
