"""What the OAuth endpoints share on the wire: parameters read once each, error answers, redirects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from authcli.events import Event
from authcli.server.journal import Request, Response
from authcli.server.routes import NO_STORE
from authcli.errors import OAuthError

MAX_PARAMS = 30
# RFC 6749 5.1 and 5.2: token answers, good or bad, are never cached.
TOKEN_HEADERS = [("Content-Type", "application/json"), NO_STORE, ("Pragma", "no-cache")]


def params(text: str) -> dict[str, str]:
    """Parameters of a query or form body; one sent twice, or an unnamed one, is invalid_request
    (RFC 6749 3.1, 3.2: parameters MUST NOT be included more than once)."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_PARAMS,
                          errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_request", f"parameters are not well-formed (or more than {MAX_PARAMS})") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise OAuthError("invalid_request", f"parameter {name[:40]!r} sent more than once")
        out[name] = value
    return out


def query(request: Request) -> dict[str, str]:
    return params(request.target.split("?", 1)[1] if "?" in request.target else "")


def form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (RFC 6749 4.1.3 and 6: the token endpoint's only format)."""
    kind = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body is not UTF-8") from None
    return params(text)


def json_error(err: OAuthError, events: list[Event], headers: list[tuple[str, str]] = ()) -> Response:
    body = json.dumps({"error": err.error, "error_description": err.description})
    extra = list(headers)
    if err.status == 401:  # RFC 6749 5.2: a failed Basic authentication gets its challenge
        extra.append(("WWW-Authenticate", 'Basic realm="authcli-oauth"'))
    return Response(err.status, body + "\n", TOKEN_HEADERS + extra, events)


def json_answer(status: int, body: Any, events: list[Event], headers: list[tuple[str, str]] = (),
                indent: int | None = None) -> Response:
    return Response(status, json.dumps(body, indent=indent) + "\n", [("Content-Type", "application/json"), *headers],
                    events)


def redirect(uri: str, values: dict[str, str], events: list[Event]) -> Response:
    """302 to the client's redirect URI with the answer in its query (RFC 6749 4.1.2), keeping a
    query the registered URI already has (3.1.2)."""
    join = "&" if "?" in uri else "?"
    location = uri + join + urlencode(values)
    return Response(302, "", [("Location", location), NO_STORE], events)
