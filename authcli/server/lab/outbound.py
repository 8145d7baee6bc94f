"""The outbound fetches (the lab's jku URL, a verifier's JWKS URL): loopback only, one parser, a deadline.

A check that parses a URL one way while the HTTP client parses it another is a way out of the
box: `http://127.0.0.2:PORT\\@127.0.0.1/` passed a `urlsplit` check and was fetched from
127.0.0.2 by requests. Here the URL is read by one strict pattern, the connection is made by
this module to the address that pattern named, the address actually connected to is checked,
and the whole fetch, however slowly the other side drips, ends by its deadline.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from dataclasses import dataclass

from authcli.errors import BadKey

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
DEADLINE = 2.0          # seconds for the whole fetch: connect, send, every byte of the answer
MAX_BODY = 64 * 1024
# Only what every URL parser reads the same way: http, a loopback name, a port, then a path and
# query of unreserved characters and %XX. No userinfo (@), backslash, whitespace, non-ASCII,
# percent-encoded host or fragment: URLs that parsers disagree on are refused, not interpreted.
URL = re.compile(r"http://(?P<host>127\.0\.0\.1|localhost|\[::1\])(?::(?P<port>[0-9]{1,5}))?"
                 r"(?P<target>/(?:[A-Za-z0-9._~!$&'()*+,;=:/?-]|%[0-9A-Fa-f]{2})*)?", re.ASCII)


def parse(url: object) -> tuple[str, int, str]:
    """(host as written, port, request target), or BadKey saying why the URL is refused."""
    if not isinstance(url, str) or not url.isascii() or not URL.fullmatch(url):
        shown = url[:100] if isinstance(url, str) else type(url).__name__
        raise BadKey(f"this lab server follows only plain http:// URLs on 127.0.0.1, localhost or [::1] "
                     f"(no userinfo, backslash, spaces or encoded host), not {shown!r}")
    match = URL.fullmatch(url)
    port = int(match["port"] or 80)
    if not 1 <= port <= 65535:
        raise BadKey(f"no such port: {port}")
    return match["host"], port, match["target"] or "/"


def _addresses(host: str, port: int) -> list[tuple]:
    """The loopback addresses `host` names; never a lookup beyond /etc/hosts' loopback names."""
    name = host.strip("[]")
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return [info for info in infos if ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback]


def _left(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _connect(infos: list[tuple], end: float) -> socket.socket:
    """A socket connected to the first of `infos` that answers (localhost may be ::1 first
    while the key server listens on 127.0.0.1 only), within the deadline."""
    failure: OSError = ConnectionRefusedError()
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(end))
            sock.connect(address)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as err:
            sock.close()
            failure = err
    raise failure


@dataclass(frozen=True)
class Fetched:
    """One GET as it went out and came back: the request head sent, the answer's status line,
    headers and body (at most the limit), and the loopback address connected to."""

    url: str
    target: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    peer: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _exchange(conn, sock: socket.socket, url: str, end: float, limit: int) -> tuple[int, str, list, bytes]:
    import h11

    body, status, reason, headers = bytearray(), 0, "", []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            sock.settimeout(_left(end))
            conn.receive_data(sock.recv(16384))
        elif isinstance(event, h11.Response):
            status, reason = event.status_code, event.reason.decode("latin-1")
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()]
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > limit:
                raise BadKey(f"the answer from {url[:100]} is larger than {limit // 1024} KB")
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            return status, reason, headers, bytes(body)


def get(url: object, deadline: float = DEADLINE, limit: int = MAX_BODY) -> Fetched:
    """GET `url`, whatever the status: BadKey for a refused URL, an error, more than `limit`
    bytes, or a fetch that has not finished `deadline` seconds after it started."""
    import h11

    host, port, target = parse(url)
    end = time.monotonic() + deadline
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=16 * 1024)
    sent = [("Host", host if port == 80 else f"{host}:{port}"), ("Accept", "application/json"),
            ("Connection", "close")]
    try:
        infos = _addresses(host, port)
        if not infos:
            raise BadKey(f"{host} does not resolve to a loopback address here")
        with _connect(infos, end) as sock:
            peer = sock.getpeername()[0]
            if not ipaddress.ip_address(peer.split("%")[0]).is_loopback:  # what was connected to
                raise BadKey(f"connected to {peer}, which is not loopback")
            head = conn.send(h11.Request(method="GET", target=target, headers=sent))
            sock.sendall(head + conn.send(h11.EndOfMessage()))
            status, reason, headers, body = _exchange(conn, sock, url, end, limit)
    except TimeoutError:
        raise BadKey(f"fetching {url[:100]} took longer than {deadline:g} s") from None
    except (OSError, h11.ProtocolError, UnicodeError) as err:
        raise BadKey(f"could not fetch {url[:100]}: {type(err).__name__}") from None
    return Fetched(url, target, sent, status, reason, headers, body, peer)


def fetch(url: object, deadline: float = DEADLINE, limit: int = MAX_BODY) -> bytes:
    """GET `url`'s body: BadKey for a refused URL, an error, a non-2xx answer, more than
    `limit` bytes, or a fetch that has not finished `deadline` seconds after it started."""
    got = get(url, deadline, limit)
    if not 200 <= got.status < 300:
        raise BadKey(f"{got.url[:100]} answered {got.status}, not a key set")
    return got.body
