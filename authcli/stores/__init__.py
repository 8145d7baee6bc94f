"""Session stores: one interface, facts that tell them apart, and where each kind comes from.

A new store is one module with FACTS, a store class and a `Source` class (see memory.py), plus
its line in SOURCES. Nothing outside this package branches on a store's name. The CLI reads
SOURCES at start-up, so this face imports no store: import a store's names from its module
(`from authcli.stores.base import StoreSnapshot`, `from authcli.stores.memory import MemoryStore`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, ContextManager, Protocol

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore, StoreFacts

# name -> module, the default first. Imported on use: redis-py is an optional extra.
SOURCES = {
    "memory": "authcli.stores.memory",
    "redis": "authcli.stores.redis",
    "sqlite": "authcli.stores.sqlite",
}
DEFAULT = next(iter(SOURCES))


class StoreSource(Protocol):
    """A context manager that finds (or starts) a backend; `make()` opens a store on it."""

    facts: StoreFacts
    note: str  # where it came from, for stderr ("" when there is nothing to say)

    def make(self, clock: Callable[[], float] = ..., namespace: str = "") -> SessionStore:
        """A store; `namespace` keeps a weak lab server's keys apart from a hardened one's."""
        ...


def facts(name: str) -> StoreFacts:
    return importlib.import_module(SOURCES[name]).FACTS


def shared() -> str:
    """The store servers on several machines share (the scaling demo's): the first at a URL."""
    return next(name for name in SOURCES if facts(name).takes_url)


def open_source(name: str, url: str | None = None) -> ContextManager[StoreSource]:
    """The source for store `name`: use it in a `with`, then `make()` stores from it."""
    return importlib.import_module(SOURCES[name]).Source(url)


__all__ = ["DEFAULT", "SOURCES", "StoreSource", "facts", "open_source", "shared"]
