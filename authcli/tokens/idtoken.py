"""An ID token checked the way OIDC Core 3.1.3.7 asks a client to: signature by the kid the
issuer's JWKS names, then iss, aud, exp, iat, nonce and at_hash, each reported as a Check."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from authcli.encoding import b64url
from authcli.errors import BadKey, MalformedToken
from authcli.tokens.checks import Check, verify
from authcli.tokens.keys import key_from_file
from authcli.tokens.parse import split


def at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6: base64url of the left half of the SHA-256 of the access token (RS256, ES256)."""
    return b64url(hashlib.sha256(access_token.encode()).digest()[:16])


def check_id_token(id_token: str, jwks: bytes, *, issuer: str, client_id: str, nonce: str | None, now: float,
                   access_token: str | None = None, alg: str = "RS256") -> list[Check]:
    """Every check, passed or not; a malformed token or an unknown kid is one failed check."""
    try:
        parts = split(id_token)
    except MalformedToken as err:
        return [Check("format", False, str(err))]
    kid = parts.header.get("kid")
    try:
        key = key_from_file(jwks, parts.header, alg)
    except BadKey as err:
        return [Check("kid", False, f"{err}")]
    checks = [Check("kid", True, f"{json.dumps(kid)[:60]} names a key in the issuer's JWKS [^rfc7515-4.1.4]")]
    checks += verify(parts, key, now=now, require=("exp", "iat", "sub"), audience=client_id, issuer=issuer).checks
    if parts.header.get("typ") == "at+jwt":
        checks.append(Check("typ", False, "an access token (typ at+jwt) is not an ID token"))
    got = parts.payload.get("nonce")
    if nonce is not None:
        ok = isinstance(got, str) and hmac.compare_digest(got.encode(), nonce.encode())
        checks.append(Check("nonce", ok, "the nonce this client sent in the authorization request "
                            "[^oidc-core-3.1.3.7]" if ok else f"{json.dumps(got)[:60]} is not the nonce this "
                            "login sent: a token from another login [^oidc-core-3.1.3.7]"))
    if access_token is not None and "at_hash" in parts.payload:
        ok = parts.payload["at_hash"] == at_hash(access_token)
        checks.append(Check("at_hash", ok, "the left half of SHA-256(access_token), so the two tokens belong "
                            "together [^oidc-core-3.1.3.6]" if ok else "does not match the access token"))
    return checks


def claims_of(id_token: str) -> dict[str, Any]:
    """The payload, for a client that already checked the token."""
    return split(id_token).payload
