"""Steps as plain text pieces (HTTP lines, table rows); the renderers add colour or Markdown."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from authcli.stores.base import StoreSnapshot
from authcli.tokens import Check, TokenView
from authcli.walkthroughs.model import CookieView, HttpRequest, HttpResponse

STORE_COLUMNS = ["key", "value", "time to live"]
CLAIM_COLUMNS = ["claim", "value", "as a date", "meaning"]
JAR_COLUMNS = ["cookie", "attributes (as the jar keeps them)"]


def request_lines(request: HttpRequest) -> list[str]:
    lines = [f"{request.method} {request.target} {request.http_version}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    if request.body:
        lines += ["", request.body]
    return lines


def response_lines(response: HttpResponse) -> list[str]:
    lines = [f"{response.http_version} {response.status} {response.reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if response.body:
        lines += ["", response.body.rstrip("\n")]
    return lines


def _count(n: int, noun: str) -> str:
    return "empty" if n == 0 else f"{n} {noun}{'s' if n != 1 else ''}"


def store_title(snapshot: StoreSnapshot) -> str:
    if snapshot.backend == "none":
        return "Server-side storage: none. The server keeps no record of logins or tokens."
    if snapshot.backend == "redis":
        return f"Redis, read back with SCAN, GET and PTTL: {_count(len(snapshot.rows), 'session key')}"
    return f"Session store ({snapshot.backend}, on the server): {_count(len(snapshot.rows), 'record')}"


def store_key(snapshot: StoreSnapshot, key: str) -> str:
    """The memory store is the handout's `sessionStore` object, so it is shown in its notation."""
    return f'sessionStore["{key}"]' if snapshot.backend == "memory" else key


def expires_in(ttl: float | None) -> str:
    return "no expiry" if ttl is None else f"expires in {math.ceil(ttl)} s"


def redis_cli_lines(snapshot: StoreSnapshot) -> list[str]:
    """What Redis holds, as redis-cli would show the commands that read it back."""
    lines = []
    for row in snapshot.rows:
        pttl = -1 if row.ttl is None else round(row.ttl * 1000)
        lines += [f"> GET {row.key}", f"'{json.dumps(row.value)}'", f"> PTTL {row.key}", f"(integer) {pttl}"]
    return lines


def store_rows(snapshot: StoreSnapshot) -> list[list[str]]:
    return [[store_key(snapshot, row.key), json.dumps(row.value), expires_in(row.ttl)]
            for row in snapshot.rows]


def _cookie_attributes(c: CookieView) -> str:
    attrs = [f"domain {c.domain}", f"path {c.path}"]
    attrs.append("HttpOnly" if c.http_only else "readable by JavaScript")
    attrs.append(f"SameSite={c.same_site}" if c.same_site else "no SameSite")
    attrs.append("Secure" if c.secure else "not Secure")
    attrs.append("kept until the browser closes" if c.expires is None
                 else f"expires {datetime.fromtimestamp(c.expires, timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    return ", ".join(attrs)


def jar_rows(jar: list[CookieView]) -> list[list[str]]:
    return [[f"{c.name}={c.value}", _cookie_attributes(c)] for c in jar]


def jar_title(jar: list[CookieView]) -> str:
    return f"Client cookie jar: {_count(len(jar), 'cookie')}"


def claim_rows(view: TokenView) -> list[list[str]]:
    return [[c.name, c.value, c.readable, c.meaning] for c in view.claims]


def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def signature_line(view: TokenView) -> str:
    if not view.signature_b64:
        return "(empty: 0 bytes, the token is unsigned)"
    return f"{view.signature_b64} ({view.signature_bytes} bytes)"


def check_line(check: Check) -> str:
    return f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}"
