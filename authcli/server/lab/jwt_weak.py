"""How a careless JWT server verifies, for the attack lab: each mistake a JwtPolicy value.

The hardened server never comes here (JwtAuth verifies with its own key and `tokens.verify`).
A weak policy may take the key from the token's header (jwk, jku, kid as a path), accept HS256
with an RS256 server's public key as the secret, or relax checks after they ran.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from typing import Any

from authcli.errors import BadKey
from authcli.server.policy import JwtPolicy
from authcli.tokens.checks import Check, Verdict, distrust
from authcli.tokens.keys import HMAC_ALGS, SigningKey, VerifyKey, key_from_file, key_from_jwk, pyjwt
from authcli.tokens.parse import TokenParts

MAX_KEY_FILE = 64 * 1024


def raw_hmac_key(secret: bytes, description: str) -> VerifyKey:
    """An HMAC key PyJWT would refuse (empty, or a PEM public key), prepared by hand: what
    libraries did before they learned to refuse such keys."""
    key = VerifyKey(secret, HMAC_ALGS, description, len(secret))
    for alg in HMAC_ALGS:
        key._prepared[alg] = (pyjwt().get_algorithm_by_name(alg), secret)
    return key


def public_pem(key: SigningKey) -> bytes:
    """The server's public key as PEM: what its JWKS publishes, in the form a confused
    verifier would use as an HMAC secret."""
    from cryptography.hazmat.primitives import serialization

    return key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


class KeyDirectory:
    """A kid-path server's keys as files named by kid, in a directory of their own."""

    def __init__(self, key: SigningKey):
        self.path = tempfile.mkdtemp(prefix="authcli-lab-keys-")
        with open(os.path.join(self.path, key.kid or "server-key"), "wb") as f:
            f.write(key.secret or b"")

    def read(self, kid: str) -> tuple[bytes, str]:
        """Runs on a worker, never the loop. Even this weak server opens regular files only
        (and /dev/null, the attack's empty key): a FIFO or a terminal (kid ../../dev/stdin) would
        hold a worker forever, or read the teacher's next typed line as the key."""
        from authcli.files import read_regular

        path = os.path.join(self.path, kid)  # the mistake: kid is joined to a path unchecked
        return read_regular(path, MAX_KEY_FILE, allow_null=True), os.path.normpath(path)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)


def key_for(policy: JwtPolicy, server: SigningKey, own: VerifyKey, parts: TokenParts,
            keys: KeyDirectory | None) -> tuple[VerifyKey, str]:
    """The key this server verifies `parts` with, and where it came from; BadKey when the
    token's header cannot supply one."""
    header, source = parts.header, policy.key_source
    if source == "jwk-header":
        if not isinstance(header.get("jwk"), dict):
            raise BadKey("no jwk header to take the key from")
        return key_from_jwk(header["jwk"]), "the key was taken from the token's own jwk header"
    if source == "jku-header":
        return _fetched(header), f"the key was fetched from the token's jku URL {str(header.get('jku'))[:100]}"
    if source == "kid-path":
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise BadKey("no kid header to find the key file by")
        try:
            data, path = keys.read(kid) if keys else (b"", "")
        except (OSError, ValueError) as err:  # ValueError: a NUL in the path
            reason = err.strerror if isinstance(err, OSError) else "not a file name"
            raise BadKey(f"no key file for kid {kid[:60]!r}: {reason}") from None
        return raw_hmac_key(data, f"the file {path}"), f"the key was read from the file {path} ({len(data)} bytes), named by kid"
    if source == "kid-sql":
        return _from_table(header, keys)
    if policy.hmac_with_public_key and header.get("alg") in HMAC_ALGS and server.secret is None:
        pem = public_pem(server)
        return (replace(raw_hmac_key(pem, "the server's public key PEM, as an HMAC secret"), algorithms=HMAC_ALGS),
                f"HS256 verified with the server's public key PEM ({len(pem)} bytes) as the secret")
    return own, "the server's own key"


def _from_table(header: dict[str, Any], keys: Any) -> tuple[VerifyKey, str]:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise BadKey("no kid header to look the key up by")
    if not hasattr(keys, "formatted"):
        raise BadKey("this server keeps no key table to look kid up in")
    data, query = keys.formatted(kid)  # authcli.server.lab.kid_sql: the SQL built from kid's text
    return (raw_hmac_key(data, "a row of the keys table"),
            f"the key ({len(data)} bytes) came from SQLite, by the query {query[:200]}")


def _fetched(header: dict[str, Any]) -> VerifyKey:
    from authcli.server.lab.outbound import fetch

    url = header.get("jku")
    if not isinstance(url, str) or not url:
        raise BadKey("no jku URL to fetch keys from")
    # A lab server never reaches past this machine: one parser decides where, the address
    # connected to is checked, and the fetch has a deadline and a size limit (outbound.py).
    return key_from_file(fetch(url, limit=MAX_KEY_FILE), header)


def relax(verdict: Verdict, parts: TokenParts, policy: JwtPolicy, own: tuple[str, ...] = ()) -> Verdict:
    """The checks a weak policy skips, replaced by what the weak server did instead. `own`: the
    algorithms of the server's own key; one outside them passed only because the token chose it."""
    alg = parts.header.get("alg")
    unsigned = isinstance(alg, str) and alg.lower() == "none"
    checks = []
    for check in verdict.checks:
        if check.name == "algorithm" and check.ok and own and alg not in own:
            check = Check("algorithm", True, f"{alg}, chosen by the token: this server's own key is "
                          f"{', '.join(own)}, but it verified with the key the token led it to")
        elif not policy.verify_signature and check.name in ("algorithm", "signature", "crit"):
            check = Check(check.name, None, "not checked: this server decodes the token without verifying it")
        elif policy.accept_alg_none and unsigned and check.name == "algorithm":
            check = Check("algorithm", True, '"none" accepted: an unsigned token passes')
        elif policy.accept_alg_none and unsigned and check.name == "signature":
            check = Check("signature", None, "not checked: alg none carries no signature")
        elif not policy.check_exp and check.name == "exp":
            check = Check("exp", None, "not checked: this server ignores expiry")
        checks.append(check)
    return Verdict(distrust(checks))


def lab_key(chosen: list, secret: bytes | None = None) -> SigningKey:
    """The key of a weak JWT server with these weaknesses: the handout's secret where one asks for
    it, a small RSA key that publishes no JWKS where one asks for that, else a new key."""
    from authcli.tokens.signing import make_signing_key

    bits = max(w.key_bits for w in chosen)
    if bits:
        return small_rsa_key(bits)
    return make_signing_key(chosen[0].alg, secret or next((w.secret for w in chosen if w.secret), None))


def small_rsa_key(bits: int = 512) -> SigningKey:
    """An RS256 key of `bits` (512: the smallest PKCS #1 v1.5 with SHA-256 fits in), publishing
    no JWKS. cryptography refuses to generate keys under 1024 bits, so the primes are found here
    (Miller-Rabin, 40 rounds) and the key is assembled from its numbers."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from authcli.tokens.signing import from_private

    e = 65537
    while True:
        p, q = _prime(bits // 2), _prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and (p * q).bit_length() == bits and phi % e:
            break
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q))
    return replace(from_private(numbers.private_key(), "RS256"), jwks=None, generated=True)


def _prime(bits: int) -> int:
    import secrets

    while True:
        n = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits set: p*q has all `bits`
        if _probably_prime(n):
            return n


def _probably_prime(n: int, rounds: int = 40) -> bool:
    import secrets

    if any(n % p == 0 for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(2 + secrets.randbelow(n - 3), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
