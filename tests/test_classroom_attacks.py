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
@given(st.data(), st.integers(1, 12), st.integers(1, 30), st.sampled_from([None, 60, 150]))
def test_join_token_guesses_are_few_per_address_and_per_room_and_a_429_tells_nothing(data, addresses, rounds, room_limit):
    from authcli.server.policy import LoginLimits
    from authcli.server.throttle import LoginThrottle

    room, clock = Room(), Clock()
    app = ClassApp(room, clock)
    room_limits = WRONG_TOKENS_ROOM if room_limit is None else LoginLimits(room_limit, room_limit, window=60)
    app.room_guesses = LoginThrottle(room_limits, clock)  # a smaller room, so few addresses reach it
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
    assert sum(compared.values()) <= room_limits.per_address * window
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


def names() -> st.SearchStrategy[str]:
    """Names the room accepts, weighted to markup, links and formulas."""
    from authcli.classroom.room import clean_name
    from authcli.errors import HttpError

    def valid(text: str) -> str | None:
        try:
            return clean_name(text)
        except HttpError:
            return None

    markup = st.sampled_from(["<img src=x onerror=alert(1)>", "[prize](http://evil.example)", "**b**", "`c`",
                              "&amp;", "&#60;b&#62;", "\\|", "|", "www.evil.example", "<http://x>", "![i](x)",
                              "=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)", "_i_", "~~s~~", "# h"])
    parts = st.lists(st.one_of(markup, st.text(max_size=6)), min_size=1, max_size=4).map("".join)
    return parts.map(valid).filter(lambda n: n is not None)


@settings(max_examples=80, deadline=None)
@given(st.lists(names(), min_size=1, max_size=4))
def test_a_name_in_the_markdown_report_is_text_never_a_tag_link_or_emphasis(shown):
    from markdown_it import MarkdownIt

    from authcli.classroom.report import Report, StudentGain
    from authcli.render import classroom as paper
    from authcli.render.escape import printable

    report = Report(students=[StudentGain(n, 50.0, 75.0, 0.5) for n in shown])
    tokens = MarkdownIt("commonmark").enable("table").parse(paper.markdown(report))
    body = tokens[[t.type for t in tokens].index("tbody_open"):]
    cells = [t for t in body if t.type == "inline"][::4]  # the first cell of each row: the name
    assert len(cells) == len(shown)
    for cell, name in zip(cells, shown):
        assert {c.type for c in cell.children} <= {"text"}, (name, cell.children)
        assert "".join(c.content for c in cell.children) == printable(name)


@settings(max_examples=80, deadline=None)
@given(st.lists(names(), min_size=1, max_size=4))
def test_a_name_in_the_csv_report_never_starts_a_formula(shown):
    import csv
    import io

    from authcli.classroom.report import Report, StudentGain
    from authcli.render import classroom as paper

    rows = list(csv.reader(io.StringIO(paper.csv_text(Report(students=[StudentGain(n, 1.0, 2.0, 0.1) for n in shown])))))
    assert [r[0].removeprefix("'") for r in rows[1:-1]] == [n for n in shown]
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400)), max_size=300),
       st.sampled_from(["127.0.0.{}", "fd00:0:0:{}::1", "fd00::{}"]))
def test_one_address_cannot_fill_the_class_with_made_up_names(flood, joins, form):
    from authcli.classroom.room import MAX_STUDENTS, NAMES_PER_ADDRESS
    from authcli.errors import HttpError
    from authcli.server.transport.limits import address_key

    room = Room()
    brought: dict[object, set[str]] = {}
    for who, n in [(0, 1000 + i) for i in range(flood)] + joins:
        address = address_key((form.format(who + 1), 5000))
        try:
            room.join(f"bot {n}", room.token, address, room.codes.get(f"bot {n}"))  # its own, or a new name
        except HttpError as err:
            assert err.status == 409 and f"bot {n}" not in room.names
            assert len(brought.get(address, ())) >= NAMES_PER_ADDRESS or len(room.names) >= MAX_STUDENTS
            continue
        if f"bot {n}" not in {m for s in brought.values() for m in s}:
            brought.setdefault(address, set()).add(f"bot {n}")
    assert all(len(names) <= NAMES_PER_ADDRESS for names in brought.values())
    assert len(room.names) >= min(flood, NAMES_PER_ADDRESS)
    # the addresses that were capped still rejoin names they brought; a new address still joins
    for address, names in brought.items():
        name = next(iter(names))
        assert room.join(name, room.token, address, room.codes[name])[1] == name
    assert room.join("Latecomer", room.token, address_key(("127.0.9.9", 1)))[1] == "Latecomer"


@settings(max_examples=60, deadline=None)
@given(names(), st.lists(st.one_of(st.none(), st.text(max_size=8), st.integers(0, 16**6 - 1).map("{:06x}".format)),
                         max_size=6),
       st.sampled_from(["{}", " {} ", "{}".upper(), "{}x"]))
def test_knowing_the_token_and_a_name_is_not_enough_to_answer_or_read_as_that_student(name, guesses, spelling):
    from authcli.classroom.room import Question

    room, clock = Room(), Clock()
    app = ClassApp(room, clock)
    room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
    seat, _ = room.join(name, room.token, "127.0.0.2")
    room.answer(seat, "q", "200")
    code = room.codes[name.casefold()]
    for guess in guesses:
        if isinstance(guess, str) and guess.strip().lower() == code:
            continue
        spoof = {"name": spelling.format(name).strip() if spelling != "{}x" else name, "token": room.token,
                 "code": guess}
        body = json.dumps(spoof).encode()
        status = app.handle(Request("POST", "/class/join", "HTTP/1.1", [("Host", "127.0.0.1"),
                            ("Content-Type", "application/json")], body, peer=("127.0.0.3", 1))).status
        assert status in (400, 403, 429)  # never a seat under the name: no answers read, none sent
    assert room.mine(seat) == {"q": "200"} and sum(1 for n in room.seats.values() if n == name.casefold()) == 1
    # the student's own rejoin code, as typed on another device, is a seat with the answers kept
    again, shown = room.join(name.upper() if name.upper().casefold() == name.casefold() else name, room.token,
                             "127.0.0.4", f" {code.upper()} ")
    assert room.mine(again) == {"q": "200"} and room.student(seat) == room.student(again)


def test_in_chromium_a_second_device_rejoins_with_the_code_and_a_classmate_without_it_does_not(browser):
    from playwright.sync_api import expect

    from authcli.classroom.room import Question

    room = Room()
    with AuthServer(ClassApp(room)) as server:
        room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
        phone, laptop, eve = (browser.new_context().new_page() for _ in range(3))
        phone.goto(f"{server.url}/#t={room.token}")
        phone.fill("#join [name=name]", "Ada <b>")
        phone.click("#join-button")
        expect(phone.locator("#me")).to_have_text("Ada <b>")
        code = phone.locator("#code").inner_text()
        assert code == room.codes["ada <b>"]
        phone.click(".question[data-key='q'] button[data-choice='401']")
        expect(phone.locator("#status")).to_contain_text("Answer sent: 401")
        eve.goto(f"{server.url}/#t={room.token}")
        eve.fill("#join [name=name]", "ADA <b>")
        eve.click("#join-button")
        expect(eve.locator("#status")).to_contain_text("rejoin code")
        assert eve.locator("#room").is_hidden()
        laptop.goto(f"{server.url}/#t={room.token}")
        laptop.fill("#join [name=name]", "ada <b>")
        laptop.fill("#join [name=code]", code.upper())
        laptop.click("#join-button")
        expect(laptop.locator("#me")).to_have_text("Ada <b>")
        expect(laptop.locator(".question[data-key='q'] button.chosen")).to_have_text("401")
        for page in (phone, laptop, eve):
            page.context.close()
        assert server.handler_errors == 0
