"""JWTs on top of PyJWT: split and inspect a token, issue one, verify it check by check.

Everything here returns plain data. Time is a parameter (`now`), so tests build tokens that are
already expired instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import re
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

from authcli.errors import AuthcliError


@functools.lru_cache(maxsize=None)
def _jwt():
    """PyJWT, imported when a signature is made or checked: decoding alone is base64 and JSON,
    and importing PyJWT (with cryptography) would double `authcli decode`'s start-up."""
    import jwt
    from jwt.warnings import InsecureKeyLengthWarning

    # authcli reports short HMAC keys itself, in its output; PyJWT's stderr warning would only
    # interrupt the narration.
    warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    return jwt

B64URL = re.compile(r"[A-Za-z0-9_-]*")
HMAC_ALGS = ("HS256", "HS384", "HS512")
RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
OKP_ALGS = ("EdDSA",)
HASH_BYTES = {"256": 32, "384": 48, "512": 64}
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


class MalformedToken(AuthcliError):
    """The text is not a well-formed signed JWT (segments, base64url or JSON)."""


class BadKey(AuthcliError):
    """A key or secret that cannot be used for verification."""


def b64url_decode(segment: str, part: str) -> bytes:
    if not B64URL.fullmatch(segment):
        bad = next(c for c in segment if not B64URL.fullmatch(c))
        raise MalformedToken(f"the {part} is not base64url: it contains {bad!r}")
    if len(segment) % 4 == 1:
        raise MalformedToken(f"the {part} is not base64url: {len(segment)} characters is not a possible length")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken(f"the {part} is not base64url") from None


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json accepts NaN and Infinity; RFC 8259 does not


def _json_object(raw: bytes, part: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise MalformedToken(f"the {part} is not UTF-8 text once base64url-decoded") from None
    except (ValueError, RecursionError):
        raise MalformedToken(f"the {part} is not JSON once base64url-decoded") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the {part} is JSON but not an object (it is a {type(value).__name__})")
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


def clean(text: str) -> str:
    """Tolerate what people paste: surrounding whitespace and a leading `Bearer `."""
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text


def split(text: str) -> TokenParts:
    """Take a JWT apart without trusting it. Raises MalformedToken with a one-line reason."""
    token = clean(text)
    if not token:
        raise MalformedToken("the token is empty")
    segments = token.split(".")
    if len(segments) == 5:
        raise MalformedToken("this is an encrypted JWE (5 parts), not a signed JWT: its payload "
                             "cannot be read without the recipient's private key")
    if len(segments) != 3:
        raise MalformedToken(f"a signed JWT has 3 parts separated by '.', this has {len(segments)}")
    header_b64, payload_b64, signature_b64 = segments
    header = _json_object(b64url_decode(header_b64, "header"), "header")
    payload = _json_object(b64url_decode(payload_b64, "payload"), "payload")
    signature = b64url_decode(signature_b64, "signature")
    return TokenParts(token, header_b64, payload_b64, signature_b64, header, payload, signature)


# --- time, in words -------------------------------------------------------------------------

def utc(ts: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return f"{ts} (out of range)"


def ago(seconds: float) -> str:
    """'3 minutes', '15 years': the largest unit, rounded down."""
    seconds = abs(seconds)
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = int(seconds)
    return f"{n} second{'s' if n != 1 else ''}"


def relative(ts: float, now: float) -> str:
    delta = ts - now
    return f"in {ago(delta)}" if delta > 0 else f"{ago(delta)} ago"


def is_number(value: object) -> bool:
    """A JSON number usable as a NumericDate (finite; bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) if isinstance(value, float) else True


# --- inspection ------------------------------------------------------------------------------

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
                readable = "not a number: invalid"
            else:
                readable = utc(value) + (f", {relative(value, now)}" if now is not None else "")
        claims.append(Claim(name, json.dumps(value), meaning, readable))
    return TokenView(parts.token, [parts.header_b64, parts.payload_b64, parts.signature_b64],
                     parts.header, parts.payload, parts.signature_b64, len(parts.signature),
                     claims, token_warnings(parts))


def token_warnings(parts: TokenParts) -> list[str]:
    out = []
    alg = parts.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        out.append(f"alg is {json.dumps(alg)}: an unsigned token. Anyone can write one; a server "
                   "must never accept it.")
    for name in ("jku", "jwk", "x5u"):
        if name in parts.header:
            out.append(f"header carries {name!r}: a verifier must never fetch or trust a key named "
                       "by the token itself.")
    payload = parts.payload
    if "exp" not in payload:
        out.append("no exp claim: this token never expires. Anyone who copies it keeps access.")
    elif is_number(payload.get("exp")) and is_number(payload.get("iat")):
        life = payload["exp"] - payload["iat"]
        if life > LONG_LIFETIME:
            out.append(f"very long lifetime: {ago(life)} from iat to exp. A stolen token works that "
                       "long; access tokens usually live minutes.")
    sensitive = sorted(k for k in payload if SENSITIVE.search(k))
    if sensitive:
        many = len(sensitive) > 1
        out.append(f"payload field{'s' if many else ''} {', '.join(sensitive)} "
                   f"look{'' if many else 's'} personal or secret: the payload is only encoded, "
                   "anyone holding the token can read it.")
    return out


# --- keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyKey:
    """A key ready for PyJWT (parsed once), the algorithms it may verify, and how to describe it."""

    key: Any
    algorithms: tuple[str, ...]
    description: str
    hmac_bytes: int | None = None
    # PyJWT's algorithm object and its prepared key, per algorithm: made on first use, so a
    # server verifying every request never prepares (re-parses) the key again.
    _prepared: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def prepared(self, alg: str) -> tuple[Any, Any]:
        if alg not in self._prepared:
            algorithm = _jwt().get_algorithm_by_name(alg)
            self._prepared[alg] = (algorithm, algorithm.prepare_key(self.key))
        return self._prepared[alg]


def secret_key(secret: bytes, alg: str | None = None) -> VerifyKey:
    algs = (alg,) if alg else HMAC_ALGS
    if any(a not in HMAC_ALGS for a in algs):
        raise BadKey(f"a shared secret can only verify {', '.join(HMAC_ALGS)}, not {alg}")
    if not secret:
        raise BadKey("the secret is empty")
    return VerifyKey(secret, algs, f"HMAC secret, {len(secret)} bytes", len(secret))


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


def _pin(key: VerifyKey, alg: str | None) -> VerifyKey:
    if alg is None:
        return key
    if alg not in key.algorithms:
        raise BadKey(f"--alg {alg} does not fit this key ({key.description}: {', '.join(key.algorithms)})")
    return VerifyKey(key.key, (alg,), key.description, key.hmac_bytes)


def key_from_pem(data: bytes, alg: str | None = None) -> VerifyKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = x509.load_pem_x509_certificate(data).public_key()
        except ValueError:
            try:
                key = serialization.load_pem_private_key(data, password=None).public_key()
            except (ValueError, TypeError):
                raise BadKey("not a PEM public key, certificate or unencrypted private key") from None
    algs = _public_key_algs(key)
    name = type(key).__name__.lstrip("_").replace("PublicKey", "")
    return _pin(VerifyKey(key, algs, f"{name} public key"), alg)


def key_from_jwk(jwk: dict[str, Any], alg: str | None = None) -> VerifyKey:
    jwt = _jwt()
    try:
        parsed = jwt.PyJWK(jwk, algorithm=alg or jwk.get("alg"))
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as err:
        raise BadKey(f"unusable JWK: {err}") from None
    if jwk.get("kty") == "oct":
        secret = parsed.key if isinstance(parsed.key, bytes) else str(parsed.key).encode()
        return _pin(secret_key(secret), alg)
    algs = _public_key_algs(parsed.key)
    kid = f" kid={jwk['kid']}" if "kid" in jwk else ""
    return _pin(VerifyKey(parsed.key, algs, f"JWK ({jwk.get('kty')}{kid})"), alg)


def key_from_file(data: bytes, header: dict[str, Any], alg: str | None = None) -> VerifyKey:
    """A PEM key, a JWK, or a JWKS from which the token's `kid` picks the key."""
    text = data.strip()
    if text.startswith(b"{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise BadKey("the key file starts like JSON but is not valid JSON") from None
        if not isinstance(doc, dict):
            raise BadKey("the key file is JSON but neither a JWK nor a JWKS")
        if "keys" in doc:
            keys = [k for k in doc["keys"] if isinstance(k, dict)] if isinstance(doc["keys"], list) else []
            kid = header.get("kid")
            if kid is not None:
                matching = [k for k in keys if k.get("kid") == kid]
                if not matching:
                    raise BadKey(f"the JWKS has no key with kid {kid!r} (it has "
                                    f"{', '.join(repr(k.get('kid')) for k in keys) or 'none'})")
            elif len(keys) == 1:
                matching = keys
            else:
                raise BadKey(f"the token has no kid and the JWKS holds {len(keys)} keys: "
                                "cannot tell which one signed it")
            return key_from_jwk(matching[0], alg)
        return key_from_jwk(doc, alg)
    if b"-----BEGIN" in text:
        return key_from_pem(text, alg)
    raise BadKey("the key file is neither PEM nor JSON (JWK/JWKS); for a shared secret use --secret-file")


def key_warnings(key: VerifyKey, parts: TokenParts) -> list[str]:
    alg = parts.header.get("alg")
    if key.hmac_bytes is None or alg not in HMAC_ALGS:
        return []
    need = HASH_BYTES[alg[2:]]
    if key.hmac_bytes >= need:
        return []
    return [f"the HMAC secret is {key.hmac_bytes} bytes, shorter than {alg}'s {need}-byte hash "
            "(RFC 7518 3.2): a short or guessable secret can be brute-forced offline from any "
            "one token, and then anyone can sign tokens for any user."]


# --- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """Each check with its reason; `ok` only when every check passed."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)


def verify(parts: TokenParts, key: VerifyKey, *, now: float, leeway: float = 0,
           require: Sequence[str] = ("exp",), audience: str | None = None,
           issuer: str | None = None) -> Verdict:
    """Check a token the way a careful server does, reporting every check, not only the first failure.

    The algorithm comes from the verifier's list, never from the token; the signature is checked
    by PyJWT; claims are checked against `now`.
    """
    checks: list[Check] = []
    alg = parts.header.get("alg")
    allowed = ", ".join(key.algorithms)
    if not isinstance(alg, str) or alg not in key.algorithms:
        why = ("'none' means unsigned and is never accepted" if isinstance(alg, str) and alg.lower() == "none"
               else "the verifier decides the algorithm, not the token")
        checks.append(Check("algorithm", False, f"{json.dumps(alg)} is not in the allow-list [{allowed}]: {why}"))
        checks.append(Check("signature", False, "not checked: the algorithm was refused"))
    else:
        checks.append(Check("algorithm", True, f"{alg} is in the allow-list [{allowed}]"))
        checks.append(_signature(parts, key, alg))
    if "crit" in parts.header:  # RFC 7515 4.1.11: extensions a verifier does not know mean no
        checks.append(Check("crit", False, f"the token requires header extensions "
                            f"{json.dumps(parts.header['crit'])} that this verifier does not implement"))
    payload = parts.payload
    for name in require:
        if name not in payload and name not in TIME_CLAIMS:
            checks.append(Check(name, False, f"required claim {name} is missing"))
    checks += _time_checks(payload, now, leeway, require)
    if audience is not None:
        aud = payload.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        ok = audience in auds
        checks.append(Check("aud", ok, f"{json.dumps(aud)} {'includes' if ok else 'does not include'} {audience!r}"
                            if "aud" in payload else "no aud claim, but an audience was required"))
    if issuer is not None:
        iss = payload.get("iss")
        ok = iss == issuer
        checks.append(Check("iss", ok, f"{json.dumps(iss)} {'is' if ok else 'is not'} {issuer!r}"
                            if "iss" in payload else "no iss claim, but an issuer was required"))
    return Verdict(checks)


def _signature(parts: TokenParts, key: VerifyKey, alg: str) -> Check:
    """PyJWT's own algorithm verifies the bytes; the token was already split, so it is not
    parsed a second time the way PyJWS.decode would."""
    signing_input = f"{parts.header_b64}.{parts.payload_b64}".encode("ascii")
    # HMAC verifiers recompute the signature with the shared secret; RSA, ECDSA and EdDSA
    # verifiers check it against the public key and could not have made it themselves.
    how = (f"{alg} recomputed over header.payload ({len(signing_input)} bytes) with the secret"
           if alg in HMAC_ALGS else
           f"{alg} signature over header.payload ({len(signing_input)} bytes) checked with the public key")
    jwt = _jwt()
    try:
        algorithm, prepared = key.prepared(alg)
        valid = algorithm.verify(signing_input, prepared, parts.signature)
    except (jwt.InvalidKeyError, jwt.InvalidAlgorithmError, NotImplementedError) as err:
        return Check("signature", False, f"the key cannot verify {alg}: {err}")
    except (jwt.PyJWTError, ValueError, TypeError) as err:
        return Check("signature", False, f"could not be checked: {err}")
    if not valid:
        return Check("signature", False, f"{how}: no match, so the token was changed or signed "
                     "with another key")
    return Check("signature", True, f"{how}: match, unchanged since it was signed")


def _time_checks(payload: dict[str, Any], now: float, leeway: float, require: Sequence[str]) -> list[Check]:
    checks = []
    slack = f" (leeway {leeway:g} s)" if leeway else ""
    if "exp" in payload:
        exp = payload["exp"]
        if not is_number(exp):
            checks.append(Check("exp", False, f"{json.dumps(exp)} is not a NumericDate (seconds since 1970)"))
        elif exp <= now - leeway:
            checks.append(Check("exp", False, f"expired {utc(exp)}, {ago(now - exp)} ago{slack}"))
        else:
            checks.append(Check("exp", True, f"expires {utc(exp)}, in {ago(exp - now)}"))
    elif "exp" in require:
        checks.append(Check("exp", False, "no exp claim: a token without expiry is refused"))
    if "nbf" in payload:
        nbf = payload["nbf"]
        if not is_number(nbf):
            checks.append(Check("nbf", False, f"{json.dumps(nbf)} is not a NumericDate"))
        elif nbf > now + leeway:
            checks.append(Check("nbf", False, f"not valid before {utc(nbf)}, in {ago(nbf - now)}{slack}"))
        else:
            checks.append(Check("nbf", True, f"valid since {utc(nbf)}"))
    if "iat" in payload:
        iat = payload["iat"]
        if not is_number(iat):
            checks.append(Check("iat", False, f"{json.dumps(iat)} is not a NumericDate"))
        elif iat > now + leeway:
            checks.append(Check("iat", False, f"issued in the future: {utc(iat)}{slack}"))
        else:
            checks.append(Check("iat", True, f"issued {utc(iat)}, {ago(now - iat)} ago"))
    elif "iat" in require:
        checks.append(Check("iat", False, "required claim iat is missing"))
    return checks


# --- issuing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningKey:
    """A server's key, generated or given once at start: sign with `private`, verify with `verify`."""

    alg: str
    private: Any
    verify: VerifyKey
    kid: str | None
    jwks: dict[str, Any] | None
    secret: bytes | None = None

    @property
    def weak(self) -> bool:
        return self.secret is not None and len(self.secret) < HASH_BYTES[self.alg[2:]]


def make_signing_key(alg: str = "HS256", secret: bytes | None = None) -> SigningKey:
    if alg in HMAC_ALGS:
        raw = secret if secret is not None else secrets.token_bytes(HASH_BYTES[alg[2:]])
        return SigningKey(alg, raw, secret_key(raw, alg), None, None, raw)
    if secret is not None:
        raise BadKey(f"--secret is for HMAC (HS256); {alg} uses a generated key pair")
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    jwt = _jwt()
    if alg == "RS256":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        to_jwk = jwt.algorithms.RSAAlgorithm.to_jwk
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        to_jwk = jwt.algorithms.ECAlgorithm.to_jwk
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        to_jwk = jwt.algorithms.OKPAlgorithm.to_jwk
    else:
        raise BadKey(f"unsupported algorithm {alg}: use HS256, RS256, ES256 or EdDSA")
    public = private.public_key()
    jwk = json.loads(to_jwk(public))
    # RFC 7638-style thumbprint, shortened: a stable name for this key in the JWKS.
    kid = b64url(hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest())[:16]
    jwk.update({"kid": kid, "use": "sig", "alg": alg})
    return SigningKey(alg, private, VerifyKey(public, (alg,), f"{alg} public key"), kid, {"keys": [jwk]})


def issue(key: SigningKey, claims: dict[str, Any]) -> str:
    headers = {"kid": key.kid} if key.kid else None
    return _jwt().encode(claims, key.private, algorithm=key.alg, headers=headers)


# --- the decode command's whole answer ------------------------------------------------------

@dataclass(frozen=True)
class Examination:
    """What `authcli decode` reports: the token, the key used (if any), the checks, the warnings."""

    view: TokenView
    key: str | None
    verdict: Verdict | None
    warnings: list[str]

    @property
    def verified(self) -> bool | None:
        return None if self.verdict is None else self.verdict.ok


def examine(text: str, key: VerifyKey | None, *, now: float, leeway: float = 0,
            audience: str | None = None, issuer: str | None = None) -> Examination:
    parts = split(text)
    view = inspect(parts, now)
    if key is None:
        return Examination(view, None, None, view.warnings)
    verdict = verify(parts, key, now=now, leeway=leeway, require=("exp",), audience=audience, issuer=issuer)
    return Examination(view, key.description, verdict, view.warnings + key_warnings(key, parts))


def load_key(*, secret: str | None, secret_file: bytes | None, key_file: bytes | None,
             header: dict[str, Any], alg: str | None) -> VerifyKey | None:
    """The one key the user gave, or None; never more than one."""
    given = [name for name, value in (("--secret", secret), ("--secret-file", secret_file),
                                      ("--key", key_file)) if value is not None]
    if len(given) > 1:
        raise BadKey(f"give one key, not {' and '.join(given)}")
    if alg is not None and alg.lower() == "none":
        raise BadKey("--alg none would skip the signature check; authcli never does that")
    if alg is not None and alg not in _jwt().algorithms.get_default_algorithms():
        raise BadKey(f"unknown algorithm {alg!r}")
    if secret is not None:
        return secret_key(secret.encode("utf-8"), alg)
    if secret_file is not None:
        # Secret files usually end with a newline that is not part of the secret.
        return secret_key(secret_file.rstrip(b"\r\n"), alg)
    if key_file is not None:
        return key_from_file(key_file, header, alg)
    if alg is not None:
        raise BadKey("--alg pins the algorithm used with a key: give --secret, --secret-file or --key too")
    return None
