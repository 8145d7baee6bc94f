"""Failed logins counted per account+address and per address, in a fixed window, bounded.

OWASP's Authentication cheat sheet asks for a limit on failed attempts that an attacker cannot
turn into a lockout of the real user; ASVS 2.2.1 the same. So the account's counter is keyed
on account AND address: failures from the attacker's address never stop the real user
logging in from theirs, and from the same address the wait is one short window. A second
counter per address stops one address spraying many accounts. Successful logins never need
an entry, so a full table refuses only a new failing key (503), never a known user's login
that passes; entries expire with their window.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from authcli.events import CredentialsChecked
from authcli.server.journal import Request, Response
from authcli.server.policy import LoginLimits
from authcli.server.routes import NO_STORE, text
from authcli.server.transport.limits import address_key


class LoginThrottle:
    """`blocked(email, address)`: seconds to wait (a 429's Retry-After), or 0; `failed` counts one."""

    def __init__(self, limits: LoginLimits, clock: Callable[[], float]):
        self.limits, self.clock = limits, clock
        self._seen: OrderedDict[tuple[str, ...], tuple[float, int]] = OrderedDict()  # key: (start, count)
        self._lock = threading.Lock()  # logins hash on worker threads

    @staticmethod
    def _keys(email: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("account", email.strip().lower(), address), ("address", address)

    def _live(self, key: tuple[str, ...], now: float) -> tuple[float, int] | None:
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] >= self.limits.window:
            del self._seen[key]
            return None
        return entry

    def blocked(self, email: str, address: str) -> int:
        with self._lock:
            return self._blocked(email, address)

    def _blocked(self, email: str, address: str) -> int:
        now = self.clock()
        account, per_address = self._keys(email, address)
        waits = [self._wait(key, limit, now) for key, limit in
                 ((account, self.limits.per_account), (per_address, self.limits.per_address))]
        return max(waits)

    def _wait(self, key: tuple[str, ...], limit: int, now: float) -> int:
        entry = self._live(key, now)
        if entry is None or entry[1] < limit:
            return 0
        return max(1, int(-(-(entry[0] + self.limits.window - now) // 1)))

    def full(self, email: str, address: str) -> bool:
        """No room for this attempt's counters, even after dropping the expired ones."""
        with self._lock:
            return self._full(email, address)

    def _full(self, email: str, address: str) -> bool:
        now = self.clock()
        missing = [k for k in self._keys(email, address) if self._live(k, now) is None]
        if len(self._seen) + len(missing) <= self.limits.entries:
            return False
        for key in list(self._seen):  # oldest windows first: drop those that are over
            if self._live(key, now) is not None:
                break
        return len(self._seen) + len(missing) > self.limits.entries

    def failed(self, email: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for key in self._keys(email, address):
                entry = self._live(key, now)
                self._seen[key] = (now, 1) if entry is None else (entry[0], entry[1] + 1)

    def succeeded(self, email: str, address: str) -> None:
        """The right password from this address: its account counter starts again."""
        with self._lock:
            self._seen.pop(self._keys(email, address)[0], None)

    def __len__(self) -> int:
        return len(self._seen)


def client_address(request: Request) -> str:
    """Whose failures these are: the IPv4 address, or the IPv6 /64 (transport.limits.address_key).
    Counted by the raw address, one laptop's /64 of addresses had a fresh counter per address:
    unlimited guesses, and a table it could fill for everyone."""
    return str(address_key(request.peer))


def gate(throttle: LoginThrottle | None, email: str, request: Request) -> Response | None:
    """Before any hashing: 429 with Retry-After while this account+address or address is over
    its limit, 503 when the table has no room to count a failure; None: go on."""
    if throttle is None:
        return None
    address = client_address(request)
    wait = throttle.blocked(email, address)
    if wait:
        shown = email if email.isprintable() else repr(email)
        events = [CredentialsChecked(f"{shown}: not checked, too many failed logins from {address} -> 429")]
        return text(429, "Too many failed logins: try again later", events, [("Retry-After", str(wait)), NO_STORE])
    if throttle.full(email, address):
        return text(503, "Too many failed logins to count: try again later",
                    [CredentialsChecked("not checked: the failed-login table is full -> 503")],
                    [("Retry-After", str(throttle.limits.window)), NO_STORE])
    return None
