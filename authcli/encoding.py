"""base64url without padding (RFC 7515 2), as JWTs, session IDs and password hashes use it."""

from __future__ import annotations

import base64


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode, adding the padding back; raises binascii.Error or ValueError on bad input."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_text(value: object) -> bool:
    """True when every string in a JSON value is real Unicode text: JSON's `"\\ud800"` escape
    decodes to a lone surrogate, which no UTF-8 encoder, hash or terminal can take."""
    import json

    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        return False
    return True


def shows_plainly(text: str) -> bool:
    """True when a name a person will read has no control, format or separator characters but
    the space: no ESC for a terminal, no right-to-left override (U+202E) turning a page's
    "gro.elgoog" into "google.org", no zero-width joiner hiding a difference."""
    import unicodedata

    return all(ch == " " or unicodedata.category(ch)[0] not in "CZ" for ch in text)

