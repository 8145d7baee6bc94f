"""HS256/384/512 with the standard library (hmac, hashlib, base64, json): the same bytes PyJWT makes.

Importing PyJWT costs ~120 ms of a command's start (it pulls in cryptography's x509 and the JWKS
client, even for HMAC), more than all the rest of `authcli sign`. An HMAC JWT needs none of it,
so a plain secret signs and verifies here; everything else goes to PyJWT. `plain_secret` is
deliberately narrow: any secret PyJWT might refuse (a PEM, SSH or DER key, or JSON that could
be a JWK) goes to PyJWT, so its refusal and its message stay what they were. tests/test_sign_fast.py
checks, with hypothesis, that the tokens are byte for byte PyJWT's and that both verifiers agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from authcli.encoding import b64url

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# What PyJWT's HMACAlgorithm.prepare_key looks for before it refuses a key (jwt/utils.py):
# PEM armour ("----- BEGIN" and its variants), SSH public keys, DER (which always opens with a
# SEQUENCE, byte 0x30), and JSON holding a "kty" member (which needs a { or a [ in any encoding).
_SSH_PREFIXES = (b"ssh-ed25519", b"ssh-rsa", b"ssh-dss", b"ecdsa-sha2-nistp256", b"ecdsa-sha2-nistp384",
                 b"ecdsa-sha2-nistp521")
# Header names PyJWT's encode treats specially (alg and typ override, b64 detaches the payload).
_SPECIAL_HEADERS = ("alg", "typ", "b64", "crit")
_TIME_CLAIMS = ("exp", "iat", "nbf")


def plain_secret(key: Any) -> bool:
    """True when PyJWT would use these bytes as an HMAC secret as they are."""
    return (isinstance(key, bytes) and bool(key) and b"----" not in key and not key.startswith(b"0")
            and b"{" not in key and b"[" not in key and not key.startswith(_SSH_PREFIXES))


def mac(alg: str, key: bytes, signing_input: bytes) -> bytes:
    return hmac.new(key, signing_input, HASHES[alg]).digest()


class Verifier:
    """PyJWT's HMACAlgorithm.verify, for `VerifyKey.prepared`: a constant-time comparison."""

    def __init__(self, alg: str):
        self.alg = alg

    def verify(self, signing_input: bytes, key: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(signature, mac(self.alg, key, signing_input))


def can_encode(alg: str, key: Any, claims: dict[str, Any], headers: dict[str, Any] | None) -> bool:
    """True when `encode` makes exactly what `jwt.encode` would (anything unusual: PyJWT)."""
    import sys

    # PyJWT turns datetime exp/iat/nbf into numbers; none can exist before datetime is imported,
    # and importing it only to look would cost a start what it saves.
    datetime = getattr(sys.modules.get("datetime"), "datetime", ())
    return (alg in HASHES and plain_secret(key) and isinstance(claims, dict)
            and not any(isinstance(claims.get(name), datetime) for name in _TIME_CLAIMS)
            and isinstance(claims.get("iss", ""), str)
            and not any(name in (headers or {}) for name in _SPECIAL_HEADERS)
            and isinstance((headers or {}).get("kid", ""), str))


def encode(claims: dict[str, Any], key: bytes, alg: str, headers: dict[str, Any] | None = None) -> str:
    """`jwt.encode(claims, key, algorithm=alg, headers=headers)`, for what `can_encode` accepts:
    the payload as compact JSON, the header with sorted keys, both ASCII-escaped, as PyJWT does."""
    payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"typ": "JWT", "alg": alg, **(headers or {})}, separators=(",", ":"),
                        sort_keys=True).encode()
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    return f"{signing_input}.{b64url(mac(alg, key, signing_input.encode('ascii')))}"
