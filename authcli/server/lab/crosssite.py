"""The cross-site lab every server carries: an "attacker" page for the other site, and what the
server's journal says those requests carried.

127.0.0.1 and localhost reach the same server but are different sites to a browser (a site is
scheme plus registrable domain; ports do not count). A page loaded from one is a stranger to
cookies set by the other, which is all a CSRF demo needs: no second server, no DNS tricks.
"""

from __future__ import annotations

import json
import re
from typing import Callable
from urllib.parse import parse_qs

from authcli.server.journal import Journal, Request, Response
from authcli.server.routes import CSP, NO_STORE, page

# The routes an attacker aims at: the handout's. Teaching views and static files are left out.
TARGETS = ("/login", "/profile", "/logout")
LAB_PATHS = ("/attacker", "/attacker.js", "/attacker/log")
# What a victim origin may look like: a scheme, a host name or IP (IPv6 bracketed), a port.
ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
# Five minutes, not the year production sends: HSTS is per host name, not per port, and a
# browser that does record it for localhost must not go on forcing https:// on every other local
# project. (127.0.0.1 is never recorded, RFC 6797 8.1; Chromium ignored it here, tests/test_https.py.)
HSTS = ("Strict-Transport-Security", "max-age=300")
SHOWN = 8  # characters of a cookie value or token the log shows: enough to match, not to use
# /attacker/log answers at most LOG_PAGE requests at a time ("more": true and "next" say where to
# go on) and cuts each value at LOG_VALUE characters: one answer stays under ~100 KB however
# the journal was filled (a 10 KB Host header once made one answer 30 MB, built on the loop).
LOG_PAGE = 50
LOG_VALUE = 200


def _host(request: Request) -> str:
    return (request.header_values("Host") or [""])[0].strip()


def other_site(host: str, scheme: str = "http") -> str:
    """The victim this page aims at when none is named: the other name for the same server."""
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    other = "127.0.0.1" if name.lower() == "localhost" else "localhost"
    return f"{scheme}://{other}" + (f":{port}" if re.fullmatch(r"[0-9]{1,5}", port) else "")


def victim_origin(request: Request, scheme: str = "http") -> str | None:
    """`?victim=` when it is a bare origin on another host, else the other loopback name."""
    query = parse_qs(request.target.split("?", 1)[1]) if "?" in request.target else {}
    named = query.get("victim", [])
    if len(named) == 1:
        origin = named[0].rstrip("/")
        if not ORIGIN.fullmatch(origin) or origin.split("://", 1)[1].lower() == _host(request).lower():
            return None
        return origin
    return other_site(_host(request), scheme)


def _short(value: str) -> str:
    return value if len(value) <= SHOWN else f"{value[:SHOWN]}... ({len(value)} characters)"


# Anything in a header that could be a credential: a long run of base64 (either alphabet),
# percent-encoding or token characters, wherever it stands. A credential sent as a cookie's
# name, or as a cookie with no name at all, is as secret as one sent as its value.
CREDENTIAL_RUN = re.compile(r"[A-Za-z0-9_\-+/=%.~]{" + str(2 * SHOWN + 1) + ",}")


def _masked(text: str) -> str:
    return CREDENTIAL_RUN.sub(lambda m: _short(m.group(0)), text)


def _cookies(values: list[str]) -> str | None:
    if not values:
        return None
    pairs = [p.strip() for v in values for p in v.split(";") if p.strip()]
    return "; ".join(_masked(n) + (f"={_short(val)}" if sep else "")
                     for n, sep, val in (p.partition("=") for p in pairs))


def _authorization(values: list[str]) -> str | None:
    if not values:
        return None
    scheme, _, rest = values[0].strip().partition(" ")
    return f"{_masked(scheme)} {_short(rest.strip())}" if rest else _short(scheme)


def _first(request: Request, name: str) -> str | None:
    values = request.header_values(name)
    return _masked(values[0]) if values else None


def how_sent(header: Callable[[str], str | None]) -> str:
    """What made the browser send it, from the Sec-Fetch headers every current browser adds;
    `header(name)` is a request's first value of that header (the journal's or an exchange's)."""
    mode, dest = (header("Sec-Fetch-Mode") or "").lower(), (header("Sec-Fetch-Dest") or "").lower()
    if mode == "navigate":
        return "top-level navigation" if dest == "document" else f"navigation in a frame ({dest[:20]})"
    if mode:
        return f"script request ({mode[:20]})"
    return "no Sec-Fetch headers: not a browser, or an old one"


def _secrets(request: Request) -> list[str]:
    """The credentials a request carried, longest first: what the log must never show whole."""
    found = [part.strip() for v in request.header_values("Cookie") for p in v.split(";")
             for part in p.partition("=")[::2] if len(part.strip()) > SHOWN]
    found += [v.strip().partition(" ")[2].strip() for v in request.header_values("Authorization")]
    return sorted({f for f in found if len(f) > SHOWN}, key=len, reverse=True)


# A session ID (43 characters), each part of a token, a jti: any long base64url run in what the
# server said. A login's event names the ID it just issued, which no request header carried.
LONG_RUN = re.compile(r"[A-Za-z0-9_-]{%d,}" % (2 * SHOWN + 1))


def _shorten_in(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, _short(secret))
    return LONG_RUN.sub(lambda m: _short(m.group(0)), message)


POSITION = re.compile(r"[0-9]{1,30}")


def _from_loopback(request: Request) -> bool:
    import ipaddress

    try:
        return request.peer is not None and ipaddress.ip_address(request.peer[0].split("%")[0]).is_loopback
    except ValueError:
        return False


class CrossSiteLab:
    """GET /attacker (the attacker's page), /attacker.js, and /attacker/log?since=N[&limit=M]: the
    requests to the handout's routes since N, with what they carried, a page at a time.

    The log shows cookies and tokens shortened: this page is another site, and a route that
    handed it whole credentials would be the very leak it teaches about.
    """

    def __init__(self, journal: Journal, mode: str, scheme: str = "http", private: bool = False):
        self._journal = journal
        # A classroom server (beyond loopback): the journal is for this machine's browser only,
        # never for a neighbour reading what everyone else's requests carried.
        self.private = private
        self._mode = mode
        self._scheme = scheme
        self._html = page("attacker.html")
        self._script = page("attacker.js")

    def handles(self, request: Request) -> bool:
        return request.path in LAB_PATHS and request.method in ("GET", "HEAD")

    def handle(self, request: Request) -> Response:
        if request.path == "/attacker.js":
            return Response(200, self._script, [("Content-Type", "text/javascript; charset=utf-8"), CSP])
        if request.path == "/attacker/log":
            return self._log(request)
        victim = victim_origin(request, self._scheme)
        if victim is None:
            return Response(400, "?victim= takes an origin on another host, like http://127.0.0.1:8000\n")
        # The page may post forms to the victim, frame its answers and fetch from it; nothing else.
        policy = (f"default-src 'self'; form-action {victim}; frame-src {victim}; "
                  f"connect-src 'self' {victim}; frame-ancestors 'none'; base-uri 'none'")
        body = self._html.replace("{{victim}}", victim).replace("{{mode}}", self._mode)
        return Response(200, body, [("Content-Type", "text/html; charset=utf-8"),
                                    ("Content-Security-Policy", policy), NO_STORE])

    def _log(self, request: Request) -> Response:
        query = parse_qs(request.target.split("?", 1)[1]) if "?" in request.target else {}
        if self.private and not _from_loopback(request):
            return Response(403, "The journal is shown on the server's own machine only: this server "
                                 "listens beyond loopback, and other students' requests are in it\n", [NO_STORE])
        mark = self._journal.recorded
        since = query.get("since", [""])[0]
        entries: list[dict] = []
        more, after = False, mark
        # Anything but a bounded run of ASCII digits lists nothing: str.isdigit() accepts "²" and
        # "٣", which int() refuses or reads, and int() refuses 5,000 digits.
        if POSITION.fullmatch(since):
            records, after = self._journal.page(min(int(since), mark))
            end, limit = after, _limit(query)
            for n, record in enumerate(records):
                if len(entries) == limit:  # a page at a time: the answer is built on the loop
                    more, after = True, end - len(records) + n
                    break
                if record.request.path in TARGETS:
                    entries.append(_entry(record))
        body = json.dumps({"mode": self._mode, "mark": mark, "requests": entries, "more": more,
                           "next": after})
        return Response(200, body + "\n", [("Content-Type", "application/json"), NO_STORE])


def _limit(query: dict[str, list[str]]) -> int:
    """`?limit=`, within 1..LOG_PAGE; LOG_PAGE when absent or not a number."""
    value = query.get("limit", [""])[0]
    return max(1, min(LOG_PAGE, int(value))) if POSITION.fullmatch(value) else LOG_PAGE


def _clip(value: str | None) -> str | None:
    return value if value is None or len(value) <= LOG_VALUE else f"{value[:LOG_VALUE]}... ({len(value)} characters)"


def _entry(record) -> dict:
    """One request as the log shows it: credentials shortened, every value at most LOG_VALUE long."""
    req = record.request
    hidden = _secrets(req)
    return {
        "request": _clip(_masked(f"{req.method} {req.path}")), "host": _clip(_masked(_host(req))),
        "cookie": _clip(_cookies(req.header_values("Cookie"))),
        "authorization": _clip(_authorization(req.header_values("Authorization"))),
        "origin": _clip(_first(req, "Origin")), "secFetchSite": _clip(_first(req, "Sec-Fetch-Site")),
        "how": how_sent(lambda name, req=req: _first(req, name)), "status": record.status,
        "server": [_clip(_shorten_in(event.message, hidden)) for event in record.events],
    }


class Site:
    """An auth scheme plus the cross-site lab: what AuthServer actually serves."""

    def __init__(self, app, journal: Journal, https: bool = False, hosts=None):
        self.app = app
        self.hosts = hosts  # a HostCheck: names other than this server's get 421 (DNS rebinding)
        self.store = app.store
        # lab_mode: what the attacker's page says the victim runs (jwt-cookie: a token in a cookie)
        mode = getattr(app, "lab_mode", None) or getattr(app, "mode", "session")
        self.lab = CrossSiteLab(journal, mode, "https" if https else "http",
                                private=hosts is not None and not hosts.loopback)
        weak = getattr(app, "weak", ())
        # A deliberately weak server says so on every answer, so no one mistakes it for the real one.
        self._marks = [("X-Authcli-Weak", ",".join(weak))] if weak else []
        if https:  # what production sends; in this demo it has no effect (see HSTS above)
            self._marks.append(HSTS)

    def handle(self, request: Request) -> Response:
        refused = self.hosts.refusal(request) if self.hosts is not None else None
        if refused is not None:
            response = refused
        else:
            response = self.lab.handle(request) if self.lab.handles(request) else self.app.handle(request)
        if self._marks:
            response.headers = [*response.headers, *self._marks]
        return response

    def slow(self, request: Request) -> bool:
        if self.hosts is not None and self.hosts.refusal(request) is not None:
            return False  # refused at once, whatever the route would have cost
        return self.app.slow(request)
