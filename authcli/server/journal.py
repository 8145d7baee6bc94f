"""What crossed the wire, as plain data (never printed here): requests, responses, the journal."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from authcli.server.events import Event


@dataclass
class Request:
    """A request exactly as the server received it (header order and duplicates kept)."""

    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    peer: tuple[str, int] | None = field(default=None, compare=False)  # the client's address, set by the loop

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
    """One request, its answer's status and the server's events: the narration's raw material.

    `peer` is the client's (host, port): while a connection is open no other has the same,
    which is how the load balancer finds the record of the request it forwarded.
    """

    request: Request
    status: int
    events: list[Event]
    peer: tuple[str, int] | None = None


class Journal:
    """The last requests a server answered, in order, shared by the workers that record them and
    the client or balancer that reads them back."""

    def __init__(self, size: int, on_record: Callable[[RequestRecord], None] | None = None):
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.recorded = 0
        self.observer_errors = 0
        self._on_record = on_record

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self.recorded += 1
        if self._on_record is not None:
            try:
                self._on_record(record)
            except Exception:  # an observer's failure must never cost the client its answer
                self.observer_errors += 1

    def since(self, mark: int) -> list[RequestRecord]:
        with self._lock:
            count = min(self.recorded - mark, len(self._records))
            return list(self._records)[len(self._records) - count:] if count > 0 else []

    def from_peer(self, peer: tuple[str, int]) -> RequestRecord | None:
        with self._lock:
            return next((r for r in reversed(self._records) if r.peer == peer), None)
