"""Argon2id password hashes (argon2-cffi) and the demo user directory (a@b.com / 123)."""

from __future__ import annotations

import functools
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

from authcli.errors import Saturated

T = TypeVar("T")

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


class HashBound:
    """At most `slots` password hashes at once; the rest wait up to `wait` seconds for a turn,
    then fail with Saturated (a 503). Each server's scheme owns one, so two servers in one
    process (A and B behind the balancer, every test) never queue behind each other."""

    def __init__(self, slots: int = CONCURRENT_HASHES, wait: float = QUEUE_WAIT):
        self.slots, self.wait = slots, wait
        self._free = threading.BoundedSemaphore(slots)

    def run(self, work: Callable[[], T]) -> T:
        if not self._free.acquire(timeout=self.wait):
            raise Saturated(f"{self.slots} password checks are already running; try again in a moment")
        try:
            return work()
        finally:
            self._free.release()


def _unbounded(work: Callable[[], T]) -> T:
    return work()  # no server to share cores with: the users hashed once at start, a script


DEMO_EMAIL = "a@b.com"
DEMO_PASSWORD = "123"
DEMO_USER_ID = 1


def _secret(password: str) -> bytes:
    # surrogatepass: a lone surrogate from JSON ("\ud800") is still some bytes to hash,
    # never a crash (the login route refuses such text before it gets here).
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str, salt: bytes | None = None, bound: HashBound | None = None) -> str:
    """The PHC string stored instead of the password: `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`;
    under `bound` when a server is hashing it."""
    from argon2.low_level import Type, hash_secret

    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    run = bound.run if bound is not None else _unbounded
    return run(lambda: hash_secret(_secret(password), salt, time_cost=ARGON2_T, memory_cost=ARGON2_M,
                                        parallelism=ARGON2_P, hash_len=_HASH_BYTES, type=Type.ID)).decode("ascii")


def verify_password(password: str, encoded: str, bound: HashBound | None = None) -> bool:
    """Recompute the hash with the parameters and salt in the PHC string; argon2 compares in
    constant time. A server passes its `bound`."""
    from argon2.exceptions import VerificationError
    from argon2.low_level import Type, verify_secret

    run = bound.run if bound is not None else _unbounded
    try:
        return run(lambda: verify_secret(encoded.encode("ascii"), _secret(password), Type.ID))
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

    def has(self, email: str) -> bool:
        """Whether an account has this email: only the lab's enumerable login asks."""
        return email in self._by_email

    def check(self, email: str, password: str, bound: HashBound | None = None) -> User | None:
        """The user, if the password is theirs; the hash runs under the asking server's `bound`."""
        user = self._by_email.get(email)
        ok = verify_password(password, user.password_hash if user else self._any_hash, bound)
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
