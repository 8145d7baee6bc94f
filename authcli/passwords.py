"""Argon2id password hashes (argon2-cffi) and the demo user directory (a@b.com / 123)."""

from __future__ import annotations

import functools
import os
import secrets
import threading
from dataclasses import dataclass

from authcli.errors import Saturated

# OWASP's first choice for Argon2id: 19 MiB of memory, 2 passes, 1 lane. The memory is what
# makes each guess cost a graphics card as much as it costs the server; two passes over it
# make up for it being smaller than RFC 9106's 2 GiB default, which no login can afford.
ARGON2_M = 19 * 1024  # KiB
ARGON2_T = 2
ARGON2_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32

# Each Argon2id holds 19 MiB for tens of milliseconds. More at once than there are cores buys
# no throughput, only memory: 64 concurrent logins would hold 1.2 GB. Extra logins wait up to
# QUEUE_WAIT for a turn, then get 503 with Retry-After.
CONCURRENT_HASHES = os.cpu_count() or 2
QUEUE_WAIT = 1.0
_hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)


@functools.lru_cache(maxsize=None)
def _give_hash_memory_back() -> None:
    """glibc serves a large block from the heap once a block that large was freed (its mmap
    threshold rises up to 32 MiB), and keeps it after free: after 64 logins a server stayed at
    155 MB. Pinning the threshold at 1 MiB makes each hash's buffer its own mapping, returned to
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


def _bounded(work):
    """Run one hash when a core is free: at most CONCURRENT_HASHES at once, the rest wait."""
    _give_hash_memory_back()
    if not _hashing.acquire(timeout=QUEUE_WAIT):
        raise Saturated(f"{CONCURRENT_HASHES} password checks are already running; try again in a moment")
    try:
        return work()
    finally:
        _hashing.release()


def _secret(password: str) -> bytes:
    # surrogatepass: a lone surrogate from JSON ("\ud800") is still some bytes to hash,
    # never a crash (the login route refuses such text before it gets here).
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The PHC string stored instead of the password: `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`."""
    from argon2.low_level import Type, hash_secret

    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    return _bounded(lambda: hash_secret(_secret(password), salt, time_cost=ARGON2_T, memory_cost=ARGON2_M,
                                        parallelism=ARGON2_P, hash_len=_HASH_BYTES, type=Type.ID)).decode("ascii")


def verify_password(password: str, encoded: str) -> bool:
    """Recompute the hash with the parameters and salt in the PHC string; argon2 compares in
    constant time."""
    from argon2.exceptions import VerificationError
    from argon2.low_level import Type, verify_secret

    try:
        return _bounded(lambda: verify_secret(encoded.encode("ascii"), _secret(password), Type.ID))
    except VerificationError:
        return False


@dataclass(frozen=True)
class User:
    email: str
    user_id: int
    password_hash: str


class UserDirectory:
    """Users by email. Unknown emails cost one hash too, so timing does not tell them apart."""

    def __init__(self, users: list[User]):
        self._by_email = {u.email: u for u in users}
        # Unknown emails are checked against a real user's hash (the answer is thrown away),
        # so they cost exactly one hash like a known email, without hashing a dummy at start.
        self._any_hash = users[0].password_hash if users else hash_password(secrets.token_urlsafe(16))

    def users(self) -> list[User]:
        return list(self._by_email.values())

    def check(self, email: str, password: str) -> User | None:
        user = self._by_email.get(email)
        ok = verify_password(password, user.password_hash if user else self._any_hash)
        return user if (user and ok) else None


@functools.lru_cache(maxsize=None)
def demo_users(user_id: int = DEMO_USER_ID) -> UserDirectory:
    """The handout's one user, hashed once per process (Argon2id is deliberately slow).

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
