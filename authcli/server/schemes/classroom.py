"""The class page's server: students join with a name and the room's token, answer the open
question, and follow the room live over Server-Sent Events.

Every POST takes JSON only and refuses cross-site browsers (routes.refuse_cross_site), as
/login does; the seat is an HttpOnly, SameSite=Strict cookie that means nothing by itself (the
room maps it to a name). Wrong join tokens and rejoin codes are guesses, counted per address and
per room (429 past the limit, before comparing). Nothing a student sends is echoed into HTML: the page builds its DOM
with textContent, and the teacher's terminal escapes names (render/escape.py).
"""

from __future__ import annotations

import json
import re
import time
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from authcli.classroom import qr
from authcli.classroom.room import Room
from authcli.errors import HttpError
from authcli.events import Event, Refused
from authcli.server.journal import Request, Response
from authcli.server.policy import LoginLimits
from authcli.server.routes import NO_STORE, Router, page, refuse_cross_site
from authcli.server.schemes.cookies import read_cookie
from authcli.server.throttle import LoginThrottle
from authcli.server.transport.limits import address_key
from authcli.server.transport.stream import HEADERS, Channel, Stream

SEAT = "classSeat"
JSON = ("Content-Type", "application/json")
MAX_JSON = 2048  # a join or an answer is a few dozen bytes
HOST = re.compile(r"[A-Za-z0-9.\-]{1,80}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")
# Open class pages one student may follow at once (a phone, a laptop, a tab or two). A stream
# holds a connection until it closes: without a cap, one student could hold the connections
# their whole address may have, and a class behind one NAT address would be locked out.
STREAMS_PER_STUDENT = 4
# Wrong join tokens allowed per minute. The token is 6 hex digits (24 bits, said aloud): one
# address guessing unthrottled tried 1,100 a second (half the space in about two hours, a long
# lesson). 20 a minute per address (a class behind one NAT address mistyping) puts half the
# space 290 days away; the room's 1,000 a minute, 6 days, whatever the addresses. A guess over
# the limit gets 429 before the token is compared, so a 429 says nothing about the guess. The
# room's limit is also a lockout of new joins for whoever guesses past it: it takes 50
# addresses guessing at once (an IPv6 /64 is one), and students who have joined are unaffected.
WRONG_TOKENS = LoginLimits(per_account=20, per_address=20, window=60)
WRONG_TOKENS_ROOM = LoginLimits(per_account=1000, per_address=1000, window=60)


def _body(request: Request) -> dict:
    refuse_cross_site(request)
    kind = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
    if kind != "application/json":
        raise HttpError(415, "send JSON with Content-Type: application/json")
    if len(request.body) > MAX_JSON:
        raise HttpError(413, f"a class request is at most {MAX_JSON} bytes")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HttpError(400, "the body must be a JSON object")
    return data


def _json(status: int, data: object, events: list[Event], headers: list[tuple[str, str]] | None = None) -> Response:
    # ensure_ascii: a lone surrogate in a name never reaches the UTF-8 encoder
    return Response(status, json.dumps(data) + "\n", [JSON, NO_STORE, *(headers or [])], events)


class ClassApp:
    """The App the class server runs (transport.httpd.App): no store, nothing slow."""

    store = None

    def __init__(self, room: Room, clock: Callable[[], float] = time.monotonic):
        self.room = room
        self.guesses = LoginThrottle(WRONG_TOKENS, clock)
        self.room_guesses = LoginThrottle(WRONG_TOKENS_ROOM, clock)
        self.channel = Channel()
        room.on_change = self.publish
        self.publish(room.state())  # the first event: a stream opening before any change starts here
        self.router = Router({
            "/class/join": {"POST": self._join},
            "/class/answer": {"POST": self._answer},
            "/class/me": {"GET": self._me},
            "/class/state": {"GET": self._state},
            "/class/events": {"GET": self._events},
            "/class/qr.svg": {"GET": self._qr},
        }, page("class.html"), {"/class.js": "class.js", "/style.css": "style.css", "/class.css": "class.css"},
            slow=frozenset())

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def slow(self, request: Request) -> bool:
        return False

    def publish(self, state: dict) -> None:
        self.channel.publish("state", json.dumps(state))

    def _seat(self, request: Request) -> str | None:
        return read_cookie(request.header_values("Cookie"), SEAT)

    def _join(self, request: Request) -> Response:
        data = _body(request)
        address = str(address_key(request.peer)) if request.peer else ""
        wait = max(self.guesses.blocked("", address), self.room_guesses.blocked("", "room"))
        if wait or self.guesses.full("", address):
            why = "too many wrong join tokens: try again in a minute"
            return _json(429, {"error": why}, [Refused(why)], [("Retry-After", str(wait or 60))])
        try:
            seat, name = self.room.join(data.get("name"), data.get("token"), address, data.get("code"),
                                        self._seat(request))
        except HttpError as err:
            if err.status == 403:
                self.guesses.failed("", address)
                self.room_guesses.failed("", "room")
            raise
        cookie = f"{SEAT}={seat}; HttpOnly; SameSite=Strict; Path=/"
        return _json(200, self._me_data(seat), [Event("a student joined")],
                     [("Set-Cookie", cookie)])

    def _answer(self, request: Request) -> Response:
        data = _body(request)
        choice = self.room.answer(self._seat(request), data.get("key"), data.get("choice"))
        return _json(200, {"key": data["key"], "choice": choice}, [Event("an answer was recorded")])

    def _me_data(self, seat: str) -> dict:
        student = self.room.student(seat)
        return {"name": self.room.names[student], "answers": self.room.mine(seat), "code": self.room.codes[student],
                "qr": qr.available()}

    def _qr(self, request: Request) -> Response:
        """The join QR code for a joined student's page: the address this device reached the
        class at (a Host the server's host check let through) and the room's token, which the
        student typed already. Nobody else gets it: it holds the token."""
        self.room.student(self._seat(request))
        host = (request.header_values("Host") or [""])[0].strip()
        if not HOST.fullmatch(host):
            raise HttpError(404, "no QR code for this address")
        code = qr.svg(f"http://{host}/#t={self.room.token}")
        if code is None:
            raise HttpError(404, "no QR code: the teacher's authcli has no segno (pip install 'authcli[class]')")
        return Response(200, code, [("Content-Type", "image/svg+xml"), NO_STORE], [])

    def _me(self, request: Request) -> Response:
        return _json(200, self._me_data(self._seat(request)), [])

    def _state(self, request: Request) -> Response:
        self.room.student(self._seat(request))
        return _json(200, self.room.state(), [])

    def _events(self, request: Request) -> Response:
        try:
            student = self.room.student(self._seat(request))
        except HttpError as err:
            return _json(err.status, {"error": err.message}, [Refused(err.message)])
        if self.channel.open_for(student) >= STREAMS_PER_STUDENT:
            why = f"{STREAMS_PER_STUDENT} class pages are open under this name already: close one"
            return _json(429, {"error": why}, [Refused(why)], [("Retry-After", "5")])
        # A device that dropped says where it was: the header from EventSource's own reconnect,
        # `?last=` from a page that opened a new EventSource after a refusal.
        last = (request.header_values("Last-Event-ID") or parse_qs(urlsplit(request.target).query).get("last")
                or [None])[-1]
        events, seq = self.channel.opening(last)
        return Response(200, "retry: 1000\n\n" + events.decode("utf-8"), [*HEADERS],
                        [Event("a class stream opened")], stream=Stream(self.channel, student, seq))
