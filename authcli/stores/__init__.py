"""Session stores: one interface, an in-memory implementation, and (next) Redis."""

from authcli.stores.base import SessionStore, StoreRow, StoreSnapshot
from authcli.stores.memory import MemoryStore

__all__ = ["MemoryStore", "SessionStore", "StoreRow", "StoreSnapshot"]
