"""A student from a terminal (`authcli class join`), and the simulated students of the tests
and the benchmark: join, follow the room's events, answer. Returns data; prints nothing."""

from __future__ import annotations

import json
from typing import Iterator
from urllib.parse import urlsplit

import requests

from authcli.errors import UsageError

TIMEOUT = 10.0


def parse_events(chunks: Iterator[bytes]) -> Iterator[tuple[str, str, str]]:
    """(event name, data, id) for each Server-Sent Event in a byte stream; comments skipped.
    The id is the last one the stream gave, as EventSource keeps it (empty before any)."""
    buffer, last_id = b"", ""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode("utf-8", "replace").split("\n"):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
                elif field == "id" and "\0" not in value:
                    last_id = value
            if data:
                yield name, "\n".join(data), last_id


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """What arrived, as it arrives (iter_content waits for whole chunks of its size)."""
    raw = response.raw
    read = getattr(raw, "read1", None)
    while True:
        data = read(4096) if read is not None else raw.read(1)
        if not data:
            return
        yield data


class Student:
    """One student's device: a cookie jar with its seat, and the room's URL."""

    def __init__(self, url: str, name: str, token: str, timeout: float = TIMEOUT, code: str = ""):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"not a class URL: {url[:100]!r} (it looks like http://192.168.1.20:8000/)")
        self.base = f"{parts.scheme}://{parts.netloc}"
        token = token or dict(p.partition("=")[::2] for p in parts.fragment.split("&") if p).get("t", "")
        self.name, self.token, self.timeout, self.code = name, token, timeout, code
        self.http = requests.Session()
        self.answers: dict[str, str] = {}
        self.last_id = ""  # the last event this device read: a reconnect resumes after it

    def join(self) -> requests.Response:
        response = self.http.post(f"{self.base}/class/join", json={"name": self.name, "token": self.token, "code": self.code},
                                  timeout=self.timeout)
        if response.ok:
            self.answers = response.json().get("answers", {})
            self.code = str(response.json().get("code", ""))
        return response

    def answer(self, key: str, choice: str) -> requests.Response:
        response = self.http.post(f"{self.base}/class/answer", json={"key": key, "choice": choice},
                                  timeout=self.timeout)
        if response.ok:
            self.answers[key] = choice
        return response

    def states(self, read_timeout: float | None = None, resume: bool = False) -> Iterator[dict]:
        """The room's state now, then each state it goes through, in order, until the server
        closes the stream. `resume`: start after the last event read before (`last_id`), as
        EventSource does when it reconnects, so a dropped device misses nothing."""
        headers = {"Last-Event-ID": self.last_id} if resume and self.last_id else {}
        response = self.http.get(f"{self.base}/class/events", stream=True, headers=headers,
                                 timeout=(self.timeout, read_timeout))
        with response:
            if response.status_code != 200:
                raise UsageError(f"the class refused the stream: {response.status_code} {response.text[:200]}")
            for name, data, last_id in parse_events(_chunks(response)):
                self.last_id = last_id
                if name == "state":
                    yield json.loads(data)

    def close(self) -> None:
        self.http.close()
