"""Salted scrypt password hashes and the demo user directory (a@b.com / 123)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass

from authcli.errors import Saturated

from authcli.encoding import b64url as _b64
from authcli.encoding import unb64url as _unb64

# Django's scrypt hasher uses N=2**14 too; OWASP asks 2**17 for production, which
# would cost ~0.3 s per login and slow the classroom demo for no teaching gain.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32

# Each scrypt holds 16 MiB (128 * N * r bytes) for ~50 ms. More at once than there are cores
# buys no throughput, only memory: 64 concurrent logins once reached 1.2 GB. Extra logins wait
# up to QUEUE_WAIT for a turn, then get 503 with Retry-After.
CONCURRENT_HASHES = os.cpu_count() or 2
QUEUE_WAIT = 1.0
_hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)


@functools.lru_cache(maxsize=None)
def _give_hash_memory_back() -> None:
    """glibc serves a 16 MiB block from the heap once a block that large was freed (its mmap
    threshold rises to 32 MiB), and keeps it after free: after 64 logins a server stayed at
    155 MB. Pinning the threshold at 1 MiB makes each scrypt buffer its own mapping, returned to
    the system when the hash is done. Other C libraries: nothing to do."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass

DEMO_EMAIL = "a@b.com"
DEMO_PASSWORD = "123"
DEMO_USER_ID = 1


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    _give_hash_memory_back()
    if not _hashing.acquire(timeout=QUEUE_WAIT):
        raise Saturated(f"{CONCURRENT_HASHES} password checks are already running; try again in a moment")
    try:
        # surrogatepass: a lone surrogate from JSON ("\ud800") is still some bytes to hash,
        # never a crash (the login route refuses such text before it gets here).
        return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                              dklen=_DKLEN)
    finally:
        _hashing.release()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Return `scrypt$N$r$p$salt$hash`, the form stored instead of the password."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Recompute the hash with the stored salt and compare in constant time."""
    _, n, r, p, salt, digest = encoded.split("$")
    candidate = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, _unb64(digest))


@dataclass(frozen=True)
class User:
    email: str
    user_id: int
    password_hash: str


class UserDirectory:
    """Users by email. Unknown emails cost one scrypt too, so timing does not tell them apart."""

    def __init__(self, users: list[User]):
        self._by_email = {u.email: u for u in users}
        # Unknown emails are checked against a real user's hash (the answer is thrown away),
        # so they cost exactly one scrypt like a known email, without hashing a dummy at start.
        self._any_hash = users[0].password_hash if users else hash_password(secrets.token_urlsafe(16))

    def users(self) -> list[User]:
        return list(self._by_email.values())

    def check(self, email: str, password: str) -> User | None:
        user = self._by_email.get(email)
        ok = verify_password(password, user.password_hash if user else self._any_hash)
        return user if (user and ok) else None


@functools.lru_cache(maxsize=None)
def demo_users(user_id: int = DEMO_USER_ID) -> UserDirectory:
    """The handout's one user, hashed once per process (scrypt is deliberately slow).

    The handout's session example calls a@b.com user 1 and its JWT example 123; every demo,
    page, lab and `serve` uses 1, and demo jwt says so once.
    """
    return UserDirectory([User(DEMO_EMAIL, user_id, hash_password(DEMO_PASSWORD))])


ATTACKER_EMAIL = "eve@example.com"
ATTACKER_PASSWORD = "eve"
ATTACKER_USER_ID = 2


@functools.lru_cache(maxsize=None)
def lab_users() -> UserDirectory:
    """The attack lab's two accounts: the handout's user (the victim, user 1) and the attacker's own."""
    return UserDirectory([User(DEMO_EMAIL, DEMO_USER_ID, hash_password(DEMO_PASSWORD)),
                          User(ATTACKER_EMAIL, ATTACKER_USER_ID, hash_password(ATTACKER_PASSWORD))])
