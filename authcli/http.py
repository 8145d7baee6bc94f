"""The HTTP data model below everyone: a request, a response, the exchange, a cookie as kept.

The client fills these from real traffic; walkthroughs put them in steps; renderers show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from authcli.errors import WalkthroughError

if TYPE_CHECKING:
    from authcli.events import Event

E = TypeVar("E", bound="Event")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in headers if k.lower() == lname), None)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: str
    ca: str | None = None  # over HTTPS, the CA file the client verified the server with

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True)
class Exchange:
    """One request as the server received it, the response as the client received it,
    and what the server did in between."""

    request: HttpRequest
    response: HttpResponse
    server: list[Event]

    def events(self, kind: type[E]) -> list[E]:
        return [e for e in self.server if isinstance(e, kind)]

    def event(self, kind: type[E]) -> E:
        """The server's first event of this type; its absence stops the story, clearly."""
        found = self.events(kind)
        if not found:
            raise WalkthroughError(f"{self.request.method} {self.request.target}: the server recorded "
                                   f"no {kind.__name__} event ({self.response.status})")
        return found[0]

    def last(self, *skip: type[Event]) -> Event | None:
        """The server's last event, leaving out the kinds in `skip`: what decided the answer."""
        return next((e for e in reversed(self.server) if not isinstance(e, skip)), None)


@dataclass(frozen=True)
class CookieView:
    """One cookie in the client's jar, with the attributes the server set on it."""

    name: str
    value: str
    domain: str
    path: str
    secure: bool
    http_only: bool
    same_site: str | None
    expires: int | None
