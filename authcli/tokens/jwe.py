"""JWE (RFC 7516), the encrypted kind of JOSE token: its five parts taken apart without a key,
what its alg and enc mean, and, given the recipient's key, its plaintext (decrypted by joserfc,
the field's library for JWE; PyJWT stays for JWS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authcli.errors import BadKey, DecryptionFailed, MalformedToken, UsageError
from authcli.tokens.parse import QUOTES, b64url_decode, clean, json_object

# alg: how the content key reaches the recipient (RFC 7518 4.1).
KEY_MANAGEMENT = {
    "RSA-OAEP": "the content key is encrypted to the recipient's RSA public key (RSAES-OAEP, SHA-1)",
    "RSA-OAEP-256": "the content key is encrypted to the recipient's RSA public key (RSAES-OAEP, SHA-256)",
    "RSA-OAEP-384": "the content key is encrypted to the recipient's RSA public key (RSAES-OAEP, SHA-384)",
    "RSA-OAEP-512": "the content key is encrypted to the recipient's RSA public key (RSAES-OAEP, SHA-512)",
    "RSA1_5": "the content key is encrypted to the recipient's RSA public key with RSAES-PKCS1-v1_5, "
              "which padding-oracle attacks have broken in practice: avoid it",
    "dir": "no key is sent: the shared secret is the content key itself",
    "ECDH-ES": "sender and recipient agree on the content key by ECDH (the sender's one-time key is epk)",
    "A128KW": "the content key is wrapped with a shared 128-bit AES key", "A192KW":
    "the content key is wrapped with a shared 192-bit AES key", "A256KW": "the content key is wrapped with "
    "a shared 256-bit AES key",
    "A128GCMKW": "the content key is wrapped with a shared AES-128-GCM key",
    "A192GCMKW": "the content key is wrapped with a shared AES-192-GCM key",
    "A256GCMKW": "the content key is wrapped with a shared AES-256-GCM key",
    "PBES2-HS256+A128KW": "the content key is wrapped with a key derived from a password (PBKDF2)",
    "PBES2-HS384+A192KW": "the content key is wrapped with a key derived from a password (PBKDF2)",
    "PBES2-HS512+A256KW": "the content key is wrapped with a key derived from a password (PBKDF2)",
}
for _size in ("128", "192", "256"):
    KEY_MANAGEMENT[f"ECDH-ES+A{_size}KW"] = (f"an ECDH-agreed key (the sender's one-time key is epk) wraps "
                                              f"the content key with AES-{_size} Key Wrap")
# enc: how the payload itself is encrypted (RFC 7518 5.1); each also authenticates it.
CONTENT = {
    "A128GCM": "AES-128 in GCM", "A192GCM": "AES-192 in GCM", "A256GCM": "AES-256 in GCM",
    "A128CBC-HS256": "AES-128-CBC, then HMAC-SHA-256", "A192CBC-HS384": "AES-192-CBC, then HMAC-SHA-384",
    "A256CBC-HS512": "AES-256-CBC, then HMAC-SHA-512",
}
PART_NAMES = ("protected header", "encrypted key", "initialization vector", "ciphertext", "authentication tag")
JOSERFC_MISSING = "decrypting a JWE needs joserfc: pip install 'authcli[jwe]' (or pip install joserfc)"


@dataclass(frozen=True)
class JweParts:
    """A compact JWE taken apart: the five segments as sent and what the header decodes to."""

    token: str
    header: dict[str, Any]
    segments: tuple[str, ...]
    sizes: tuple[int, ...]  # decoded bytes per part (the header: its base64url characters' bytes)


def is_jwe(text: str) -> bool:
    return clean(text).count(".") == 4


def split_jwe(text: str) -> JweParts:
    """The five parts of a compact JWE (RFC 7516 7.1); MalformedToken with a one-line reason."""
    token = clean(text)
    if token[:1] in QUOTES or token[-1:] in QUOTES:
        raise MalformedToken("the JWE has quotes around it: remove them")
    segments = tuple(token.split("."))
    if len(segments) != 5:
        raise MalformedToken(f"a compact JWE has 5 parts separated by '.', this has {len(segments)}")
    try:
        raw = [b64url_decode(s, name) for s, name in zip(segments, PART_NAMES)]
        header = json_object(raw[0], "protected header")
    except MalformedToken as err:
        raise MalformedToken(f"a malformed encrypted JWE (5 parts): {err}") from None
    for name in ("alg", "enc"):
        if not isinstance(header.get(name), str):
            raise MalformedToken(f"a malformed encrypted JWE (5 parts): its protected header has no {name} "
                                 "string (a JWE needs both)")
    if not raw[3]:
        raise MalformedToken("a malformed encrypted JWE (5 parts): the ciphertext is empty")
    return JweParts(token, header, segments, tuple(len(r) for r in raw))


def meanings(header: dict[str, Any]) -> list[tuple[str, str]]:
    """What the header's fields say, one line each (values escaped by the renderer)."""
    alg, enc = header["alg"], header["enc"]
    rows = [("alg", f"{alg}: " + KEY_MANAGEMENT.get(alg, "an algorithm authcli does not know")),
            ("enc", f"{enc}: the payload is encrypted and authenticated with "
                    + CONTENT.get(enc, "an algorithm authcli does not know"))]
    cty = header.get("cty")
    if isinstance(cty, str) and cty.upper() == "JWT":
        rows.append(("cty", "JWT: the plaintext is itself a JWT (nested): signed inside, encrypted outside"))
    elif cty is not None:
        rows.append(("cty", f"{str(cty)[:60]}: the plaintext's media type"))
    if "zip" in header:
        rows.append(("zip", f"{str(header['zip'])[:20]}: the plaintext was compressed before encryption"))
    return rows


def key_type(alg: str) -> str:
    """The kind of key an alg decrypts with: RSA, EC (ECDH-ES), or a shared secret (oct)."""
    return "RSA" if alg.startswith("RSA") else "EC" if alg.startswith("ECDH") else "oct"


def _key(key_data: bytes | None, secret: bytes | None, alg: str) -> Any:
    from joserfc.jwk import OctKey, import_key

    if secret is not None:
        if not secret:
            raise BadKey("the secret is empty")
        return OctKey.import_key(secret)
    text = (key_data or b"").strip()
    try:
        if text.startswith(b"{"):
            import json

            doc = json.loads(text)
            if isinstance(doc, dict) and isinstance(doc.get("keys"), list) and len(doc["keys"]) == 1:
                doc = doc["keys"][0]
            if not isinstance(doc, dict) or not isinstance(doc.get("kty"), str):
                raise BadKey("the key file is JSON but not a JWK")
            return import_key(doc, doc["kty"])
        return import_key(text, key_type(alg))
    except BadKey:
        raise
    except Exception as err:  # joserfc and cryptography raise many kinds for a bad key file
        raise BadKey(f"cannot use this key to decrypt {alg}: {str(err)[:160] or type(err).__name__}") from None


def decrypt(parts: JweParts, *, key_data: bytes | None = None, secret: bytes | None = None) -> bytes:
    """The plaintext, decrypted (and its tag checked) with the recipient's private key (a PEM or
    JWK file) or a shared secret. The header's own alg and enc are used: this is an inspector
    opening one token for a person, not a server choosing what to accept."""
    try:
        from joserfc import jwe
        from joserfc.errors import JoseError
        from joserfc.jwk import SecurityWarning
    except ImportError:
        raise UsageError(JOSERFC_MISSING) from None
    import warnings

    alg, enc = parts.header["alg"], parts.header["enc"]
    if secret is not None and key_type(alg) != "oct":
        raise BadKey(f"{alg[:30]} opens with the recipient's private {key_type(alg)} key (--key), not a secret")
    with warnings.catch_warnings():
        # joserfc warns on stderr about short keys; the answer below is the one line that matters.
        warnings.simplefilter("ignore", SecurityWarning)
        key = _key(key_data, secret, alg)
        try:
            opened = jwe.decrypt_compact(parts.token, key, algorithms=[alg, enc])
        except JoseError as err:
            raise DecryptionFailed(f"this JWE does not open with this key: not the recipient's key, or the "
                                   f"token was changed ({err.error or type(err).__name__})") from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as err:
            raise DecryptionFailed(f"this JWE does not open with this key: {str(err)[:160] or type(err).__name__}") from None
    if opened.plaintext is None:
        raise DecryptionFailed("this JWE does not open with this key")
    return opened.plaintext
