"""What crossed the wire, as plain data (never printed here): requests, responses, records."""

from __future__ import annotations

from dataclasses import dataclass, field

from authcli.server.events import Event


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
    """One request, its answer's status and the server's events: the narration's raw material.

    `peer` is the client's (host, port): while a connection is open no other has the same,
    which is how the load balancer finds the record of the request it forwarded.
    """

    request: Request
    status: int
    events: list[Event]
    peer: tuple[str, int] | None = None
