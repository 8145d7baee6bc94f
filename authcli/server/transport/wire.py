"""HTTP/1.1 on the wire: h11 parses each request head strictly, and responses are written here.

h11 is the parser under httpcore and uvicorn. On top of it authcli refuses what RFC 9112 lets a
server refuse and a teaching server should: obs-fold, more than MAX_HEADERS fields, bodies over
MAX_BODY, and Transfer-Encoding (Content-Length only). Other control characters in a field value
(h11 already refuses NUL, CR and LF) reach the routes, which treat such a cookie or token as
malformed: 401, as a client that sent garbage credentials deserves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

import h11

from authcli import __version__
from authcli.errors import HttpError
from authcli.server.journal import Request, Response
from authcli import clock

MAX_BODY = 16 * 1024
MAX_HEAD = 32 * 1024
MAX_HEADERS = 100
SERVER = f"authcli/{__version__}".encode()
OBS_FOLD = re.compile(rb"\n[ \t]")
HEAD_END = re.compile(rb"\r?\n\r?\n")
# Every response: browsers must not guess a type other than the one sent (OWASP).
ALWAYS = [("X-Content-Type-Options", "nosniff")]
_date: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    global _date
    now = int(clock.now())
    if _date[0] != now:  # formatted once a second, not once a request
        _date = (now, formatdate(now, usegmt=True).encode())
    return _date[1]


@dataclass
class Reader:
    """One request's worth of parsing on one connection; a new Reader for each request."""

    parser: h11.Connection = field(default_factory=lambda: h11.Connection(
        h11.SERVER, max_incomplete_event_size=MAX_HEAD))
    head: bytearray | None = field(default_factory=bytearray)  # raw head, until it is parsed
    request: Request | None = None
    body: bytearray = field(default_factory=bytearray)
    scanned: int = 0  # how much of `head` has been searched: a head sent a byte at a time is
                      # searched once overall, not once per byte
    # The head said `Expect: 100-continue` and no body came with it: the client waits for a
    # 100 Continue before sending the body (RFC 9110 10.1.1), so the loop owes it one.
    continue_owed: bool = False

    @property
    def started(self) -> bool:
        """Some of a request has arrived."""
        return self.head is None or bool(self.head)

    def feed(self, data: bytes) -> None:
        if self.head is not None:
            self.head += data
            start = max(0, self.scanned - 3)  # a pattern may straddle the old end
            end = HEAD_END.search(self.head, start)
            if OBS_FOLD.search(self.head, start, end.start() + 1 if end else len(self.head)):
                raise HttpError(400, "Malformed request: obs-fold (a header line continued on the next line)")
            self.scanned = len(self.head)
            if end or len(self.head) > MAX_HEAD:
                self.head = None  # the head is complete (or too big: h11 reports 431 itself)
        self.parser.receive_data(data)

    def next_request(self) -> Request | None:
        """The complete request (head and body), or None while more bytes are needed."""
        while True:
            try:
                event = self.parser.next_event()
            except h11.RemoteProtocolError as err:
                status = {431: 431, 505: 505, 501: 411}.get(err.error_status_hint, 400)
                if status == 431:
                    raise HttpError(431, f"Request head too large: the limit is {MAX_HEAD} bytes") from None
                if status == 411:
                    raise HttpError(411, "Send the body with Content-Length (chunked bodies are not supported)") from None
                raise HttpError(status, f"Malformed request: {str(err).split(':')[0]}") from None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                self.request = _request(event)
                self.head = None
                self.continue_owed = self.parser.they_are_waiting_for_100_continue
            elif isinstance(event, h11.Data):
                self.continue_owed = False  # the client sends the body without waiting
                self.body += event.data
                if len(self.body) > MAX_BODY:
                    raise HttpError(413, f"Body too large: the limit is {MAX_BODY} bytes")
            elif isinstance(event, h11.EndOfMessage):
                assert self.request is not None
                self.request.body = bytes(self.body)
                return self.request
            elif isinstance(event, h11.ConnectionClosed):
                raise HttpError(0, "")

    def leftover(self) -> bytes:
        """Bytes received past this request: the start of the next one (pipelining)."""
        return bytes(self.parser.trailing_data[0])


def _request(event: h11.Request) -> Request:
    version = event.http_version.decode()
    if version not in ("1.0", "1.1"):
        raise HttpError(505, f"HTTP/{version} is not supported: speak HTTP/1.1")
    raw = list(event.headers.raw_items())
    if len(raw) > MAX_HEADERS:
        raise HttpError(431, f"Too many header fields: the limit is {MAX_HEADERS}")
    lengths = []
    for name, value in raw:
        lname = name.lower()
        if lname == b"transfer-encoding":
            raise HttpError(411, "Send the body with Content-Length (chunked bodies are not supported)")
        if lname == b"content-length":
            lengths.append(int(value))  # h11 accepted only ASCII digits, all equal
    if lengths and lengths[0] > MAX_BODY:
        raise HttpError(413, f"Body too large: {lengths[0]} bytes, the limit is {MAX_BODY}")
    # Header values as ISO-8859-1, the way http.server and browsers' fetch treat bytes >= 0x80.
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]
    return Request(event.method.decode("ascii"), event.target.decode("ascii"), f"HTTP/{version}", headers)


def keeps_alive(request: Request, response: Response) -> bool:
    if response.close:
        return False
    tokens = {t.strip().lower() for v in request.header_values("Connection") for t in v.split(",")}
    if request.http_version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def encode(response: Response, *, head_only: bool, keep_alive: bool, http10: bool = False) -> bytes:
    """The response as bytes, in one piece (one write, one packet). A stream (SSE) has no
    Content-Length: its body ends when the connection closes."""
    body = response.body.encode("utf-8")
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [b"HTTP/1.1 %d %s" % (response.status, reason.encode()), b"Server: " + SERVER,
             b"Date: " + _http_date()]
    names = {k.lower() for k, _ in response.headers}
    if "content-type" not in names:
        lines.append(b"Content-Type: text/plain; charset=utf-8")
    for name, value in [*response.headers, *ALWAYS]:
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} would split the response")
        lines.append(f"{name}: {value}".encode("latin-1"))
    if response.stream is None:
        lines.append(b"Content-Length: %d" % len(body))
    if not keep_alive:
        lines.append(b"Connection: close")
    elif http10:
        lines.append(b"Connection: keep-alive")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head_only else body)


def refusal(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> bytes:
    """An answer to a request that never parsed: the reason, then the connection closes."""
    return encode(Response(status, message + "\n", list(headers or [])), head_only=False, keep_alive=False)


# The interim answer to `Expect: 100-continue` when the body will be read (RFC 9110 15.2.1).
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
