"""JwtAuth whose HMAC keys live in SQLite, found by the token's kid (the kid-sql lab's two servers).

The hardened one checks kid's characters against its key names' and binds it as a query parameter; the weak one
(policy key_source "kid-sql") pastes kid into the SQL (authcli.server.lab.jwt_weak, kid_sql).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authcli.server.journal import Request
from authcli.server.lab.kid_sql import KeyTable
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.tokens.keys import SigningKey, VerifyKey, secret_key
from authcli.tokens.parse import TokenParts


class KeyTableJwtAuth(JwtAuth):
    """Login signs with the server's key, whose kid names its row; /profile finds the key by kid."""

    def __init__(self, key: SigningKey, ttl: int | None = None, **kwargs: Any):
        key = replace(key, kid=key.kid or "server-key")
        super().__init__(key, ttl, **kwargs)
        self._keys = KeyTable({key.kid: key.secret or b""})  # closed by JwtAuth.close

    def slow(self, request: Request) -> bool:
        return super().slow(request) or request.path == "/profile"  # a query, off the loop

    def key_for(self, parts: TokenParts) -> VerifyKey:
        if self.policy.key_source == "kid-sql":  # the weak server: jwt_weak.key_for runs the query
            return self.verify_key
        secret = self._keys.lookup(parts.header.get("kid"))  # BadKey: refused, with the reason
        return self.verify_key if secret == self.key.secret else secret_key(secret, self.key.alg)
