"""Routing, and what every auth scheme shares: the login body, plain-text answers, no-store."""

from __future__ import annotations

import json
from typing import Callable
from urllib.parse import urlsplit

from authcli.encoding import is_text
from authcli.errors import HttpError
from authcli.events import Event, Refused
from authcli.server.journal import Request, Response

Route = Callable[[Request], Response]
MAX_FIELD = 256  # longer emails or passwords are refused before any hashing work
# On every response that carries a session ID or a token: no cache may keep a copy.
NO_STORE = ("Cache-Control", "no-store")
# HTML pages load their script from files, never inline, and may not be framed (clickjacking).
CSP = ("Content-Security-Policy",
       "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def text(status: int, body: str, events: list[Event], headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, body + "\n", list(headers or []), events)


def page(name: str) -> str:
    """A file shipped in authcli/web (HTML, CSS, JavaScript: no build step, no CDN)."""
    from importlib.resources import files

    return files("authcli.web").joinpath(name).read_text(encoding="utf-8")


STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class Router:
    """Maps path and method to a route; unknown paths get 404 and wrong methods 405 with Allow.

    `/` is the index page; `static` maps paths to files in authcli/web, read once at start.
    """

    def __init__(self, table: dict[str, dict[str, Route]], index: str, static: dict[str, str] | None = None,
                 slow: frozenset[str] = frozenset({"/login"})):
        self._table = table
        self._slow = slow
        self._index = index
        self._static = {path: (page(name), STATIC_TYPES[name[name.rindex("."):]])
                        for path, name in (static or {}).items()}

    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method in ("GET", "HEAD") and (path == "/" or path in self._static):
            body, kind = (self._index, "text/html; charset=utf-8") if path == "/" else self._static[path]
            return Response(200, body, [("Content-Type", kind), CSP])
        if path == "/favicon.ico":  # asked for by every browser page view: no 404 line each time
            return Response(204, "", [("Cache-Control", "max-age=86400")])
        methods = self._table.get(path)
        if methods is None:
            return text(404, "Not found. Routes: " + self.summary(), [Refused("no such route -> 404")])
        route = methods.get(request.method)
        if route is None:
            allow = ", ".join(methods)
            return text(405, f"Method not allowed: {path} takes {allow}",
                        [Refused(f"{path} takes {allow} -> 405")], [("Allow", allow)])
        try:
            return route(request)
        except HttpError as err:
            return text(err.status, err.message, [Refused(err.message)])

    def slow(self, request: Request) -> bool:
        """Routes that may take long (a login checks a password with Argon2id: tens of ms)."""
        return request.path in self._slow

    def summary(self) -> str:
        return ", ".join(f"{m} {p}" for p, ms in self._table.items() for m in ms)


def refuse_cross_site(request: Request) -> None:
    """State-changing routes answer only their own origin (OWASP login CSRF). Browsers send
    Origin and Sec-Fetch-Site on a cross-site POST; curl and requests send neither and are not
    browsers, so they are served."""
    host = ",".join(request.header_values("Host"))
    for origin in request.header_values("Origin"):
        parts = urlsplit(origin)
        if origin == "null" or parts.scheme not in ("http", "https") or parts.netloc != host:
            raise HttpError(403, f"Cross-origin request refused: Origin {origin[:100]} is not this "
                                 f"server (Host: {host[:100]})")
    for site in request.header_values("Sec-Fetch-Site"):
        if site.strip().lower() not in ("same-origin", "none"):
            raise HttpError(403, f"Cross-origin request refused: Sec-Fetch-Site: {site[:40]}")


def read_credentials(request: Request, types: tuple[str, ...] = ("application/json",)) -> tuple[str, str]:
    """`{"email", "password"}` as a JSON body, else HttpError 4xx with the reason.

    JSON only: an HTML form can post urlencoded or text/plain bodies to any site, JSON with
    its content type it cannot (that needs a CORS preflight this server never grants). `types`
    other than that are the attack lab's login-CSRF mistake: a text/plain body read as JSON.
    """
    content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
    usage = ('send JSON like {"email": "a@b.com", "password": "123"} with '
             "Content-Type: application/json")
    if not request.body:
        raise HttpError(400, f"Empty body: {usage}")
    if content_type not in types:
        raise HttpError(415, f"Unsupported Content-Type {content_type[:60] or '(none)'}: {usage}")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HttpError(400, f"Body is not UTF-8: {usage}") from None
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
    if not is_text([email, password]):
        raise HttpError(400, "email and password must be Unicode text (an escaped lone surrogate is not)")
    if len(email) > MAX_FIELD or len(password) > MAX_FIELD:
        raise HttpError(400, f"email and password are limited to {MAX_FIELD} characters")
    return email, password
