"""What a step's try-it line gets if it is run now: the server answers by its state now, not
by the state the screen shows, so the pause says which, and why, from the step's own data."""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from authcli.clock import local_hms
from authcli.http import Exchange
from authcli.events import (
    RefreshChecked, SessionCreated, SessionDeleted, SessionLookedUp, TokenChecked, TokenLogout, TokenSigned,
)
from authcli.server.schemes.session_auth import stamp_seconds


@dataclass(frozen=True)
class Outlook:
    """One sentence on what the replay gets now; `offer` False: no line to try (it cannot
    work, or running it would change what the next steps show)."""

    text: str
    offer: bool = True


def listening(url: str, timeout: float = 1.0) -> bool:
    """Whether anything listens where the request went (a restarted server listens on a new
    port: the old one is gone). Only a refused connection says no: a slow answer on a busy
    machine is still a server."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return True


def _deadline(exchange: Exchange) -> tuple[float | None, str, bool, float]:
    """When the credential the request carried stops working by time alone, what it is,
    whether each use moves that time (an idle timeout), and how much later than the stated
    time the end may really come: a record's `...:09Z` names a whole second, and the store
    keeps the session until its exact lifetime runs out, somewhere in that second."""
    for event in exchange.events(SessionLookedUp):
        record = event.record or {}
        stamp = record.get("expiresAt")
        ends = stamp_seconds(stamp)
        if event.found and ends is not None:
            return ends, "the session it sends", "lastSeenAt" in record, 0.001 if "." in str(stamp) else 1.0
    for event in exchange.events(TokenChecked):
        exp = (event.payload or {}).get("exp")
        if event.checks and not event.failed and isinstance(exp, (int, float)) and math.isfinite(exp):
            return float(exp), "the token it sends", False, 0.0
    return None, "", False, 0.0


def outlook(exchange: Exchange, now: float, up: bool | None = None) -> Outlook:
    """What replaying `exchange` gets at `now`; `up`: whether its server still listens
    (None: find out)."""
    if not (listening(exchange.request.url) if up is None else up):
        return Outlook("The server that answered has stopped since: this line would get no answer.", False)
    status = exchange.response.status
    if status >= 300:
        return Outlook(f"Replayed now it gets {status} again; try it:")
    if any(e.outcome == "rotated" for e in exchange.events(RefreshChecked)):
        return Outlook("A refresh token works once and this one has been used: this line now gets 401; "
                       "try it:")
    ends, what, slides, blur = _deadline(exchange)
    if ends is None:
        if exchange.events(SessionCreated) or exchange.events(TokenSigned):
            made = "token" if exchange.events(TokenSigned) else "session ID"
            return Outlook(f"Replayed now it gets {status} again, with a new {made}; try it:")
        if any(e.deleted for e in exchange.events(SessionDeleted)):
            return Outlook(f"Replayed now it gets {status} again, with no record left to delete; try it:")
        if exchange.events(TokenLogout):
            return Outlook(f"Replayed now it gets {status} again: there is nothing on the server to delete; try it:")
        return Outlook("The server answers by its state now; try it:")
    if now >= ends + blur:
        return Outlook(f"This line now gets 401: {what} expired at {local_hms(ends)}; try it:")
    if now >= ends:
        return Outlook(f"This line may get 200 or 401 right now: {what} expires during {local_hms(ends)}; "
                       "try it in a second:")
    if slides:
        return Outlook(f"{what[0].upper()}{what[1:]} lives until {local_hms(ends)} at most. No line to try: "
                       "each request slides its idle deadline, so a replay would change the next steps.", False)
    return Outlook(f"This line gets {status} until {local_hms(ends)}, when {what} expires "
                   f"({math.ceil(ends - now)} s from now); try it:")
