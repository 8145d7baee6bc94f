"""Reading the session cookie from `Cookie` headers under one fixed rule, and writing `Set-Cookie`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from authcli.server.policy import HARDENED_SESSIONS, CookiePolicy, SessionPolicy

COOKIE_NAME = HARDENED_SESSIONS.cookie.name
SESSION_ID_BYTES = HARDENED_SESSIONS.id_bytes


def new_session_id(policy: SessionPolicy = HARDENED_SESSIONS) -> str:
    """A fresh random ID that means nothing by itself: the data lives in the store."""
    return secrets.token_urlsafe(policy.id_bytes)


def set_cookie(session_id: str, policy: SessionPolicy = HARDENED_SESSIONS, max_age: int | None = None) -> str:
    age = f"Max-Age={max_age}; " if max_age is not None else ""
    return f"{policy.cookie.name}={session_id}; {age}{policy.cookie.attributes()}"


def clear_cookie(policy: SessionPolicy = HARDENED_SESSIONS) -> str:
    return f"{policy.cookie.name}=; Max-Age=0; {policy.cookie.attributes()}"


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


def read_session_cookie(cookie_headers: list[str], policy: SessionPolicy = HARDENED_SESSIONS) -> CookieLookup:
    """Split on `;` as browsers do (RFC 6265 5.4); exactly one well-formed session ID or nothing.

    Quotes do not span pairs, so `a="x; sessionId=ID` carries ID. Two sessionId pairs are
    refused rather than guessing which one the user meant.
    """
    name = policy.cookie.name
    values = _values(cookie_headers, name)
    if not values:
        return CookieLookup(None, f"no {name} cookie")
    if len(values) > 1:
        return CookieLookup(None, f"{len(values)} {name} cookies: ambiguous, none is used")
    return check_session_id(values[0], policy)


def check_session_id(value: str, policy: SessionPolicy = HARDENED_SESSIONS) -> CookieLookup:
    """Only IDs of the shape this server issues reach the store."""
    if not policy.id_pattern.fullmatch(value):
        shown = repr(value) if len(value) <= 20 and value.isprintable() else f"{len(value)} characters"
        return CookieLookup(None, f"malformed {policy.cookie.name} ({shown}): not an ID this server issues")
    return CookieLookup(value, None)


# --- any cookie a policy names (the JWT-in-a-cookie server's token cookie) ----------------------

def set_named_cookie(value: str, cookie: CookiePolicy, max_age: int | None = None) -> str:
    age = f"Max-Age={max_age}; " if max_age is not None else ""
    return f"{cookie.name}={value}; {age}{cookie.attributes()}"


def clear_named_cookie(cookie: CookiePolicy) -> str:
    return f"{cookie.name}=; Max-Age=0; {cookie.attributes()}"


def read_named_cookie(cookie_headers: list[str], name: str) -> CookieLookup:
    """The one value of cookie `name` (as read_session_cookie splits, without its ID shape check)."""
    values = _values(cookie_headers, name)
    if not values:
        return CookieLookup(None, f"no {name} cookie")
    if len(values) > 1:
        return CookieLookup(None, f"{len(values)} {name} cookies: ambiguous, none is used")
    if not values[0]:
        return CookieLookup(None, f"an empty {name} cookie")
    return CookieLookup(values[0], None)
