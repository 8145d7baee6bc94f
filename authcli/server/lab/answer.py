"""An exercise's own POST route, beside the lab server's: user-enum's /answer takes JSON
{"emails": [...]}; fixation's /victim takes {"sessionId": "..."}, the ID to plant in user 1's
browser. Each only says it was received.

The server does not judge or act (it knows neither the answer nor the victim): the exercise reads
the request from the journal, judges an answer against this run's accounts, and plays user 1
for a planted ID. Anything but the expected JSON is a 4xx with the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from authcli.events import Refused
from authcli.server.journal import Request, Response
from authcli.server.lab.admin import WithAdmin
from authcli.server.routes import NO_STORE, text

ANSWER_PATH = "/answer"
MAX_EMAILS = 100
MAX_EMAIL = 254  # the longest address SMTP can carry
VICTIM_PATH = "/victim"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what this lab's session IDs look like
USAGE = 'send JSON like {"emails": ["x@b.com", "y@b.com"]} with Content-Type: application/json'
PLANT_USAGE = 'send JSON like {"sessionId": "my-id"} with Content-Type: application/json'


def body_field(body: bytes | None, name: str) -> Any:
    """`name` in a request body that is a JSON object, or None: not UTF-8, not JSON, nested past
    the parser's depth (RecursionError: a 5,000-deep [[[...]]] ended the exercise with a
    traceback), or not an object. Every reader of a request body in the labs goes through here."""
    try:
        data = json.loads((body or b"").decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return data.get(name) if isinstance(data, dict) else None


def emails(body: bytes) -> list[str] | str:
    """The answer's emails, or why it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError):
        return "Body is not JSON"
    listed = data.get("emails") if isinstance(data, dict) else None
    if not isinstance(listed, list) or not all(isinstance(e, str) and 0 < len(e) <= MAX_EMAIL for e in listed):
        return f"emails must be a list of strings of 1 to {MAX_EMAIL} characters"
    if len(listed) > MAX_EMAILS:
        return f"at most {MAX_EMAILS} emails"
    return listed


def planted(body: bytes) -> str | None:
    """The session ID to plant, or None when the body does not name one of this lab's shape."""
    value = body_field(body, "sessionId")
    return value if isinstance(value, str) and SESSION_ID.fullmatch(value) else None


class WithAnswer(WithAdmin):
    """WithAdmin plus one exercise route, `path` (ANSWER_PATH or VICTIM_PATH), POST only."""

    def __init__(self, app: Any, flag: str, path: str = ANSWER_PATH):
        super().__init__(app, flag)
        self.path = path

    def handle(self, request: Request) -> Response:
        if request.path != self.path:
            return super().handle(request)
        usage = USAGE if self.path == ANSWER_PATH else PLANT_USAGE
        if request.method != "POST":
            return text(405, f"Method not allowed: {self.path} takes POST", [Refused(f"{self.path} takes POST -> 405")],
                        [("Allow", "POST")])
        content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
        if content_type != "application/json":
            return text(415, f"Unsupported Content-Type: {usage}", [Refused(f"{self.path} takes JSON -> 415")])
        if self.path == VICTIM_PATH:
            value = planted(request.body or b"")
            if value is None:
                return text(400, f"sessionId must be 1 to 128 letters, digits, - or _: {PLANT_USAGE}",
                            [Refused("no session ID to plant -> 400")])
            return text(202, f"Planted: user 1's browser now carries the cookie sessionId={value}. User 1 "
                        "logs in within a second; the exercise's terminal says when.", [], [NO_STORE])
        listed = emails(request.body or b"")
        if isinstance(listed, str):
            return text(400, f"{listed}: {USAGE}", [Refused(f"{listed} -> 400")])
        return text(200, f"Answer received: {len(listed)} emails. The exercise's terminal says whether "
                    "they are this run's accounts.", [], [NO_STORE])

    def slow(self, request: Request) -> Any:
        return False if request.path == self.path else super().slow(request)


LINK_USAGE = 'send JSON like {"link": "http://127.0.0.1:PORT/authorize?..."} with Content-Type: application/json'
MAX_LINK = 2000


def link(body: bytes) -> str | None:
    """redirect-prefix: the link user 1 is to open, or None when the body does not carry one."""
    value = body_field(body, "link")
    ok = isinstance(value, str) and 0 < len(value) <= MAX_LINK and value.isprintable() and " " not in value
    return value if ok else None


class WithLink(WithAnswer):
    """An OAuth lab's /victim: JSON {"link": "..."}, the link user 1 opens (the exercise plays user 1)."""

    def __init__(self, app: Any, flag: str):
        super().__init__(app, flag, VICTIM_PATH)

    def handle(self, request: Request) -> Response:
        if request.path != self.path or request.method != "POST":
            return super().handle(request)
        content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
        if content_type != "application/json":
            return text(415, f"Unsupported Content-Type: {LINK_USAGE}", [Refused(f"{self.path} takes JSON -> 415")])
        if link(request.body or b"") is None:
            return text(400, f"link must be a URL of 1 to {MAX_LINK} printable characters: {LINK_USAGE}",
                        [Refused("no link to open -> 400")])
        return text(202, "Sent: user 1 opens the link within a second; the exercise's terminal says where "
                    "their browser went.", [], [NO_STORE])


COLLECT_PATH = "/collect"
MAX_SCRIPT = 4000
MAX_COLLECTED = 4096  # bytes kept of one POST to /collect
KEEP = 20             # the last this many POSTs are kept
SCRIPT_USAGE = 'send JSON like {"script": "fetch(\'/collect\', ...)"} with Content-Type: application/json'


def script(body: bytes, field: str = "script") -> str | None:
    """no-httponly: the script user 1's page is to run (an XSS payload); login-csrf (field
    "page"): the HTML of the attacker's page user 1 opens. None when the body has none."""
    value = body_field(body, field)
    return value if isinstance(value, str) and 0 < len(value.strip()) and len(value) <= MAX_SCRIPT else None


class WithScript(WithAnswer):
    """no-httponly's routes: POST /victim {"script": "..."}, a script user 1's page runs (the
    exercise plays user 1, in Chromium); and /collect, the attacker's drop box on this origin:
    POST stores the body (the last KEEP, each cut at MAX_COLLECTED bytes), GET lists them, one
    JSON string a line. The server runs nothing itself. login-csrf's (field "page"): POST /victim
    {"page": "<html>..."}, the attacker's page user 1 opens; no /collect."""

    def __init__(self, app: Any, flag: str, field: str = "script"):
        super().__init__(app, flag, VICTIM_PATH)
        self.field = field
        self.collected: list[str] = []

    def handle(self, request: Request) -> Response:
        if request.path == COLLECT_PATH and self.field == "script":
            return self._collect(request)
        if request.path != self.path or request.method != "POST":
            return super().handle(request)
        content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
        if content_type != "application/json":
            return text(415, f"Unsupported Content-Type: {self._usage()}", [Refused(f"{self.path} takes JSON -> 415")])
        if script(request.body or b"", self.field) is None:
            return text(400, f"{self.field} must be a string of 1 to {MAX_SCRIPT} characters: {self._usage()}",
                        [Refused(f"no {self.field} -> 400")])
        return text(202, f"Sent: user 1's browser takes your {self.field} within a second; the exercise's "
                    "terminal says what happened.", [], [NO_STORE])

    def _usage(self) -> str:
        return SCRIPT_USAGE if self.field == "script" else PAGE_USAGE

    def _collect(self, request: Request) -> Response:
        if request.method == "GET":
            listing = "\n".join(json.dumps(c) for c in self.collected) or "Nothing collected yet"
            return text(200, listing, [], [NO_STORE])
        if request.method != "POST":
            return text(405, "Method not allowed: /collect takes GET or POST", [Refused("/collect: GET or POST -> 405")],
                        [("Allow", "GET, POST")])
        self.collected = [*self.collected, (request.body or b"")[:MAX_COLLECTED].decode("utf-8", "replace")][-KEEP:]
        return text(200, f"Collected ({len(self.collected)} kept)", [], [NO_STORE])

    def slow(self, request: Request) -> Any:
        return False if request.path == COLLECT_PATH else super().slow(request)


PAGE_USAGE = 'send JSON like {"page": "<html>...</html>"} with Content-Type: application/json'

