"""Take a JWT apart without trusting it: segments, base64url, JSON objects."""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from authcli.encoding import is_text, unb64url
from authcli.errors import MalformedToken

B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(segment: str, part: str) -> bytes:
    if not B64URL.fullmatch(segment):
        bad = next(c for c in segment if not B64URL.fullmatch(c))
        raise MalformedToken(f"the {part} is not base64url: it contains {bad!r}")
    if len(segment) % 4 == 1:
        raise MalformedToken(f"the {part} is not base64url: {len(segment)} characters is not a possible length")
    try:
        return unb64url(segment)
    except (binascii.Error, ValueError):
        raise MalformedToken(f"the {part} is not base64url") from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json accepts NaN and Infinity; RFC 8259 does not


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # made once: a server parses every request


def json_object(raw: bytes, part: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        value = _DECODER.decode(text)
    except UnicodeDecodeError:
        raise MalformedToken(f"the {part} is not UTF-8 text once base64url-decoded") from None
    except (ValueError, RecursionError):
        raise MalformedToken(f"the {part} is not JSON once base64url-decoded") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the {part} is JSON but not an object (it is a {type(value).__name__})")
    if "\\u" in text and not is_text(value):  # only a \\u escape can make a lone surrogate
        raise MalformedToken(f"the {part} holds an escaped lone surrogate (like \\ud800): JSON, but "
                             "not Unicode text")
    return value


@dataclass(frozen=True)
class TokenParts:
    """A signed JWT taken apart: the three segments as sent, and what they decode to."""

    token: str
    header_b64: str
    payload_b64: str
    signature_b64: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes
    # A JWS whose payload is not a JSON object (RFC 7520 signs prose): its bytes, and no claims.
    content: bytes | None = None

    @property
    def is_jwt(self) -> bool:
        return self.content is None


QUOTES = "'\""


def clean(text: str) -> str:
    """Tolerate what people paste: surrounding whitespace and a leading `Bearer `."""
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text


def split(text: str, *, jws: bool = False) -> TokenParts:
    """Take a JWT apart without trusting it. Raises MalformedToken with a one-line reason.

    `jws`: also accept a JWS whose payload is not a JSON object (decode does; a server must not).
    """
    token = clean(text)
    if not token:
        raise MalformedToken("the token is empty")
    if token[0] in QUOTES or token[-1] in QUOTES:
        # Not stripped: a client that sends the quotes gets a 401 from any server, and decode
        # should show that, not hide it.
        raise MalformedToken(f"the token has quotes around it ({token[0] if token[0] in QUOTES else token[-1]}): "
                             "remove them; quotes are not part of a JWT, and a server refuses them too")
    segments = token.split(".")
    if len(segments) == 5:
        raise MalformedToken("this is an encrypted JWE (5 parts), not a signed JWT: its payload "
                             "cannot be read without the recipient's key (a private key, or a shared secret)")
    if len(segments) != 3:
        raise MalformedToken(f"a signed JWT has 3 parts separated by '.', this has {len(segments)}")
    header_b64, payload_b64, signature_b64 = segments
    header = json_object(b64url_decode(header_b64, "header"), "header")
    raw = b64url_decode(payload_b64, "payload")
    signature = b64url_decode(signature_b64, "signature")
    try:
        payload = json_object(raw, "payload")
    except MalformedToken:
        if not jws:
            raise
        return TokenParts(token, header_b64, payload_b64, signature_b64, header, {}, signature, raw)
    return TokenParts(token, header_b64, payload_b64, signature_b64, header, payload, signature)
