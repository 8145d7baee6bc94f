"""Signing a token with a server's key."""

from __future__ import annotations

from typing import Any

from authcli.tokens.keys import SigningKey, pyjwt


def issue(key: SigningKey, claims: dict[str, Any]) -> str:
    headers = {"kid": key.kid} if key.kid else None
    return pyjwt().encode(claims, key.private, algorithm=key.alg, headers=headers)
