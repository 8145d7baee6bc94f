"""The one process-wide setting `authcli serve` makes: how glibc hands freed memory back."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])


def give_hash_memory_back() -> None:
    """glibc serves a large block from the heap once a block that large was freed (its mmap
    threshold rises up to 32 MiB), and keeps it after free: after 64 logins a server stayed at
    155 MB. Pinning the threshold at 1 MiB makes each Argon2id buffer (19 MiB) its own mapping,
    returned to the system when the hash is done. Other C libraries: nothing to do.

    It changes the allocator of the whole process, so only `serve`'s entry point calls it,
    once: a library module must not, and a demo or a test run exits before memory matters."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def gives_hash_memory_back(command: F) -> F:
    """`command` (serve) with give_hash_memory_back() first: before the users' hashes at start,
    or the first 19 MiB block freed would already have raised glibc's threshold."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        give_hash_memory_back()
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
