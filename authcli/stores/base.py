"""The session-store interface every backend implements, and its plain-data snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StoreRow:
    """One record as the store holds it: its key, its JSON value, seconds left to live."""

    key: str
    session_id: str
    value: dict[str, Any]
    ttl: float | None


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything the store holds at one moment, read back from the store itself."""

    backend: str
    rows: list[StoreRow] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [row.session_id for row in self.rows]

    def get(self, session_id: str) -> StoreRow | None:
        return next((r for r in self.rows if r.session_id == session_id), None)


class SessionStore(Protocol):
    """Session ID -> JSON record with a time to live. Expired records are gone for every method."""

    backend: str

    def key(self, session_id: str) -> str:
        """The name this store files the record under (e.g. `session:<id>` in Redis)."""
        ...

    def create(self, session_id: str, record: dict[str, Any], ttl: int) -> None:
        """Store a new record that expires `ttl` seconds from now."""
        ...

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The live record for this ID, or None when unknown or expired. Never writes."""
        ...

    def delete(self, session_id: str) -> bool:
        """Remove the record; True when there was one."""
        ...

    def snapshot(self) -> StoreSnapshot:
        """Every live record, for display."""
        ...

    def describe(self, op: str, session_id: str, result: Any = None, ttl: int | None = None) -> str:
        """One line saying what a `write`, `read` or `delete` did, in the backend's own notation."""
        ...

    def close(self) -> None:
        """Release connections or threads the store holds."""
        ...
