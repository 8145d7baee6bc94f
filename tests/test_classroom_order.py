"""Every state a student must see reaches every open stream, in order: a teacher on piped input
(or quick with Enter) reveals and asks the next question within a millisecond, and each device
still gets the reveal; a device that drops catches up from its Last-Event-ID; a device that
never reads delays no one and is dropped."""

from __future__ import annotations

import json
import socket
import threading
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli.classroom.bank import ITEMS
from authcli.classroom.client import Student, _chunks, parse_events
from authcli.classroom.results import Results
from authcli.classroom.room import Question, Room
from authcli.cli.classroom_run import Teacher
from authcli.server.journal import Request
from authcli.server.schemes.classroom import ClassApp
from authcli.server.transport.httpd import AuthServer
from test_classroom import WAIT, Listener

STREAM_BOUND = 1.0  # what a stalled phone may cost the teacher or the others, at most


def recording(app: ClassApp) -> list[dict]:
    """Every state the room tells the class from now on, in the order it told them."""
    told: list[dict] = []
    publish = app.room.on_change

    def tell(state: dict) -> None:
        told.append(state)
        publish(state)
    app.room.on_change = tell
    return told


def question(n: int) -> Question:
    return Question(f"predict:{n}", f"Step {n}: Status of GET /profile now?", ("200", "401"), "401",
                    "the session expired", "GET /profile HTTP/1.1")


def lesson(room: Room, predicts: int, pre: bool = True, post: bool = True, pause: float = 0.0) -> float:
    """A teacher whose Enter is piped in: every question closes the moment it opens. Seconds taken."""
    def enter(prompt: str) -> str:
        if pause:
            time.sleep(pause)
        return ""

    teacher = Teacher(room, Results(":memory:", "none"), enter, lambda line: None)
    started = time.monotonic()
    teacher.wait("Students are joining. Enter: start")
    if pre:
        teacher.check("pre")
    for n in range(1, predicts + 1):
        teacher.predict([question(n)])
    if post:
        teacher.check("post")
    teacher.finish()
    return time.monotonic() - started


def finished(devices: list[Listener]) -> None:
    for device in devices:
        device.until(lambda state: state["phase"] == "done")
        device.thread.join(WAIT)


def test_a_piped_teacher_reaches_every_device_with_every_reveal_and_question_in_order():
    room = Room()
    app = ClassApp(room)
    with AuthServer(app) as server:
        students = [Student(server.url, f"S{i}", room.token) for i in range(5)]
        assert all(s.join().status_code == 200 for s in students)
        devices = [Listener(s) for s in students]
        for device in devices:
            device.until(lambda state: state["phase"] == "waiting")
        told = recording(app)
        lesson(room, predicts=8)
        finished(devices)
        assert server.handler_errors == 0
    phases = [s["phase"] for s in told]
    assert phases.count("reveal") == 8 and phases.count("check") == 2
    for device in devices:
        assert device.states[1:] == told  # after the state it opened on: every one, in order, once
    reveals = [s["revealed"]["results"][0]["key"] for s in devices[0].states if s["phase"] == "reveal"]
    assert reveals == [f"predict:{n}" for n in range(1, 9)]


def test_the_terminal_student_of_class_join_prints_every_reveal_of_a_piped_teacher():
    import io

    from rich.console import Console

    from authcli.cli.classroom_join import follow

    room = Room()
    app = ClassApp(room)
    out = io.StringIO()
    with AuthServer(app) as server:
        student = threading.Thread(target=follow, args=(f"{server.url}/#t={room.token}", "Ada", "",
                                                        lambda prompt: "401", Console(file=out, width=100)))
        student.start()
        deadline = time.monotonic() + WAIT
        while not app.channel.streams and time.monotonic() < deadline:
            time.sleep(0.01)
        lesson(room, predicts=5, pre=False, post=False)
        student.join(WAIT)
    text = out.getvalue()
    assert [f"Step {n}:" in text for n in range(1, 6)] == [True] * 5
    assert text.count("You answered:") == 5 and "The class is over" in text


def test_a_device_that_drops_gets_what_it_missed_in_order_from_its_last_event_id():
    room = Room()
    app = ClassApp(room)
    with AuthServer(app) as server:
        ada = Student(server.url, "Ada", room.token)
        ada.join()
        stream = ada.states(read_timeout=5)
        assert next(stream)["phase"] == "waiting"
        room.ask([question(1)], "predict")
        assert next(stream)["phase"] == "predict"
        held = ada.last_id
        stream.close()  # the phone's Wi-Fi drops
        told = recording(app)
        room.close(reveal=True)
        room.ask([question(2)], "predict")
        room.close(reveal=True)
        again = ada.states(read_timeout=5, resume=True)  # EventSource sends Last-Event-ID by itself
        assert [next(again) for _ in told] == told
        room.finish()
        assert next(again)["phase"] == "done"
        again.close()
        # An id from another run of the server, or none: the state now, one event.
        for last in ("", "0badf00d.1", held.replace(".", "-")):
            ada.last_id = last
            assert next(ada.states(read_timeout=5, resume=True))["phase"] == "done"
        # The query form, for a page that opens a new EventSource after a refusal.
        with ada.http.get(f"{server.url}/class/events?last={held}", stream=True, timeout=5) as raw:
            events = parse_events(_chunks(raw))
            got = [json.loads(next(events)[1]) for _ in told]
        assert got == told and told[-1]["phase"] == "done"
        assert server.handler_errors == 0


def test_a_device_that_never_reads_delays_no_one_and_is_dropped(monkeypatch):
    import authcli.server.transport.stream as stream

    monkeypatch.setattr(stream, "STREAM_LIMIT", 4096)  # the 64 KB of a real one, sooner
    monkeypatch.setattr(stream, "STREAM_STALL", 0.5)   # and its 30 s
    room = Room()
    app = ClassApp(room)
    with AuthServer(app) as server:
        students = [Student(server.url, f"S{i}", room.token) for i in range(3)]
        assert all(s.join().status_code == 200 for s in students)
        stalled = Student(server.url, "Stalled", room.token)
        stalled.join()
        cookie = "; ".join(f"{k}={v}" for k, v in stalled.http.cookies.items())
        dead = socket.socket()
        dead.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a phone asleep: its window fills
        dead.connect(("127.0.0.1", server.port))
        dead.sendall(f"GET /class/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                     f"Cookie: {cookie}\r\n\r\n".encode())
        devices = [Listener(s) for s in students]
        for device in devices:
            device.until(lambda state: state["phase"] == "waiting")
        deadline = time.monotonic() + WAIT
        while len(app.channel.streams) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(app.channel.streams) == 4
        # Loopback's kernel would buffer megabytes for it; a phone on a slow link takes a few KB.
        conn = next(c for c, owner in app.channel.streams.items() if owner == "stalled")
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        told = recording(app)
        took = lesson(room, predicts=40)  # about 40 KB per stream: far past what the dead one holds
        finished(devices)
        assert took < STREAM_BOUND
        for device in devices:
            assert device.states[1:] == told
        deadline = time.monotonic() + WAIT
        while len(app.channel.streams) > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not app.channel.streams, [(o, len(c.outbox)) for c, o in app.channel.streams.items()]
        dead.close()
        assert server.handler_errors == 0


def first_ids(body: str) -> list[str]:
    return [line[4:] for line in body.split("\n") if line.startswith("id: ")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(last=st.one_of(st.text(max_size=40), st.integers(-3, 12).map(lambda n: f"RUN.{n}")))
def test_any_last_event_id_opens_the_stream_on_events_the_server_published(last):
    room = Room()
    app = ClassApp(room)
    for n in range(1, 5):
        room.ask([question(n)], "predict")
        room.close(reveal=True)
    seat, _ = room.join("Ada", room.token)
    last = last.replace("RUN", app.channel.run)
    for target, headers in (("/class/events", [("Last-Event-ID", last)]),
                            (f"/class/events?last={last}", [])):
        response = app.handle(Request("GET", target, "HTTP/1.1",
                                      [("Host", "127.0.0.1"), ("Cookie", f"classSeat={seat}"), *headers]))
        assert response.status == 200
        ids = [int(i.split(".")[1]) for i in first_ids(response.body)]
        assert all(i.split(".")[0] == app.channel.run for i in first_ids(response.body))
        # what followed a known id, in order, or else the newest event; nothing past the newest
        assert ids == list(range(ids[0], app.channel.latest + 1)) if ids else response.stream.seq == app.channel.latest
        assert response.stream.seq == app.channel.latest


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.lists(st.tuples(st.sampled_from(["predict", "predict2", "check", "drop"]),
                               st.sampled_from([0.0, 0.0, 0.001, 0.01])), min_size=1, max_size=10))
def test_any_order_and_timing_of_advances_reaches_every_device_in_order(plan):
    room = Room()
    app = ClassApp(room)
    with AuthServer(app) as server:
        students = [Student(server.url, f"S{i}", room.token) for i in range(3)]
        assert all(s.join().status_code == 200 for s in students)
        devices = [Listener(s) for s in students]
        for device in devices:
            device.until(lambda state: state["phase"] == "waiting")
        told = recording(app)
        teacher = Teacher(room, Results(":memory:", "none"), lambda prompt: "", lambda line: None)
        n = 0
        for kind, pause in plan:
            time.sleep(pause)
            if kind == "check":
                room.ask([Question(f"c{n}:{i.key}", i.prompt, tuple(i.options), i.answer) for i in ITEMS[:3]], "check")
                room.close(reveal=False)
            elif kind == "drop":
                room.ask([], "waiting")
            else:
                teacher.predict([question(n + k) for k in range(1 + (kind == "predict2"))])
            n += 2
        teacher.finish()
        finished(devices)
    for device in devices:
        assert device.states[1:] == told
