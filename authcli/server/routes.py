"""Routing, and what every auth scheme shares: the login body, plain-text answers, no-store."""

from __future__ import annotations

import json
from typing import Callable
from urllib.parse import parse_qs

from authcli.errors import HttpError
from authcli.server.events import Event, Refused
from authcli.server.journal import Request, Response

Route = Callable[[Request], Response]
MAX_FIELD = 256  # longer emails or passwords are refused before any hashing work
# On every response that carries a session ID or a token: no cache may keep a copy.
NO_STORE = ("Cache-Control", "no-store")


def text(status: int, body: str, events: list[Event], headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, body + "\n", list(headers or []), events)


class Router:
    """Maps path and method to a route; unknown paths get 404 and wrong methods 405 with Allow."""

    def __init__(self, table: dict[str, dict[str, Route]], index: str):
        self._table = table
        self._index = index

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/" and request.method == "GET":
            return Response(200, self._index, [("Content-Type", "text/html; charset=utf-8")])
        methods = self._table.get(path)
        if methods is None:
            return text(404, "Not found. Routes: " + self.summary(), [])
        route = methods.get(request.method)
        if route is None:
            allow = ", ".join(methods)
            return text(405, f"Method not allowed: {path} takes {allow}", [], [("Allow", allow)])
        try:
            return route(request)
        except HttpError as err:
            return text(err.status, err.message, [Refused(err.message)])

    def summary(self) -> str:
        return ", ".join(f"{m} {p}" for p, ms in self._table.items() for m in ms)


def read_credentials(request: Request) -> tuple[str, str]:
    """`{"email", "password"}` as JSON (or an HTML form's urlencoded body), else HttpError 400."""
    content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
    usage = 'send JSON like {"email": "a@b.com", "password": "123"}'
    if not request.body:
        raise HttpError(400, f"Empty body: {usage}")
    try:
        raw = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, f"Body is not UTF-8: {usage}") from None
    # `curl -d '{...}'` labels JSON as a form; a body that opens with `{` is read as JSON.
    if content_type == "application/x-www-form-urlencoded" and not raw.lstrip().startswith("{"):
        try:
            form = parse_qs(raw, strict_parsing=True, max_num_fields=10)
        except ValueError:
            raise HttpError(400, f"Malformed form body: {usage}") from None
        data: object = {k: v[0] for k, v in form.items() if len(v) == 1}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise HttpError(400, f"Body is not JSON: {usage}") from None
    if not isinstance(data, dict):
        raise HttpError(400, f"Body must be a JSON object: {usage}")
    missing = [f for f in ("email", "password") if f not in data]
    if missing:
        raise HttpError(400, f"Missing field {', '.join(missing)}: {usage}")
    email, password = data["email"], data["password"]
    if not isinstance(email, str) or not isinstance(password, str):
        raise HttpError(400, "email and password must both be strings")
    if len(email) > MAX_FIELD or len(password) > MAX_FIELD:
        raise HttpError(400, f"email and password are limited to {MAX_FIELD} characters")
    return email, password
