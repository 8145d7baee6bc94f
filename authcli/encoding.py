"""base64url without padding (RFC 7515 2), as JWTs, session IDs and password hashes use it."""

from __future__ import annotations

import base64


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode, adding the padding back; raises binascii.Error or ValueError on bad input."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
