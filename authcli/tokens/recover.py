"""The attacker's side of algorithm confusion with no exposed key: an RSA public key from two tokens.

An RS256 signature s of a message is m^d mod n, where m is the message's PKCS #1 v1.5 encoding
(RFC 8017 9.2), which anyone can compute. So s^e - m is a multiple of n for every token, and
the gcd of two of them is n times a small factor at most. Nothing is guessed: the result is
checked by verifying a signature with it. What rsa_sign2n and PortSwigger's sig2n tool do.

s^e is not reduced modulo anything (n is what we are looking for): with e = 65537 and a 2048-bit
key it has 2048 * 65537 bits, about 134 million, and the gcd is over numbers that size. gmpy2
(GMP) does that in seconds; Python's own ints take minutes or more (benchmarks/recover_key.py).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from authcli.errors import RecoveryFailed
from authcli.tokens.parse import TokenParts, b64url_decode

E = 65537
# RFC 8017 9.2, note 1: the DER of DigestInfo up to the digest itself.
DIGEST_INFO = {
    "RS256": (hashlib.sha256, bytes.fromhex("3031300d060960864801650304020105000420")),
    "RS384": (hashlib.sha384, bytes.fromhex("3041300d060960864801650304020205000430")),
    "RS512": (hashlib.sha512, bytes.fromhex("3051300d060960864801650304020305000440")),
}
SMALL = 1 << 16  # the gcd's extra factors are tried below this: n itself has none (its primes are half its size)


def small_primes(limit: int = SMALL) -> list[int]:
    """The primes below `limit` (a sieve: milliseconds, made only when a gcd needs them)."""
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for p in range(2, int(limit ** 0.5) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytes(len(range(p * p, limit, p)))
    return [p for p in range(limit) if sieve[p]]


@dataclass(frozen=True)
class Recovered:
    """The public key found, how: which big-number engine, how long, what was divided out."""

    n: int
    e: int
    engine: str
    seconds: float
    divided_out: int  # the small cofactor removed from the gcd (1: the gcd was n itself)
    gcd_bits: int

    def public_key(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return rsa.RSAPublicNumbers(self.e, self.n).public_key()

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)


def has_gmpy2() -> bool:
    try:
        import gmpy2  # noqa: F401
    except ImportError:
        return False
    return True


def encoded(alg: str, signing_input: bytes, size: int) -> int:
    """EMSA-PKCS1-v1_5 (RFC 8017 9.2): 00 01 FF..FF 00 DigestInfo hash, `size` bytes, as an int."""
    if alg not in DIGEST_INFO:
        raise RecoveryFailed(f"{alg} is not RSA PKCS #1 v1.5 (RS256, RS384, RS512)")
    digest, prefix = DIGEST_INFO[alg]
    t = prefix + digest(signing_input).digest()
    if size < len(t) + 11:
        raise RecoveryFailed("the signature is too short for an RSA key")
    return int.from_bytes(b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t, "big")


def _parts(token: TokenParts) -> tuple[str, bytes, bytes]:
    alg = token.header.get("alg")
    if not isinstance(alg, str) or alg not in DIGEST_INFO:
        raise RecoveryFailed(f"the token is signed {alg!r}, not RS256, RS384 or RS512")
    return alg, f"{token.header_b64}.{token.payload_b64}".encode("ascii"), b64url_decode(token.signature_b64, "signature")


def _engine(use_gmpy2: bool | None) -> tuple[str, Callable[[int], Any], Callable[[Any, Any], Any]]:
    if use_gmpy2 is not False and has_gmpy2():
        import gmpy2

        return "gmpy2", gmpy2.mpz, gmpy2.gcd
    if use_gmpy2:
        raise RecoveryFailed("gmpy2 is not installed: pip install 'authcli[gmpy2]'")
    import math

    return "Python ints", int, math.gcd


def strip_small(g: int, size_bits: int) -> tuple[int, int]:
    """g without the small prime factors a gcd of two multiples of n may carry; the cofactor."""
    k = 1
    for p in small_primes() if g.bit_length() > size_bits else ():
        if g.bit_length() <= size_bits:
            break
        while g % p == 0 and g.bit_length() > size_bits:
            g //= p
            k *= p
    return g, k


def recover(first: TokenParts, second: TokenParts, *, e: int = E, use_gmpy2: bool | None = None,
            now: Callable[[], float] = time.perf_counter) -> Recovered:
    """n from two tokens signed by one RSA key: gcd(s1^e - m1, s2^e - m2), small factors divided
    out, then checked by verifying both signatures with (n, e). `use_gmpy2`: None takes gmpy2
    when installed, False forces Python's ints (the benchmark's other side)."""
    (alg1, in1, sig1), (alg2, in2, sig2) = _parts(first), _parts(second)
    if len(sig1) != len(sig2):
        raise RecoveryFailed("the two signatures have different lengths: two different keys")
    if in1 == in2:
        raise RecoveryFailed("the two tokens are the same: two different messages are needed")
    engine, big, gcd = _engine(use_gmpy2)
    size = len(sig1)
    start = now()
    m1, m2 = encoded(alg1, in1, size), encoded(alg2, in2, size)
    s1, s2 = big(int.from_bytes(sig1, "big")), big(int.from_bytes(sig2, "big"))
    g = int(gcd(s1 ** e - big(m1), s2 ** e - big(m2)))
    n, k = strip_small(g, size * 8)
    seconds = now() - start
    if n.bit_length() > size * 8 or n.bit_length() < size * 8 - 7:
        raise RecoveryFailed(f"the gcd ({g.bit_length()} bits) is not an RSA modulus of {size * 8} bits: "
                             "a third token would narrow it down")
    result = Recovered(n, e, engine, seconds, k, g.bit_length())
    for alg, signed, sig in ((alg1, in1, sig1), (alg2, in2, sig2)):
        if not verifies(result, alg, signed, sig):
            raise RecoveryFailed("the candidate key does not verify the tokens' signatures")
    return result


def verifies(found: Recovered, alg: str, signed: bytes, sig: bytes) -> bool:
    """Check a signature with the recovered key, with cryptography's own RSA verification."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    hash_ = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}[alg]()
    try:
        found.public_key().verify(sig, signed, padding.PKCS1v15(), hash_)
    except (InvalidSignature, ValueError):
        return False
    return True
