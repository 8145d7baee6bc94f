"""The token in an HttpOnly cookie: login sets it, /profile reads it, logout clears it.

JwtAuth asks here whenever its policy names a cookie (demo jwt --cookie); everything else (the
pinned algorithm, exp required, every check) is the Bearer server's, unchanged.
"""

from __future__ import annotations

import json

from authcli.events import AuthorizationRefused, CookieCleared, Event, TokenCookieSet
from authcli.server.journal import Request, Response
from authcli.server.policy import CookiePolicy
from authcli.server.routes import NO_STORE, text
from authcli.server.schemes.cookies import clear_named_cookie, read_named_cookie, set_named_cookie

# RFC 6265bis 5.4 tells browsers to ignore a Set-Cookie whose name plus value is longer than
# this; Chromium 156 kept 4096 and dropped 4097 (tests/test_jwt_cookie_chromium.py). Attributes
# do not count. Other browsers are not measured here.
COOKIE_LIMIT = 4096


def login_answer(cookie: CookiePolicy, token: str, ttl: int, events: list[Event]) -> Response:
    """The token goes out only in Set-Cookie: the body names the cookie, never the token, so page
    script never holds it."""
    size = len(cookie.name) + len(token)  # name plus value: what the limit counts
    fits = size <= COOKIE_LIMIT
    said = (f"set as the {cookie.name} cookie ({cookie.attributes()}): {size} bytes of name and value, "
            + (f"within the {COOKIE_LIMIT} RFC 6265bis lets a browser keep" if fits else
               f"over the {COOKIE_LIMIT} RFC 6265bis lets a browser keep: Chromium drops this cookie"))
    events.append(TokenCookieSet(said, size=size, fits=fits))
    body = json.dumps({"token_type": "cookie", "cookie": cookie.name, "expires_in": ttl})
    return Response(200, body + "\n", [("Content-Type", "application/json"),
                                       ("Set-Cookie", set_named_cookie(token, cookie)), NO_STORE], events)


def token_from_cookie(cookie: CookiePolicy, request: Request) -> tuple[str | None, Response | None, list[Event]]:
    """The token from the one cookie the policy names; an Authorization header is not read."""
    events: list[Event] = []
    if request.header_values("Authorization"):
        events.append(AuthorizationRefused(f"Authorization header ignored: this server reads the token "
                                           f"only from its {cookie.name} cookie"))
    found = read_named_cookie(request.header_values("Cookie"), cookie.name)
    if found.session_id is None:
        events.append(AuthorizationRefused(f"{found.problem} -> 401"))
        return None, text(401, f"Not logged in: {found.problem}", events, [NO_STORE]), events
    return found.session_id, None, events


def logout_headers(cookie: CookiePolicy, events: list[Event]) -> list[tuple[str, str]]:
    events.append(CookieCleared(f"Set-Cookie {cookie.name} with Max-Age=0: the browser drops its copy; "
                                "a copy taken earlier still works until exp"))
    return [("Set-Cookie", clear_named_cookie(cookie))]
