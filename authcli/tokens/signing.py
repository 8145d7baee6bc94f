"""Signing: a server's or a user's private key (made here, or loaded from PEM or JWK), and tokens.

`make_signing_key` is what `demo jwt` and `serve` use at start; `load_signing_key` what
`authcli sign` and `serve --key` read; `key_files` what `authcli keys` writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from authcli.encoding import b64url
from authcli.errors import BadKey
from authcli.tokens import hmacjws
from authcli.tokens.keys import (
    HASH_BYTES, HMAC_ALGS, SigningKey, VerifyKey, _public_key_algs, json_document, parse_jwk, pyjwt, secret_key,
)

# The algorithm each key type signs with unless told otherwise.
DEFAULT_ALG = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}
# RFC 7638: the members a thumbprint covers, per key type.
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def issue(key: SigningKey, claims: dict[str, Any], headers: dict[str, Any] | None = None,
          stdlib: bool = False) -> str:
    """A signed token. `stdlib`: only `authcli sign` asks, to make HS* without PyJWT's import
    (the same bytes, tested); servers and demos sign with PyJWT, as they say they do."""
    merged = {**({"kid": key.kid} if key.kid else {}), **(headers or {})}
    if stdlib and hmacjws.can_encode(key.alg, key.private, claims, merged):  # the bytes PyJWT makes, without its import
        try:
            return hmacjws.encode(claims, key.private, key.alg, merged or None)
        except (ValueError, TypeError) as err:  # a claim JSON cannot write, as PyJWT's json.dumps would say
            raise BadKey(f"cannot sign with this key: {str(err)[:200]}") from None
    jwt = pyjwt()
    try:
        return jwt.encode(claims, key.private, algorithm=key.alg, headers=merged or None)
    except (jwt.PyJWTError, ValueError, TypeError) as err:
        # e.g. PyJWT refuses an HMAC "secret" that is a PEM or a JWK: it would be public
        raise BadKey(f"cannot sign with this key: {str(err)[:200]}") from None


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint: SHA-256 over the required members, sorted, no spaces."""
    members = THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def _kty(private: Any) -> str:
    algs = _public_key_algs(private)
    return "RSA" if algs[0].startswith("RS") else "OKP" if algs == ("EdDSA",) else "EC"


def from_private(private: Any, alg: str | None = None, kid: str | None = None) -> SigningKey:
    """A SigningKey around a cryptography private key: its public half verifies, and is published
    as a one-key JWKS named by its thumbprint (or `kid`)."""
    if not hasattr(private, "private_bytes"):
        raise BadKey("a public key cannot sign: give the private key")
    algs = _public_key_algs(private)
    kty = _kty(private)
    chosen = alg or DEFAULT_ALG.get(kty, algs[0])
    if chosen not in algs:
        raise BadKey(f"a {kty} key signs {', '.join(algs)}, not {chosen}")
    public = private.public_key()
    to_jwk = {"RSA": pyjwt().algorithms.RSAAlgorithm, "EC": pyjwt().algorithms.ECAlgorithm,
              "OKP": pyjwt().algorithms.OKPAlgorithm}[kty].to_jwk
    jwk = json.loads(to_jwk(public))
    kid = kid or thumbprint(jwk)
    jwk.update({"kid": kid, "use": "sig", "alg": chosen})
    return SigningKey(chosen, private, VerifyKey(public, (chosen,), f"{chosen} public key"), kid, {"keys": [jwk]})


def _random_secret(alg: str) -> bytes:
    import secrets  # here: `authcli sign --secret` makes no key, and secrets imports random

    return secrets.token_urlsafe(HASH_BYTES[alg[2:]]).encode()


def make_signing_key(alg: str = "HS256", secret: bytes | None = None) -> SigningKey:
    """A key made at start: 32 random bytes for HMAC (written as 43 URL-safe characters, so it
    can be typed into --secret), or a new key pair."""
    if alg in HMAC_ALGS:
        raw = secret if secret is not None else _random_secret(alg)
        return SigningKey(alg, raw, secret_key(raw, alg), None, None, raw, generated=secret is None)
    if secret is not None:
        raise BadKey(f"a shared secret is for HMAC (HS256); {alg} uses a generated key pair")
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if alg in ("RS256", "PS256"):
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise BadKey(f"unsupported algorithm {alg}: use HS256, RS256, PS256, ES256 or EdDSA")
    return replace(from_private(private, alg), generated=True)


def load_signing_key(data: bytes, alg: str | None = None) -> SigningKey:
    """A private key from a PEM file or a private JWK (a JWKS with one private key will do)."""
    text = data.strip()
    if text.startswith(b"{"):
        doc = json_document(text)
        if isinstance(doc, dict) and isinstance(doc.get("keys"), list) and len(doc["keys"]) == 1:
            doc = doc["keys"][0]
        if not isinstance(doc, dict):
            raise BadKey("the key file is JSON but not a JWK")
        parsed = parse_jwk(doc, alg)
        if doc.get("kty") == "oct":
            raw = parsed.key if isinstance(parsed.key, bytes) else str(parsed.key).encode()
            return make_signing_key(alg or "HS256", raw)
        return from_private(parsed.key, alg, doc.get("kid") if isinstance(doc.get("kid"), str) else None)
    if b"-----BEGIN" not in text:
        raise BadKey("the key file is neither PEM nor a JWK; a shared secret goes in a secret file")
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        private = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise BadKey("not an unencrypted PEM private key (signing needs the private key)") from None
    return from_private(private, alg)


def key_files(key: SigningKey) -> dict[str, bytes]:
    """What `authcli keys` writes: the private PEM (PKCS #8), the public PEM and a JWKS."""
    from cryptography.hazmat.primitives import serialization

    private = key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public = key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"private.pem": private, "public.pem": public,
            "jwks.json": (json.dumps(key.jwks, indent=2) + "\n").encode()}
