"""What a token says about itself, no key needed: claims with dates, and warnings."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from authcli.timefmt import ago, relative, utc
from authcli.tokens.parse import TokenParts

REGISTERED = {
    "iss": "issuer: who made the token",
    "sub": "subject: who the token is about (the user)",
    "aud": "audience: who the token is meant for",
    "exp": "expires at: invalid from this moment on",
    "nbf": "not before: invalid until this moment",
    "iat": "issued at: when the token was made",
    "jti": "JWT ID: unique per token, what a denylist would name",
}
TIME_CLAIMS = ("exp", "nbf", "iat")
SENSITIVE = re.compile(r"pass|pwd|secret|email|e-mail|phone|ssn|credit|card|iban|address|birth|salary",
                       re.IGNORECASE)
LONG_LIFETIME = 24 * 3600
# 9999-12-31T23:59:59Z. Beyond it a date cannot be written, and integers beyond float range
# cannot even be subtracted from `now`: such a NumericDate is refused, never a crash.
MAX_NUMERIC_DATE = 253402300799


def is_number(value: object) -> bool:
    """A JSON number usable as a NumericDate: finite, within year +-9999 (bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE


@dataclass(frozen=True)
class Claim:
    name: str
    value: str
    meaning: str
    readable: str = ""


@dataclass(frozen=True)
class TokenView:
    """What `decode` and the JWT walkthrough show of a token; no key needed."""

    token: str
    segments: list[str]
    header: dict[str, Any]
    payload: dict[str, Any]
    signature_b64: str
    signature_bytes: int
    claims: list[Claim]
    warnings: list[str]
    content: str | None = None  # a JWS that is not a JWT: its payload as text (escaped when shown)


def inspect(parts: TokenParts, now: float | None) -> TokenView:
    """`now` adds "in 3 minutes" / "2 days ago" to the dates; None leaves the dates alone."""
    claims = []
    for name, meaning in REGISTERED.items():
        if name not in parts.payload:
            continue
        value = parts.payload[name]
        readable = ""
        if name in TIME_CLAIMS:
            if not is_number(value):
                readable = "not a usable NumericDate: invalid"
            else:
                readable = utc(value) + (f", {relative(value, now)}" if now is not None else "")
        claims.append(Claim(name, json.dumps(value), meaning, readable))
    content = None
    if not parts.is_jwt:
        text = parts.content.decode("utf-8", "replace")
        content = text if "\ufffd" not in text else f"({len(parts.content)} bytes, not UTF-8 text)"
    return TokenView(parts.token, [parts.header_b64, parts.payload_b64, parts.signature_b64],
                     parts.header, parts.payload, parts.signature_b64, len(parts.signature),
                     claims, token_warnings(parts), content)


def token_warnings(parts: TokenParts) -> list[str]:
    out = []
    alg = parts.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        out.append(f"alg is {json.dumps(alg)}: an unsigned token. Anyone can write one; a server "
                   "that expects signed tokens must refuse it [^rfc7518-3.6].")
    for name in ("jku", "jwk", "x5u"):
        if name in parts.header:
            fetch = (" Following its URL blindly also lets the token make the server fetch anything "
                     "[^rfc8725-3.10]." if name != "jwk" else "")
            out.append(f"header carries {name!r}: a key the token supplies proves nothing; a verifier "
                       f"takes keys from its own configuration [^portswigger-jwt].{fetch}")
    payload = parts.payload
    if not parts.is_jwt:
        out.append("JWS, not a JWT: the signed payload is not a JSON object, so there are no claims "
                   "(no exp, no sub). A signature check says who signed it, not until when it holds.")
        return out
    if "exp" not in payload:
        out.append("no exp claim: this token never expires. Anyone who copies it keeps access.")
    elif is_number(payload.get("exp")) and is_number(payload.get("iat")):
        life = payload["exp"] - payload["iat"]
        if life > LONG_LIFETIME:
            out.append(f"very long lifetime: {ago(life)} from iat to exp. A stolen token works that "
                       "long.")
    sensitive = sorted(k for k in payload if SENSITIVE.search(k))
    if sensitive:
        many = len(sensitive) > 1
        out.append(f"payload field{'s' if many else ''} {', '.join(sensitive)} "
                   f"look{'' if many else 's'} personal or secret: the payload is only encoded, "
                   "anyone holding the token can read it.")
    return out
