"""What one client may take from the event loop: connections per address, and its place in the login queue.

SECURITY.md item 24: assume one hostile student on the classroom network. Each bound below is
per client address, so that student costs the others a share, never the server; each is a named
value here so README's "What the server does, and why" can quote it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Hashable

MAX_CONNECTIONS = 4096
# A classroom is often one NAT address: a school's Wi-Fi or a lab router puts 30 or more
# students behind it, each browser keeping up to 6 connections per host (Chromium's and
# Firefox's limit), plus a curl or a script: about 200. 256 lets such a class in whole, while
# one address holds at most 1/16 of MAX_CONNECTIONS. An address at its cap loses its own oldest
# idle connection to its new one, so a student hoarding sockets mostly evicts himself.
PER_ADDRESS = 256
# File descriptors kept for everything that is not a client: the listener, the wake pipe, a
# Redis pool, the log, TLS files. A server started under `ulimit -n 256` caps itself below it.
FD_RESERVE = 64
# A refusal (503 at the cap) is written, the write side shut, and what the client still sends
# read and dropped for LINGER seconds, so it reads the 503 instead of a reset. Each lingering
# socket holds a descriptor: at most MAX_LINGERING at once, the rest are closed at once.
MAX_LINGERING = 64
# Out of descriptors (EMFILE): the listener stays readable, so selecting it again at once would
# spin a core. It is left out of select this long, and the oldest idle connection is closed.
ACCEPT_BACKOFF = 0.1

# Slow routes (a login's Argon2id hash) wait for a worker in a queue served round-robin by
# address: one student's 200 wrong passwords put him behind every other student, not in front.
# 16 per address lets a NAT'ed class's login burst queue; 64 in all is what two cores hash in
# about a second and a half. Over either bound, or after SLOW_WAIT in the queue, a login gets
# 503 with Retry-After straight away: waiting longer helps no one.
SLOW_QUEUE = 64
SLOW_PER_ADDRESS = 16
SLOW_WAIT = 1.0


def address_key(peer: tuple) -> Hashable:
    """Who a connection belongs to: its IPv4 address, or the /64 of an IPv6 one (one laptop is
    handed a whole /64 by SLAAC and may use any address in it)."""
    host = peer[0] if peer else ""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # a Unix socket or a test's fake peer: the name itself
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def descriptor_budget() -> int:
    """MAX_CONNECTIONS, or fewer when the process may not open that many files."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, ValueError, OSError):
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, max(soft - FD_RESERVE, soft // 2)))


class Addresses:
    """The open connections of each client address, least recently used first: which one to close
    when an address, or the whole server, is at its cap. Used by the loop thread only."""

    def __init__(self) -> None:
        self._by_key: dict[Hashable, OrderedDict[Any, None]] = {}
        self.total = 0

    def add(self, key: Hashable, conn: Any) -> None:
        self._by_key.setdefault(key, OrderedDict())[conn] = None
        self.total += 1

    def remove(self, key: Hashable, conn: Any) -> None:
        conns = self._by_key.get(key)
        if conns is None or conn not in conns:
            return
        del conns[conn]
        self.total -= 1
        if not conns:
            del self._by_key[key]

    def used(self, key: Hashable, conn: Any) -> None:
        """The connection just answered a request: it is the most recently used of its address."""
        conns = self._by_key.get(key)
        if conns is not None and conn in conns:
            conns.move_to_end(conn)

    def count(self, key: Hashable) -> int:
        return len(self._by_key.get(key, ()))

    def oldest_idle(self, key: Hashable) -> Any | None:
        """The address's least recently used connection with no request in progress."""
        return next((c for c in self._by_key.get(key, ()) if c.idle), None)

    def evictable(self) -> Any | None:
        """With the whole server full: the oldest idle connection of the address holding the most
        (the biggest holder found in one pass; the others are looked at only when it has none)."""
        if not self._by_key:
            return None
        biggest = max(self._by_key, key=lambda k: len(self._by_key[k]))
        conn = self.oldest_idle(biggest)
        if conn is not None:
            return conn
        for key in sorted(self._by_key, key=lambda k: len(self._by_key[k]), reverse=True):
            conn = self.oldest_idle(key)
            if conn is not None:
                return conn
        return None


class SlowQueue:
    """Requests waiting for a worker, served round-robin by client address, bounded in all and
    per address; `get` returns None once the server stops."""

    def __init__(self, size: int = SLOW_QUEUE, per_address: int = SLOW_PER_ADDRESS):
        self._size = size
        self._per_address = per_address
        self._jobs: dict[Hashable, deque] = {}
        self._turns: deque[Hashable] = deque()  # addresses with jobs, in serving order
        self._housekeeping: deque = deque()     # a store purge: not a client's, never refused
        self._cond = threading.Condition()
        self._count = 0
        self._closed = False

    def put(self, key: Hashable, job: Any) -> bool:
        """Queue a client's job; False when the queue, or this address's share of it, is full."""
        with self._cond:
            jobs = self._jobs.get(key)
            if self._count >= self._size or (jobs is not None and len(jobs) >= self._per_address):
                return False
            if jobs is None:
                jobs = self._jobs[key] = deque()
                self._turns.append(key)
            jobs.append((time.monotonic(), job))
            self._count += 1
            self._cond.notify()
            return True

    def put_housekeeping(self, job: Any) -> None:
        with self._cond:
            self._housekeeping.append((time.monotonic(), job))
            self._cond.notify()

    def get(self) -> tuple[float, Any] | None:
        """(when it was queued, the job), the next address's turn; None when stopped."""
        with self._cond:
            while not self._closed and not self._count and not self._housekeeping:
                self._cond.wait()
            if self._closed:
                return None
            if self._housekeeping:
                return self._housekeeping.popleft()
            key = self._turns.popleft()
            jobs = self._jobs[key]
            item = jobs.popleft()
            self._count -= 1
            if jobs:
                self._turns.append(key)
            else:
                del self._jobs[key]
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return self._count
