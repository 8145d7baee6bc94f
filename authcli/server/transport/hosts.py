"""Which Host names a server answers to: its defence against DNS rebinding.

A page on rebind.example can have its name re-resolved to 127.0.0.1; the browser then sends
that page's requests to this server, same-origin as far as it knows, with
`Host: rebind.example:PORT`. The name is what rebinding cannot change, so a loopback server
answers only to loopback names, and a classroom server to the names and addresses it printed.
The port is not checked: a browser always sends the port it connected to, so only a proxy on
this machine (the scaling demo's balancer, HAProxy) sends another, and it forwards its own.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from authcli.server.journal import Request, Response

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


PORT = re.compile(r"(?::[0-9]{0,5})?")  # RFC 3986: the port may be empty


def _name(host: str) -> str | None:
    """`Host`'s name without its port, lower case, an IPv6 literal without its brackets; None
    when it is not `name[:digits]` at all (a port of "²" or an unbracketed IPv6 address)."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        name, rest = (host[1:end], host[end + 1:]) if end > 0 else ("", "x")
    elif host.count(":") <= 1:
        name = host.partition(":")[0]
        rest = host[len(name):]
    else:
        return None
    return name if name and PORT.fullmatch(rest) else None


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name in LOOPBACK_NAMES


def interface_addresses() -> list[str]:
    """The IPv4 addresses other machines reach this one at (from its host name), loopback left out."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except (OSError, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos if not info[4][0].startswith("127.")})


class HostCheck:
    """The names a server bound to `bound` answers to; `refusal(request)` is None or a 421."""

    def __init__(self, bound: str, names: list[str] | None = None):
        self.loopback = _is_loopback(bound.strip("[]"))
        allowed = set(LOOPBACK_NAMES)
        if not self.loopback:
            allowed |= {n.lower() for n in (names if names is not None else self._reachable(bound))}
        self.names = frozenset(allowed)

    @staticmethod
    def _reachable(bound: str) -> list[str]:
        # The bound address itself too: `serve` prints it in its banner (http://0.0.0.0:8000/).
        return [bound.strip("[]")] + (interface_addresses() if bound in ("0.0.0.0", "::") else [])

    def allows(self, host: str) -> bool:
        name = _name(host)
        return name is not None and (name in self.names or (self.loopback and _is_loopback(name)))

    def refusal(self, request: Request) -> Response | None:
        from authcli.events import Refused

        hosts = request.header_values("Host")
        # No Host at all is an HTTP/1.0 client (h11 refuses HTTP/1.1 without one): no browser,
        # so no rebinding. Several are refused by the wire layer already.
        if not hosts or all(self.allows(h) for h in hosts):
            return None
        shown = hosts[0][:100].encode("ascii", "backslashreplace").decode("ascii")
        expected = ", ".join(sorted(self.names))
        reason = (f"Misdirected request: this server answers to {expected}, not Host {shown} "
                  "(a name that is not this server's is how DNS rebinding reaches a local server)")
        return Response(421, reason + "\n", [("Content-Type", "text/plain; charset=utf-8")],
                        [Refused(f"Host {shown} is not one of this server's names -> 421")], close=True)
