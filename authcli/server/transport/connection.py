"""One client connection's state, and answering one request on it: what the loop and its workers share."""

from __future__ import annotations

import socket
import ssl
import time
from typing import TYPE_CHECKING

from authcli.errors import HttpError, Saturated, StoreUnavailable
from authcli.events import Bug, Refused, StoreFailed
from authcli.server.journal import Journal, Request, RequestRecord, Response
from authcli.server.transport.limits import address_key
from authcli.server.transport.wire import Reader, encode, keeps_alive, refusal

if TYPE_CHECKING:
    from authcli.server.transport.httpd import App


class Connection:
    """One client socket, its parser, what it sent and what it is owed, and its deadline."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int], turned_away: bool = False):
        self.sock = sock
        self.peer = peer
        self.key = address_key(peer)
        self.turned_away = turned_away  # refused at the cap: holds a 503 and nothing else
        self.reader = Reader()
        self.pending = bytearray()   # received, not yet parsed
        self.outbox = bytearray()    # answers the socket has not taken yet
        self.mask = 0                # the events it is selected for (0: not registered)
        self.busy = False            # a worker has its request: nothing more is parsed meanwhile
        self.eof = False             # the client shut its side: answer what came, then close
        self.close_after = False     # close once the outbox is written
        self.linger_after = False    # a refusal: once written, shut the write side and drain
        self.draining = False        # refused: what the client still sends is read and dropped
        self.closed = False
        self.since = time.monotonic()  # when it opened, went idle, or began a request
        self.tls_pending = False   # HTTPS: the first bytes decide (TLS handshake or plain HTTP)
        self.handshaking = False   # HTTPS: wrapped, handshake in progress
        self.stream = None         # an SSE Channel: the connection stays open for its events
        self.stream_owner = ""
        self.stream_seq = 0        # the last of its channel's events it was given
        self.moved = self.since    # a stream: when its unsent bytes last moved, or began to wait

    @property
    def idle(self) -> bool:
        """Open between requests: closing it costs its client nothing but a reconnect."""
        return not (self.busy or self.pending or self.outbox or self.close_after or self.tls_pending
                    or self.handshaking or self.reader.started or self.stream is not None)

    def has_input(self) -> bool:
        """Received bytes not parsed yet, here or inside TLS where the selector cannot see them."""
        return bool(self.pending) or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0)


def respond(app: App, request: Request) -> Response:
    try:
        return app.handle(request)
    except HttpError as err:
        return Response(err.status or 400, err.message + "\n", events=[Refused(err.message)])
    except (StoreUnavailable, Saturated) as err:
        what = "Session store unavailable" if isinstance(err, StoreUnavailable) else "Busy"
        return busy(f"{what}: {err}", str(err))
    except Exception as err:  # a bug must not kill the server; it is recorded, not hidden
        return Response(500, "Internal server error\n", events=[Bug(repr(err))], close=True)


def busy(reason: str, event: str | None = None) -> Response:
    """503 with Retry-After: the server is at a limit it keeps on purpose, or its store is away."""
    return Response(503, reason + "\n", [("Retry-After", "1")], [StoreFailed(event or reason)])


class Shared:
    """What the loop and its workers share: the app, the journal, the counters."""

    def __init__(self, app: App, journal: Journal, request_timeout: float,
                 tls: ssl.SSLContext | None = None):
        self.app = app
        self.tls = tls
        self.journal = journal
        self.request_timeout = request_timeout
        self.open = 0
        self.handler_errors = 0
        self.dropped = 0        # slow requests whose client hung up before a worker took them
        self.out_of_files = 0   # times accept failed for want of a file descriptor
        self.stopping = False


def answer(shared: Shared, conn: Connection, request: Request,
           response: Response | None = None) -> tuple[bytes, bool]:
    """Run the app on one request (or give `response`): the bytes to write, and whether the
    connection stays open."""
    response = response or respond(shared.app, request)
    keep = keeps_alive(request, response) and not shared.stopping and response.stream is None
    if response.stream is not None and request.method == "GET":
        # the loop opens it once this head is queued
        conn.stream, conn.stream_owner = response.stream.channel, response.stream.owner
        conn.stream_seq = response.stream.seq
    # Recorded before the bytes go out, so a client that reads the journal after its
    # response always finds this request there.
    shared.journal.record(RequestRecord(request, response.status, response.events, conn.peer))
    try:
        return encode(response, head_only=request.method == "HEAD", keep_alive=keep,
                      http10=request.http_version == "HTTP/1.0"), keep
    except (ValueError, UnicodeError) as err:
        shared.handler_errors += 1
        shared.journal.record(RequestRecord(request, 500, [Bug(repr(err))], conn.peer))
        return refusal(500, "Internal server error"), False
