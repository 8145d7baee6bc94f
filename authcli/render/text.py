"""Steps as plain text pieces (HTTP lines, table rows); the renderers add colour or Markdown."""

from __future__ import annotations

import json
import math

from authcli.http import CookieView, HttpRequest, HttpResponse
from authcli.render.escape import json_text, printable  # noqa: F401 (re-exported)
from authcli.stores.base import StoreSnapshot, count_phrase
from authcli.timefmt import iso
from authcli.tokens import Check, TokenView

STORE_COLUMNS = ["key", "value", "time to live"]
CLAIM_COLUMNS = ["claim", "value", "as a date", "meaning"]
JAR_COLUMNS = ["cookie", "attributes (as the jar keeps them)"]


def request_lines(request: HttpRequest) -> list[str]:
    lines = [printable(f"{request.method} {request.target} {request.http_version}")]
    lines += [printable(f"{name}: {value}") for name, value in request.headers]
    if request.body:
        lines += ["", printable(request.body, newlines=True)]
    return lines


def response_lines(response: HttpResponse) -> list[str]:
    lines = [printable(f"{response.http_version} {response.status} {response.reason}")]
    lines += [printable(f"{name}: {value}") for name, value in response.headers]
    if response.body:
        lines += ["", printable(response.body.rstrip("\n"), newlines=True)]
    return lines


def expires_in(ttl: float | None) -> str:
    return "no expiry" if ttl is None else f"expires in {math.ceil(ttl)} s"


def store_rows(snapshot: StoreSnapshot) -> list[list[str]]:
    """Each record as [key in the store's own notation, JSON value, time to live]."""
    return [[printable(label), printable(json.dumps(row.value)), expires_in(row.ttl)]
            for label, row in zip(snapshot.labels(), snapshot.rows)]


def store_transcript(snapshot: StoreSnapshot) -> list[str] | None:
    lines = snapshot.transcript()
    return None if lines is None else [printable(line) for line in lines]


def _cookie_attributes(c: CookieView) -> str:
    attrs = [f"domain {c.domain}", f"path {c.path}"]
    attrs.append("HttpOnly" if c.http_only else "readable by JavaScript")
    attrs.append(f"SameSite={c.same_site}" if c.same_site else "no SameSite")
    attrs.append("Secure" if c.secure else "not Secure")
    attrs.append("kept until the browser closes" if c.expires is None
                 else f"expires {iso(c.expires)}")
    return ", ".join(attrs)


def jar_rows(jar: list[CookieView]) -> list[list[str]]:
    return [[printable(f"{c.name}={c.value}"), printable(_cookie_attributes(c))] for c in jar]


def jar_title(jar: list[CookieView]) -> str:
    return f"Client cookie jar: {count_phrase(len(jar), 'cookie')}"


def claim_rows(view: TokenView) -> list[list[str]]:
    return [[c.name, printable(c.value), printable(c.readable), c.meaning] for c in view.claims]


def pretty_json(value: object) -> str:
    return printable(json.dumps(value, indent=2, ensure_ascii=False), newlines=True)


def signature_line(view: TokenView) -> str:
    if not view.signature_b64:
        return "(empty: 0 bytes, the token is unsigned)"
    return f"{view.signature_b64} ({view.signature_bytes} bytes)"


def check_line(check: Check) -> str:
    return printable(f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}")
