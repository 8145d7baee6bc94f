"""Offline guessing of an HMAC secret from one token (hashcat's mode 16500, jwt_tool's -C).

One token is all it takes: header.payload is public, so each guess is one HMAC, compared with
the signature, with no contact with any server. A wordlist of secrets people really use ships
in authcli/data; a random 256-bit secret is not in any list, and 2**256 guesses never finish.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from authcli.errors import BadKey
from authcli.tokens.forge import HASHES
from authcli.tokens.parse import TokenParts
from authcli.tokens.wordlist import wordlist  # noqa: F401 - callers of crack() take it from here

PROGRESS_EVERY = 2048


@dataclass(frozen=True)
class CrackResult:
    """The secret if found, how many guesses were tried, how long it took, and whether the
    wordlist ran out (False: the time limit stopped it first)."""

    secret: bytes | None
    tried: int
    seconds: float
    exhausted: bool

    @property
    def rate(self) -> float:
        return self.tried / self.seconds if self.seconds > 0 else 0.0


def crack(parts: TokenParts, words: Iterable[bytes], *, max_seconds: float = 60.0,
          progress: Callable[[int], None] | None = None,
          clock: Callable[[], float] = time.perf_counter) -> CrackResult:
    alg = parts.header.get("alg")
    if alg not in HASHES:
        raise BadKey(f"only HMAC tokens (HS256, HS384, HS512) can be cracked offline; this one is {str(alg)[:20]}: "
                     "its signature needs a private key no guess can produce")
    digest = HASHES[alg]
    message = f"{parts.header_b64}.{parts.payload_b64}".encode("ascii")
    target = parts.signature
    start = clock()
    tried = 0
    for word in words:
        tried += 1
        if hmac.compare_digest(hmac.new(word, message, digest).digest(), target):
            return CrackResult(word, tried, clock() - start, False)
        if tried % PROGRESS_EVERY == 0:
            if progress is not None:
                progress(tried)
            if clock() - start > max_seconds:
                return CrackResult(None, tried, clock() - start, False)
    return CrackResult(None, tried, clock() - start, True)


def measure_rate(parts: TokenParts, seconds: float = 0.05,
                 clock: Callable[[], float] = time.perf_counter) -> float:
    """Guesses a second on this machine, measured on this token (a short wordlist finishes too
    fast to say)."""
    digest = HASHES[parts.header["alg"]]
    message = f"{parts.header_b64}.{parts.payload_b64}".encode("ascii")
    tried, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(256):
            hmac.compare_digest(hmac.new(b"guess-%d" % tried, message, digest).digest(), parts.signature)
            tried += 1
    return tried / (clock() - start)


def years_for_random(bits: int, rate: float) -> float:
    """Years to try half of 2**bits secrets at `rate` guesses a second."""
    return (2 ** (bits - 1)) / max(rate, 1.0) / (365.25 * 24 * 3600)
