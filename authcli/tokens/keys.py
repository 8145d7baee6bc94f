"""Keys: HMAC secrets, PEM and JWK/JWKS public keys (picked by kid), and a server's signing key.

The key always comes from the verifier's side; a token's own `kid` only picks among keys the
verifier already holds, and `jku`, `jwk` and `x5u` headers are never followed.
"""

from __future__ import annotations

import functools
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from authcli.errors import BadKey
from authcli.tokens.parse import TokenParts

HMAC_ALGS = ("HS256", "HS384", "HS512")
RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
OKP_ALGS = ("EdDSA",)
HASH_BYTES = {"256": 32, "384": 48, "512": 64}


@functools.lru_cache(maxsize=None)
def pyjwt():
    """PyJWT, imported when a signature is made or checked: decoding alone is base64 and JSON,
    and importing PyJWT (with cryptography) would double `authcli decode`'s start-up."""
    import jwt
    from jwt.warnings import InsecureKeyLengthWarning

    # authcli reports short HMAC keys itself, in its output; PyJWT's stderr warning would only
    # interrupt the narration.
    warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    return jwt


@dataclass(frozen=True)
class VerifyKey:
    """A key ready for PyJWT (parsed once), the algorithms it may verify, and how to describe it."""

    key: Any
    algorithms: tuple[str, ...]
    description: str
    hmac_bytes: int | None = None
    # True only for the CLI's one-shot checks (decode --secret): HS* verified with the standard
    # library (tokens/hmacjws.py, identical results, tested), because PyJWT's import is most of a
    # start. Servers and demos keep PyJWT: what they show is PyJWT's verification.
    stdlib: bool = False
    # PyJWT's algorithm object and its prepared key, per algorithm: made on first use, so a
    # server verifying every request never prepares (re-parses) the key again.
    _prepared: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def prepared(self, alg: str) -> tuple[Any, Any]:
        if alg not in self._prepared:
            from authcli.tokens import hmacjws

            if self.stdlib and alg in HMAC_ALGS and hmacjws.plain_secret(self.key):
                self._prepared[alg] = (hmacjws.Verifier(alg), self.key)
            else:
                algorithm = pyjwt().get_algorithm_by_name(alg)
                self._prepared[alg] = (algorithm, algorithm.prepare_key(self.key))
        return self._prepared[alg]

    def pinned(self, alg: str | None) -> VerifyKey:
        """The same key, allowed to verify only `alg` (None: unchanged)."""
        if alg is None:
            return self
        if alg not in self.algorithms:
            raise BadKey(f"algorithm {alg} does not fit this key ({self.description}: "
                         f"{', '.join(self.algorithms)})")
        return VerifyKey(self.key, (alg,), self.description, self.hmac_bytes, self.stdlib)


def check_algorithm(alg: str) -> None:
    """Refuse `none` and names PyJWT does not know, before any key is read."""
    if alg.lower() == "none":
        raise BadKey("algorithm none would skip the signature check; authcli never does that")
    if alg not in HMAC_ALGS and alg not in pyjwt().algorithms.get_default_algorithms():
        raise BadKey(f"unknown algorithm {alg!r}")


def secret_key(secret: bytes, alg: str | None = None, stdlib: bool = False) -> VerifyKey:
    algs = (alg,) if alg else HMAC_ALGS
    if any(a not in HMAC_ALGS for a in algs):
        raise BadKey(f"a shared secret can only verify {', '.join(HMAC_ALGS)}, not {alg}")
    if not secret:
        raise BadKey("the secret is empty")
    return VerifyKey(secret, algs, f"HMAC secret, {len(secret)} bytes", len(secret), stdlib)


def _public_key_algs(key: Any) -> tuple[str, ...]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return RSA_ALGS
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        alg = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512",
               "secp256k1": "ES256K"}.get(key.curve.name)
        if alg is None:
            raise BadKey(f"unsupported elliptic curve {key.curve.name}")
        return (alg,)
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey,
                        ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return OKP_ALGS
    raise BadKey(f"unsupported key type {type(key).__name__}")


def key_from_pem(data: bytes, alg: str | None = None) -> VerifyKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from cryptography.exceptions import UnsupportedAlgorithm

    private = ""
    try:
        key: Any = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        try:
            key = x509.load_pem_x509_certificate(data).public_key()
        except (ValueError, UnsupportedAlgorithm):
            try:
                key = serialization.load_pem_private_key(data, password=None).public_key()
                private = " (from a private key: only its public half is used)"
            except (ValueError, TypeError, UnsupportedAlgorithm) as err:
                what = "an algorithm it does not support" if isinstance(err, UnsupportedAlgorithm) else "nothing usable"
                raise BadKey(f"not a PEM public key, certificate or unencrypted private key ({what})") from None
    algs = _public_key_algs(key)
    name = type(key).__name__.lstrip("_").replace("PublicKey", "")
    return VerifyKey(key, algs, f"{name} public key{private}").pinned(alg)


def parse_jwk(jwk: dict[str, Any], alg: str | None = None) -> Any:
    """PyJWK's reading of a JWK; whatever it objects to is one BadKey line."""
    jwt = pyjwt()
    wanted = alg or jwk.get("alg")
    if isinstance(wanted, str) and wanted.lower() == "none":
        raise BadKey("the JWK says alg none: a key for no signature is no key")
    try:
        return jwt.PyJWK(jwk, algorithm=wanted)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError, AttributeError,
            NotImplementedError) as err:
        raise BadKey(f"unusable JWK: {str(err)[:200] or type(err).__name__}") from None


def json_document(text: bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadKey("the key file starts like JSON but is not valid JSON (or nests too deep)") from None


def key_from_jwk(jwk: dict[str, Any], alg: str | None = None) -> VerifyKey:
    parsed = parse_jwk(jwk, alg)
    if jwk.get("kty") == "oct":
        secret = parsed.key if isinstance(parsed.key, bytes) else str(parsed.key).encode()
        return secret_key(secret).pinned(alg)
    key, private = parsed.key, ""
    if hasattr(key, "private_bytes"):  # a private JWK verifies with its public half only
        key, private = key.public_key(), ", private: only its public half is used"
    algs = _public_key_algs(key)
    kid = f" kid={jwk['kid']}" if "kid" in jwk else ""
    return VerifyKey(key, algs, f"JWK ({jwk.get('kty')}{kid}{private})").pinned(alg)


def _pick_from_jwks(keys: list[dict[str, Any]], kid: Any) -> dict[str, Any]:
    """The token's kid picks among keys the verifier already holds; it never adds one."""
    if kid is not None:
        matching = [k for k in keys if k.get("kid") == kid]
        if not matching:
            raise BadKey(f"the JWKS has no key with kid {kid!r} (it has "
                         f"{', '.join(repr(k.get('kid')) for k in keys) or 'none'})")
        return matching[0]
    if len(keys) == 1:
        return keys[0]
    raise BadKey(f"the token has no kid and the JWKS holds {len(keys)} keys: cannot tell which one signed it")


def key_from_file(data: bytes, header: dict[str, Any], alg: str | None = None) -> VerifyKey:
    """A PEM key, a JWK, or a JWKS from which the token's `kid` picks the key."""
    text = data.strip()
    if text.startswith(b"{"):
        doc = json_document(text)
        if not isinstance(doc, dict):
            raise BadKey("the key file is JSON but neither a JWK nor a JWKS")
        if "keys" in doc:
            keys = [k for k in doc["keys"] if isinstance(k, dict)] if isinstance(doc["keys"], list) else []
            return key_from_jwk(_pick_from_jwks(keys, header.get("kid")), alg)
        return key_from_jwk(doc, alg)
    if b"-----BEGIN" in text:
        return key_from_pem(text, alg)
    raise BadKey("the key file is neither PEM nor JSON (JWK/JWKS); a shared secret goes in a secret file")


def key_warnings(key: VerifyKey, parts: TokenParts) -> list[str]:
    alg = parts.header.get("alg")
    if key.hmac_bytes is None or alg not in HMAC_ALGS:
        return []
    from authcli.tokens.wordlist import wordlist

    need = HASH_BYTES[alg[2:]]
    out = []
    # Length alone does not make a key guessable (11 random bytes are 88 bits); a known secret does.
    if isinstance(key.key, bytes) and key.key in wordlist():
        out.append("the HMAC secret is in authcli's wordlist of secrets people really use, and a password "
                   "must never be an HMAC key [^rfc8725-3.5]: it can be guessed offline from any one token "
                   "it signed (authcli crack), and then anyone can sign tokens for any user.")
    if key.hmac_bytes < need:
        out.append(f"the HMAC secret is {key.hmac_bytes} bytes, shorter than {alg}'s {need}-byte hash, the "
                   "least the standard allows [^rfc7518-3.2]: a short or human-chosen key shrinks the search "
                   "an attacker with one token must make.")
    return out


@dataclass(frozen=True)
class SigningKey:
    """A server's key, generated or given once at start: sign with `private`, verify with `verify`."""

    alg: str
    private: Any
    verify: VerifyKey
    kid: str | None
    jwks: dict[str, Any] | None
    secret: bytes | None = None
    # True: authcli made it (random bytes from `secrets`); False: someone typed or loaded it.
    generated: bool = False

    @property
    def weak(self) -> bool:
        """An HMAC secret shorter than the hash (RFC 7518 3.2), or one people really use."""
        if self.secret is None:
            return False
        return len(self.secret) < HASH_BYTES[self.alg[2:]] or self.known

    @property
    def known(self) -> bool:
        """The secret is in authcli's wordlist of secrets people sign JWTs with."""
        if self.secret is None or self.generated:
            return False
        from authcli.tokens.wordlist import wordlist

        return self.secret in wordlist()
