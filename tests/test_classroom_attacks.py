"""A hostile student on the classroom network, against `authcli class`: guessing the join token,
writing formulas and markup into the report as a name. Each attack over its class of inputs."""

from __future__ import annotations

import json
import socket

import requests

from hypothesis import given, settings
from hypothesis import strategies as st

from authcli.classroom.room import Room
from authcli.server.journal import Request
from authcli.server.schemes.classroom import WRONG_TOKENS, WRONG_TOKENS_ROOM, ClassApp
from authcli.server.transport.httpd import AuthServer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def join(app: ClassApp, token: str, address: str, name: str = "eve") -> int:
    body = json.dumps({"name": name, "token": token}).encode()
    request = Request("POST", "/class/join", "HTTP/1.1", [("Host", "127.0.0.1"), ("Content-Type", "application/json"),
                                                         ("Content-Length", str(len(body)))], body,
                      peer=(address, 40000))
    return app.handle(request).status


def wrong_token(room: Room) -> st.SearchStrategy[str]:
    spellings = st.sampled_from(["{}", "{} ", " {}", "{}".upper(), "0x{}", "{}0", "{}\n"])
    guesses = st.one_of(st.integers(0, 16**6 - 1).map(lambda n: f"{n:06x}"), st.text(max_size=12))
    return st.tuples(spellings, guesses).map(lambda sg: sg[0].format(sg[1])).filter(
        lambda t: t.strip().lower() != room.token)


@settings(max_examples=25, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(1, 30))
def test_join_token_guesses_are_few_per_address_and_per_room_and_a_429_tells_nothing(data, addresses, rounds):
    room, clock = Room(), Clock()
    app = ClassApp(room, clock)
    compared: dict[str, int] = {}
    guesses = data.draw(st.lists(wrong_token(room), min_size=1, max_size=15))
    for turn in range(rounds):
        for i in range(addresses):
            address = f"127.0.{i // 250}.{i % 250 + 2}"
            status = join(app, guesses[(turn + i) % len(guesses)], address)
            assert status in (400, 403, 429)
            compared[address] = compared.get(address, 0) + (status == 403)
        clock.t += data.draw(st.sampled_from([0.0, 0.5, 3.0]))
    window = 1 + int(clock.t - 1000) // WRONG_TOKENS.window
    assert all(n <= WRONG_TOKENS.per_address * window for n in compared.values())
    assert sum(compared.values()) <= WRONG_TOKENS_ROOM.per_address * window
    blocked = next((a for a, n in compared.items() if n >= WRONG_TOKENS.per_address), None)
    if blocked is not None and clock.t - 1000 < WRONG_TOKENS.window:
        # the right token from a blocked address is not compared either: no oracle in the 429
        assert join(app, room.token, blocked) == 429
    clock.t += WRONG_TOKENS.window + 1
    assert join(app, room.token, "127.0.0.1", "Ada") == 200  # the window passes; a student joins


def test_a_guessing_address_over_real_http_leaves_other_students_their_join():
    room = Room()
    with AuthServer(ClassApp(room)) as server:
        statuses = []
        with socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.2", 0)) as s:
            s.settimeout(5)
            reader = s.makefile("rb")
            for n in range(WRONG_TOKENS.per_address + 5):
                guess = f"{(int(room.token, 16) + 1 + n) % 16**6:06x}"
                body = json.dumps({"name": "eve", "token": guess}).encode()
                s.sendall(b"POST /class/join HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (server.port, len(body), body))
                status = int(reader.readline().split()[1])
                length = 0
                while (line := reader.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                statuses.append(status)
        assert statuses.count(403) == WRONG_TOKENS.per_address and statuses[-1] == 429
        ada = requests.post(server.url + "/class/join", json={"name": "Ada", "token": room.token}, timeout=5)
        assert ada.status_code == 200  # from another address: not held up by the guesser
        assert server.handler_errors == 0
