"""DPoP proofs (RFC 9449): the client's key pair, the proof JWT it signs for each request, and
the checks of RFC 9449 4.3 as data, given `now`. The jti replay cache is the server's (state)."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authcli.encoding import b64url
from authcli.errors import BadKey, MalformedToken
from authcli.tokens.checks import Check
from authcli.tokens.claims import is_number
from authcli.tokens.keys import parse_jwk, pyjwt
from authcli.tokens.parse import split
from authcli.tokens.signing import THUMBPRINT_MEMBERS, thumbprint

PROOF_TYP = "dpop+jwt"
# The key type (and curve) each allowed algorithm needs: an ES256 proof with a P-384 key is refused.
KEY_TYPES = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519"), "RS256": ("RSA", None), "PS256": ("RSA", None)}
# Members only a private JWK has (RFC 7517/7518): a proof's jwk must be the public key alone.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_JTI = 256
NOT_CHECKED = "not checked: the proof failed an earlier check"


@dataclass(frozen=True)
class ProofKey:
    """A client's DPoP key pair: the private key signs proofs, the public JWK travels in them."""

    private: Any
    jwk: dict[str, Any]
    alg: str = "ES256"

    @property
    def jkt(self) -> str:
        """The RFC 7638 thumbprint of the public key: what the token's cnf.jkt names."""
        return thumbprint(self.jwk)


def make_proof_key() -> ProofKey:
    """A new ES256 (P-256) key pair, made the way a browser's WebCrypto or a client library would."""
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(pyjwt().algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return ProofKey(private, {m: jwk[m] for m in ("kty", "crv", "x", "y")})


def token_hash(token: str) -> str:
    """ath (RFC 9449 4.2): base64url SHA-256 of the access token's ASCII bytes."""
    return b64url(hashlib.sha256(token.encode("ascii", "replace")).digest())


def target_uri(url: str) -> str:
    """htu as RFC 9449 4.3 compares it: without query and fragment, scheme and host in lower
    case, the scheme's default port left out (RFC 3986 6.2.2-6.2.3)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url  # not a URL: compared as given, so it matches nothing the server builds
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host += f":{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def make_proof(key: ProofKey, method: str, url: str, now: float, *, token: str | None = None,
               jti: str | None = None) -> str:
    """A DPoP proof for one request: typ dpop+jwt, the public jwk in the header, signed by `key`."""
    claims: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(16), "htm": method,
                              "htu": target_uri(url), "iat": int(now)}
    if token is not None:
        claims["ath"] = token_hash(token)
    return pyjwt().encode(claims, key.private, algorithm=key.alg, headers={"typ": PROOF_TYP, "jwk": key.jwk})


def _ago(age: float) -> str:
    if abs(age) < 1:
        return "under a second ago"
    seconds = round(abs(age))
    unit = "second" if seconds == 1 else "seconds"
    return f"{seconds} {unit} ago" if age > 0 else f"{seconds} {unit} ahead"


@dataclass(frozen=True)
class ProofVerdict:
    """The checks on one proof; `jti` and `jkt` are set once the signature held."""

    checks: list[Check] = field(default_factory=list)
    jti: str | None = None
    jkt: str | None = None

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if c.ok is False), None)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and self.failed is None


def _signature(proof: str, algorithms: tuple[str, ...]) -> tuple[list[Check], Any, str | None]:
    """typ, alg, jwk and the signature by that jwk: the checks that say the proof is genuine."""
    try:
        parts = split(proof)
    except MalformedToken as err:
        return [Check("format", False, f"not a JWT: {err}")], None, None
    header = parts.header
    checks = [Check("typ", header.get("typ") == PROOF_TYP, f"typ must be {PROOF_TYP!r} "
                    f"[^rfc9449-4.3], got {str(header.get('typ'))[:40]!r}")]
    alg = header.get("alg")
    checks.append(Check("alg", alg in algorithms, f"{str(alg)[:20]!r}: the server's list is "
                        f"{', '.join(algorithms)} (asymmetric; never none, never HMAC)"))
    if not all(c.ok for c in checks):
        return checks, None, None
    check, prepared, jkt = _jwk_check(header.get("jwk"), alg)
    checks.append(check)
    if prepared is None:
        return checks, None, None
    algorithm = pyjwt().get_algorithm_by_name(alg)
    signed = f"{parts.header_b64}.{parts.payload_b64}".encode()
    try:
        good = bool(algorithm.verify(signed, prepared, parts.signature))
    except (ValueError, TypeError):
        good = False
    checks.append(Check("signature", good, f"{alg} signature by the key in the proof's own jwk header"
                        if good else "does not verify with the key in the proof's jwk header"))
    return checks, parts if good else None, jkt


@functools.lru_cache(maxsize=1024)
def _public_key(alg: str, canonical: str) -> Any:
    """A jwk's key, parsed and prepared once: a client sends the same key with every proof, and
    reading an EC point (checking it is on the curve) costs as much as the signature check.
    `canonical` is the thumbprint's input, every member the key is made from."""
    algorithm = pyjwt().get_algorithm_by_name(alg)
    return algorithm.prepare_key(parse_jwk(json.loads(canonical), alg).key)


def _jwk_check(jwk: Any, alg: str) -> tuple[Check, Any, str | None]:
    if not isinstance(jwk, dict):
        return Check("jwk", False, "the header carries no jwk object (the public key)"), None, None
    if any(m in jwk for m in PRIVATE_MEMBERS):
        return Check("jwk", False, "the jwk holds a private key: a proof carries the public key only"), None, None
    kty, crv = KEY_TYPES[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        return Check("jwk", False, f"{alg} needs a {kty} {crv or ''} key, the jwk is "
                     f"{str(jwk.get('kty'))[:10]} {str(jwk.get('crv', ''))[:10]}".replace("  ", " ")), None, None
    try:
        canonical = json.dumps({m: jwk[m] for m in THUMBPRINT_MEMBERS[kty]}, separators=(",", ":"), sort_keys=True)
        prepared, jkt = _public_key(alg, canonical), thumbprint(jwk)
    except (BadKey, KeyError, TypeError, ValueError):
        return Check("jwk", False, "the jwk is not a usable public key"), None, None
    return Check("jwk", True, f"a public {kty} key, thumbprint {jkt}"), prepared, jkt


def check_proof(proof: str, *, method: str, url: str, now: float, algorithms: tuple[str, ...] = ("ES256",),
                max_age: float = 60, max_ahead: float = 5, token: str | None = None,
                bound_jkt: Any = None) -> ProofVerdict:
    """RFC 9449 4.3 on one proof. With `token` (a resource request): ath must be its hash and
    the proof's key must be the one the token names (`bound_jkt`, its cnf.jkt)."""
    checks, parts, jkt = _signature(proof, algorithms)
    names = ["htm", "htu", "iat", "jti"] + (["ath", "cnf.jkt"] if token is not None else [])
    if parts is None:
        return ProofVerdict(checks + [Check(n, None, NOT_CHECKED) for n in names])
    claims = parts.payload
    htm, htu, iat, jti = (claims.get(n) for n in ("htm", "htu", "iat", "jti"))
    checks.append(Check("htm", htm == method, f"{str(htm)[:20]!r}, this request is {method}"))
    wanted = target_uri(url)
    checks.append(Check("htu", isinstance(htu, str) and target_uri(htu) == wanted,
                        f"{str(htu)[:120]!r}, this request is {wanted}"))
    age = now - iat if is_number(iat) and -1e12 < iat < 1e12 else None
    checks.append(Check("iat", age is not None and -max_ahead <= age <= max_age,
                        f"made {_ago(age)}; accepted: up to {max_age:.0f} s old, {max_ahead:.0f} s ahead"
                        if age is not None else "iat must be a NumericDate"))
    fresh = isinstance(jti, str) and 0 < len(jti) <= MAX_JTI
    checks.append(Check("jti", fresh, "a string: looked up among the proofs already seen"
                        if fresh else f"jti must be a string of 1 to {MAX_JTI} characters"))
    if token is not None:
        ath = claims.get("ath")
        checks.append(Check("ath", ath == token_hash(token), "the SHA-256 of the access token sent with it"
                            if ath == token_hash(token) else "missing, or not the hash of this access token"))
        checks.append(Check("cnf.jkt", isinstance(bound_jkt, str) and bound_jkt == jkt,
                            f"the token is bound to this proof's key ({jkt})" if bound_jkt == jkt else
                            f"the token is bound to {str(bound_jkt)[:60]}, the proof was signed by {jkt}"))
    return ProofVerdict(checks, jti if fresh else None, jkt)
