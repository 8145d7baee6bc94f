"""What crossed the wire, as plain data (never printed here): requests, responses, the journal."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

from authcli.events import Event

# The header a client sends so that a server behind a balancer can be asked for its record of
# that very request (HAProxy passes it through untouched).
REQUEST_ID = "X-Request-ID"

# What the journal keeps of one request: a value (target, header name or value, body) longer
# than VALUE_KEPT is cut, saying how many bytes were; the longest credential authcli itself sends
# (an RS256 token, ~600 characters) stays whole. A request keeps RECORD_KEPT bytes in all, so a
# 32 KiB head of 10 KB values costs the journal 8 KiB, and JOURNAL_KEPT bounds every record
# together: the oldest go first, whatever their number.
VALUE_KEPT = 2048
RECORD_KEPT = 8 * 1024
JOURNAL_KEPT = 4 * 1024 * 1024


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
    # Server-Sent Events: a transport Stream; the body is the first events, the connection
    # then stays open and the loop writes what is published on its channel (transport/stream.py).
    stream: Any = None


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


def _cut(value, room: int):
    """`value` (text or bytes) if it fits in `room`, else its start and how many bytes were cut."""
    if len(value) <= room:
        return value
    note = f"... ({len(value) - room} bytes cut)"
    return value[:room] + (note.encode() if isinstance(value, bytes) else note)


def kept(request: Request) -> tuple[Request, int]:
    """The request as the journal keeps it (long values cut), and what it costs in bytes."""
    size = len(request.target) + len(request.body) + sum(len(n) + len(v) for n, v in request.headers)
    if size <= VALUE_KEPT:  # nearly every request: kept as it came
        return request, size
    room = RECORD_KEPT
    target = _cut(request.target, min(VALUE_KEPT, room))
    room -= len(target)
    headers = []
    for name, value in request.headers:
        name = _cut(name, max(0, min(VALUE_KEPT, room)))
        value = _cut(value, max(0, min(VALUE_KEPT, room - len(name))))
        room -= len(name) + len(value)
        headers.append((name, value))
    body = _cut(request.body, max(0, min(VALUE_KEPT, room)))
    trimmed = replace(request, target=target, headers=headers, body=body)
    return trimmed, len(target) + len(body) + sum(len(n) + len(v) for n, v in headers)


class Journal:
    """The last requests a server answered, in order, shared by the workers that record them and
    the client or balancer that reads them back."""

    def __init__(self, size: int, on_record: Callable[[RequestRecord], None] | None = None,
                 kept_bytes: int = JOURNAL_KEPT):
        self._size = size
        self._kept_bytes = kept_bytes
        self._records: deque[RequestRecord] = deque()
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.recorded = 0
        self.observer_errors = 0
        self._on_record = on_record

    def record(self, record: RequestRecord) -> None:
        request, size = kept(record.request)
        if request is not record.request:
            record = replace(record, request=request)
        size += sum(len(event.message) for event in record.events)
        with self._lock:
            self._records.append(record)
            self._sizes.append(size)
            self._bytes += size
            self.recorded += 1
            while len(self._records) > self._size or (self._bytes > self._kept_bytes and len(self._records) > 1):
                self._records.popleft()
                self._bytes -= self._sizes.popleft()
        if self._on_record is not None:
            try:
                self._on_record(record)
            except Exception:  # an observer's failure must never cost the client its answer
                self.observer_errors += 1

    def since(self, mark: int) -> list[RequestRecord]:
        return self.page(mark)[0]

    def page(self, mark: int) -> tuple[list[RequestRecord], int]:
        """The records after `mark` still kept, and the position after the last of them."""
        with self._lock:
            count = min(self.recorded - mark, len(self._records))
            records = list(self._records)[len(self._records) - count:] if count > 0 else []
            return records, self.recorded

    def from_peer(self, peer: tuple[str, int]) -> RequestRecord | None:
        with self._lock:
            return next((r for r in reversed(self._records) if r.peer == peer), None)

    def with_id(self, request_id: str) -> list[RequestRecord]:
        """The records of requests that carried this X-Request-ID."""
        with self._lock:
            return [r for r in self._records if request_id in r.request.header_values(REQUEST_ID)]


@dataclass(frozen=True)
class Ticket:
    """What a client adds to one request (`headers`) so that the server's record of it can be
    found afterwards; `mark` is a position in one server's own journal."""

    headers: dict[str, str] = field(default_factory=dict)
    mark: int = 0


class Recorder(Protocol):
    """Where a client sends its requests, and how it learns what the server recorded of each:
    `ticket()` before a request, `recorded(ticket)` after it. An in-process server answers from
    its journal's position; servers behind a balancer by the request ID the client sent."""

    @property
    def url(self) -> str: ...

    def ticket(self) -> Ticket: ...

    def recorded(self, ticket: Ticket) -> list[RequestRecord]: ...


class Behind:
    """Servers behind a load balancer (HAProxy): the client talks to the balancer's `url` with a
    fresh request ID, and finds the request in whichever server's journal holds that ID. The
    servers' events are named after the server that did them ("A: ...")."""

    def __init__(self, url: str, journals: Callable[[], dict[str, Journal]]):
        self._url = url
        self._journals = journals  # asked each time: a restarted server has a new journal

    @property
    def url(self) -> str:
        return self._url

    def ticket(self) -> Ticket:
        return Ticket({REQUEST_ID: secrets.token_hex(8)})

    def recorded(self, ticket: Ticket) -> list[RequestRecord]:
        request_id = ticket.headers[REQUEST_ID]
        return [replace(r, events=[replace(e, message=f"{name}: {e.message}", backend=name) for e in r.events])
                for name, journal in self._journals().items() for r in journal.with_id(request_id)]
