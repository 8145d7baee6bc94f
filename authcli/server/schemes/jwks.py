"""Key rotation on the issuer: a ring of key pairs named by kid, one signing, all published in a JWKS.

The token's `kid` only picks among keys this server holds (RFC 7515 4.1.4); a kid it does not
hold, or no kid at all, is refused with the reason, never guessed or fetched.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any, Callable

from authcli.clock import now as clock_now
from authcli.errors import BadKey
from authcli.events import JwksServed
from authcli.server.journal import Request, Response
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.tokens.keys import SigningKey, VerifyKey
from authcli.tokens.parse import TokenParts

# How long a verifier may keep the key set (Cache-Control max-age): PyJWKClient's default
# lifespan is the same five minutes. A withdrawn key keeps working at a verifier for up to this.
JWKS_MAX_AGE = 300


class KeyRing:
    """The issuer's key pairs: `current` signs, every key in `published` verifies and is in the JWKS."""

    def __init__(self, first: SigningKey):
        if first.jwks is None:
            raise BadKey("key rotation with a JWKS needs a key pair (RS256, ES256, EdDSA): "
                         "an HMAC secret cannot be published")
        self._lock = threading.Lock()
        self.current = first
        self.published: tuple[SigningKey, ...] = (first,)

    def rotate(self, new: SigningKey | None = None, kid: str | None = None) -> SigningKey:
        """Publish a new key and sign with it from now on; the old ones stay published. `kid`:
        its name (default: its RFC 7638 thumbprint)."""
        from authcli.tokens.signing import from_private, make_signing_key

        new = new or make_signing_key(self.current.alg)
        if kid is not None:
            new = from_private(new.private, new.alg, kid)
        with self._lock:
            if any(k.kid == new.kid for k in self.published):
                raise BadKey(f"kid {new.kid!r} is already published")
            self.published += (new,)
            self.current = new
        return new

    def withdraw(self, kid: str) -> None:
        """Take a key out of the JWKS: tokens it signed are refused from now on."""
        with self._lock:
            if kid == self.current.kid:
                raise BadKey("the key that signs new tokens cannot be withdrawn; rotate first")
            self.published = tuple(k for k in self.published if k.kid != kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwks["keys"][0] for k in self.published]}

    def kids(self) -> list[str]:
        return [k.kid for k in self.published]

    def verify_key(self, kid: Any) -> VerifyKey:
        published = self.published
        if kid is None:
            raise BadKey(f"the token has no kid and this server holds {len(published)} keys: "
                         "it will not guess which one signed it")
        for key in published:
            if key.kid == kid:
                return key.verify
        shown = kid[:60] if isinstance(kid, str) else type(kid).__name__
        raise BadKey(f"unknown kid {shown!r}: no published key has it (withdrawn, or never this "
                     "server's)")


class RotatingJwtAuth(JwtAuth):
    """JwtAuth whose key rotates: login signs with the ring's current key, /profile verifies
    with the key the token's kid names, the JWKS lists every published key with a max-age."""

    def __init__(self, ring: KeyRing, ttl: int | None = None, *, clock: Callable[[], float] = clock_now,
                 max_age: int = JWKS_MAX_AGE):
        super().__init__(ring.current, ttl, clock=clock)
        self.ring = ring
        self.max_age = max_age

    def rotate(self, new: SigningKey | None = None, kid: str | None = None) -> SigningKey:
        self.key = self.ring.rotate(new, kid)  # what login signs with
        return self.key

    def withdraw(self, kid: str) -> None:
        self.ring.withdraw(kid)

    def key_for(self, parts: TokenParts) -> VerifyKey:
        key = self.ring.verify_key(parts.header.get("kid"))
        # The allow-list is that key's own algorithm, never the token's alg.
        return replace(key, algorithms=self.policy.algorithms) if self.policy.algorithms else key

    def jwks(self, request: Request) -> Response:
        kids = self.ring.kids()
        # One key a line: readable in a terminal, and still one JSON document.
        body = '{"keys": [\n' + ",\n".join("  " + json.dumps(k) for k in self.ring.jwks()["keys"]) + "\n]}\n"
        return Response(200, body,
                        [("Content-Type", "application/json"),
                         ("Cache-Control", f"public, max-age={self.max_age}")],
                        [JwksServed(f"served the key set ({len(kids)} key{'s' * (len(kids) > 1)}: "
                                    f"{', '.join(kids)}), cacheable for {self.max_age} s")])
