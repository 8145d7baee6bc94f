"""An exercise's answer route: POST /answer takes JSON {"emails": [...]} and says it was received.

The server does not judge it (it does not know the answer): the exercise reads the request from
the journal and judges it against this run's accounts. Anything but a list of short strings is
a 4xx with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from authcli.events import Refused
from authcli.server.journal import Request, Response
from authcli.server.lab.admin import WithAdmin
from authcli.server.routes import NO_STORE, text

ANSWER_PATH = "/answer"
MAX_EMAILS = 100
MAX_EMAIL = 254  # the longest address SMTP can carry
USAGE = 'send JSON like {"emails": ["x@b.com", "y@b.com"]} with Content-Type: application/json'


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


class WithAnswer(WithAdmin):
    """WithAdmin plus POST /answer."""

    def handle(self, request: Request) -> Response:
        if request.path != ANSWER_PATH:
            return super().handle(request)
        if request.method != "POST":
            return text(405, "Method not allowed: /answer takes POST", [Refused("/answer takes POST -> 405")],
                        [("Allow", "POST")])
        content_type = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
        if content_type != "application/json":
            return text(415, f"Unsupported Content-Type: {USAGE}", [Refused("/answer takes JSON -> 415")])
        listed = emails(request.body or b"")
        if isinstance(listed, str):
            return text(400, f"{listed}: {USAGE}", [Refused(f"{listed} -> 400")])
        return text(200, f"Answer received: {len(listed)} emails. The exercise's terminal says whether "
                    "they are this run's accounts.", [], [NO_STORE])

    def slow(self, request: Request) -> Any:
        return False if request.path == ANSWER_PATH else super().slow(request)
