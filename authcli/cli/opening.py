"""`authcli decode` given a JWE: show what can be read without a key, decrypt with one (joserfc),
then inspect the plaintext as decode does any token. No typer here (decode's fast path)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

from authcli.errors import UsageError


def _plaintext_json(plaintext: bytes) -> Any:
    try:
        return json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def run_jwe(token: str, *, secret: str | None, secret_file: Path | None, key: Path | None, json_out: bool,
            console: Any, read: Callable[[Path, str], bytes], inner: Callable[[str], int]) -> int:
    """Show a JWE on `console`, decrypt it when a key is given, then hand a nested JWT to `inner`
    (decode without a key: the decrypting key is not the signer's). Returns decode's exit code."""
    from authcli.tokens.jwe import decrypt, meanings, split_jwe

    parts = split_jwe(token)
    given = [n for n, v in (("--secret", secret), ("--secret-file", secret_file), ("--key", key)) if v is not None]
    if len(given) > 1:
        raise UsageError(f"give one key, not {' and '.join(given)}")
    plaintext, how = None, None
    if given:
        raw_secret = (secret.encode("utf-8") if secret is not None else
                      read(secret_file, "secret file").rstrip(b"\r\n") if secret_file is not None else None)
        plaintext = decrypt(parts, key_data=read(key, "key file") if key is not None else None, secret=raw_secret)
        how = f"with {given[0]}"
    text = plaintext.decode("utf-8", "replace").strip() if plaintext is not None else None
    nested = text is not None and text.count(".") == 2 and " " not in text
    if json_out:
        return _json(parts, text, nested)
    from authcli.render.jwe import jwe_renderable

    out = console
    out.print(jwe_renderable(parts, meanings(parts.header), how))
    if text is None:
        return 0
    if nested:
        out.print("The plaintext is a JWT (nested): decoded below as decode does any token. Its signature "
                  "is the sender's: check it with the sender's key (authcli decode INNER --key ...).\n",
                  markup=False, highlight=False)
        return inner(text)
    from authcli.render.escape import printable

    claims = _plaintext_json(plaintext)
    shown = json.dumps(claims, indent=2, ensure_ascii=False) if isinstance(claims, dict) else text
    out.print("Plaintext (encrypted, but not signed by anyone you can name):\n" + printable(shown, newlines=True),
              markup=False, highlight=False)
    return 0


def _json(parts: Any, text: str | None, nested: bool) -> int:
    from authcli.render.escape import json_text
    from authcli.tokens.jwe import meanings

    doc: dict[str, Any] = {"jwe": True, "header": parts.header, "meanings": dict(meanings(parts.header)),
                           "part_bytes": list(parts.sizes), "decrypted": text is not None}
    if nested:  # the nested JWT as decode --json shows any token, unverified
        from authcli import clock
        from authcli.render.jsonout import examination_json
        from authcli.tokens.report import examine

        doc["inner"] = json.loads(examination_json(examine(text, None, now=clock.now())))
    elif text is not None:
        claims = _plaintext_json(text.encode("utf-8"))
        doc["plaintext"] = claims if claims is not None else text
    sys.stdout.write(json_text(json.dumps(doc, ensure_ascii=False)) + "\n")
    return 0
