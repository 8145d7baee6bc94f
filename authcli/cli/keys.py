"""`authcli keys`: make a key pair and write it as the files other tools expect."""

from __future__ import annotations

import os
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
    from authcli.files import write_new
    from authcli.tokens.signing import key_files, make_signing_key
    from authcli.tokens.signing import from_private

    prefix = name or f"authcli-{alg.value.lower()}"
    if not prefix or "/" in prefix or "\0" in prefix or prefix in (".", ".."):
        raise UsageError(f"--name {prefix!r} is a file name prefix, not a path")
    paths = {suffix: out / f"{prefix}.{suffix}" for suffix in ("private.pem", "public.pem", "jwks.json")}
    # lexists: a dangling symlink is taken too; it is never followed, only replaced with --force.
    taken = [str(p) for p in paths.values() if os.path.lexists(p)]
    if taken and not force:
        raise UsageError(f"{', '.join(taken)} exists: pass --force to overwrite")
    key = make_signing_key(alg.value)
    if kid is not None:
        key = from_private(key.private, alg.value, kid)
    try:
        out.mkdir(parents=True, exist_ok=True)  # --out new/folder is what people expect to work
    except FileExistsError:
        raise UsageError(f"--out {out} is not a folder") from None
    except OSError as err:
        raise UsageError(f"cannot make the folder {out}: {err.strerror or err}") from None
    try:
        for suffix, data in key_files(key).items():
            # Each file is created new (O_EXCL|O_NOFOLLOW) with its final mode, the private key
            # 600 from its first byte, then renamed into place: a symlink or a file someone
            # planted in a shared folder is replaced, never written through.
            write_new(paths[suffix], data, 0o600 if suffix == "private.pem" else 0o644, replace=force)
    except FileExistsError as err:
        raise UsageError(f"{err.filename} exists: pass --force to overwrite") from None
    except OSError as err:
        raise UsageError(f"cannot write the key files in {out}: {err.strerror or err}"
                         + (f" ({err.filename})" if err.filename else "")) from None
    console = stdout_console()
    console.print(f"{alg.value} key pair, kid {key.kid}:", markup=False)
    for suffix, path in paths.items():
        what = {"private.pem": "private key: signs; keep it secret (mode 600)",
                "public.pem": "public key: verifies; share it",
                "jwks.json": "the public key as a JWKS, the way servers publish it"}[suffix]
        console.print(f"  {path}  {what}", markup=False, soft_wrap=True)
