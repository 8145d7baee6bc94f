"""PKCE (RFC 7636): the client's one-time code_verifier and the S256 code_challenge made from it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from authcli.encoding import b64url

# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}", re.ASCII)
# An S256 challenge is the base64url of a SHA-256: always 43 characters, no padding.
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)


def make_verifier() -> str:
    """32 random octets, base64url-encoded: 43 characters, 256 bits (RFC 7636 4.1's recommendation)."""
    return secrets.token_urlsafe(32)


def s256(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), RFC 7636 4.2."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def matches(verifier: str, challenge: str) -> bool:
    """The verifier hashes to the challenge (compared in constant time)."""
    return bool(VERIFIER.fullmatch(verifier)) and hmac.compare_digest(s256(verifier), challenge)
