"""What crossed the wire and what the server decided, as plain data (never printed here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing the server did while answering: a credential check, a store read, a verdict."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    """A request exactly as the server received it (header order and duplicates kept)."""

    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header_values(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]


@dataclass
class Response:
    """What a route answers; the HTTP layer adds Date, Server and Content-Length."""

    status: int
    body: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    close: bool = False


@dataclass(frozen=True)
class RequestRecord:
    """One request, its answer's status and the server's events: the narration's raw material."""

    request: Request
    status: int
    events: list[Event]
