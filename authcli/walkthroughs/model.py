"""The plain data a walkthrough yields: steps holding real exchanges, store snapshots, cookie jars."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from authcli.server.journal import Event
from authcli.stores.base import StoreSnapshot
from authcli.tokens import Check, TokenView


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Exchange:
    """One request as the server received it, the response as the client received it,
    and what the server did in between."""

    request: HttpRequest
    response: HttpResponse
    server: list[Event]


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


@dataclass(frozen=True)
class Note:
    """A term and its explanation, e.g. a cookie flag and what it protects against."""

    term: str
    text: str


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ServerView:
    """One server of several: its name, where it listens (None: stopped), and what it stores."""

    name: str
    url: str | None
    store: StoreSnapshot | None


@dataclass
class Step:
    """One narrated step. Only `title` and `text` are always set; the rest is what the step shows."""

    number: int | None
    title: str
    text: list[str]
    exchange: Exchange | None = None
    store: StoreSnapshot | None = None
    cookie_jar: list[CookieView] | None = None
    notes: list[Note] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    token: TokenView | None = None
    checks: list[Check] | None = None
    warnings: list[str] = field(default_factory=list)
    servers: list[ServerView] | None = None
    wait: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.exchange is not None:
            # Top-level request/response keep the JSON easy to query: .steps[].response.status
            data["request"] = data["exchange"]["request"]
            data["response"] = data["exchange"]["response"]
            data["server"] = data["exchange"]["server"]
            data["served_by"] = self.exchange.response.header("X-Served-By")
        data.pop("exchange")
        return data


@dataclass(frozen=True)
class WalkthroughInfo:
    name: str
    title: str
