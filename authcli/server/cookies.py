"""Reading the session cookie from `Cookie` headers under one fixed rule, and writing `Set-Cookie`."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

COOKIE_NAME = "sessionId"
SESSION_ID_BYTES = 32  # 256 bits from `secrets`; OWASP asks for at least 64 bits of entropy
SESSION_ID_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# Secure is left off because the demo speaks plain http:// (see `cookie_flag_notes`).
COOKIE_ATTRIBUTES = "Path=/; HttpOnly; SameSite=Lax"


def new_session_id() -> str:
    """A fresh random ID that means nothing by itself: the data lives in the store."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def set_cookie(session_id: str) -> str:
    return f"{COOKIE_NAME}={session_id}; {COOKIE_ATTRIBUTES}"


def clear_cookie() -> str:
    return f"{COOKIE_NAME}=; Max-Age=0; {COOKIE_ATTRIBUTES}"


@dataclass(frozen=True)
class CookieLookup:
    """The session ID a request carried, or why none could be taken from it."""

    session_id: str | None
    problem: str | None


def _values(cookie_headers: list[str], name: str) -> list[str]:
    values = []
    for header in cookie_headers:
        for pair in header.split(";"):
            key, sep, value = pair.partition("=")
            if sep and key.strip() == name:
                values.append(value.strip())
    return values


def read_cookie(cookie_headers: list[str], name: str) -> str | None:
    """The one value of cookie `name`, or None when absent or ambiguous."""
    values = _values(cookie_headers, name)
    return values[0] if len(values) == 1 else None


def read_session_cookie(cookie_headers: list[str]) -> CookieLookup:
    """Split on `;` as browsers do (RFC 6265 5.4); exactly one well-formed sessionId or nothing.

    Quotes do not span pairs, so `a="x; sessionId=ID` carries ID. Two sessionId pairs are
    refused rather than guessing which one the user meant.
    """
    values = _values(cookie_headers, COOKIE_NAME)
    if not values:
        return CookieLookup(None, f"no {COOKIE_NAME} cookie")
    if len(values) > 1:
        return CookieLookup(None, f"{len(values)} {COOKIE_NAME} cookies: ambiguous, none is used")
    value = values[0]
    if not SESSION_ID_RE.fullmatch(value):
        shown = repr(value) if len(value) <= 20 and value.isprintable() else f"{len(value)} characters"
        return CookieLookup(None, f"malformed {COOKIE_NAME} ({shown}): not an ID this server issues")
    return CookieLookup(value, None)
