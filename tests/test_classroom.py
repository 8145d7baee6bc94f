"""Class mode: a room of simulated students (HTTP clients reading the Server-Sent Events) through
a demo with its --predict questions and a concept check before and after; the stored answers,
the histograms and the gains asserted from the data. Then hostile students."""

from __future__ import annotations

import io
import sqlite3
import threading
import time

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from authcli.classroom.bank import ITEMS
from authcli.classroom.client import Student
from authcli.classroom.report import build, gain
from authcli.classroom.results import Results
from authcli.classroom.room import MAX_NAME, Question, Room
from authcli.errors import UsageError
from authcli.cli.classroom_run import Teacher, teach
from authcli.render import base as formats
from authcli.render import classroom as paper
from authcli.server.schemes.classroom import ClassApp
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt import INFO, jwt_walkthrough

WAIT = 10.0


class Listener:
    """A student's device: every state the room streamed to it, read on its own thread."""

    def __init__(self, student: Student):
        self.student = student
        self.states: list[dict] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self) -> None:
        try:
            for state in self.student.states(read_timeout=WAIT * 3):
                with self.changed:
                    self.states.append(state)
                    self.changed.notify_all()
                if state["phase"] == "done":
                    return
        except requests.RequestException:
            return

    def until(self, test) -> dict:
        deadline = time.monotonic() + WAIT
        with self.changed:
            while True:
                found = next((s for s in reversed(self.states) if test(s)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                assert left > 0, f"no such state; last: {self.states[-1:]}"
                self.changed.wait(left)


@pytest.fixture
def classroom(tmp_path):
    room = Room()
    app = ClassApp(room)
    with AuthServer(app) as server:
        yield room, server, str(tmp_path / "class.sqlite")
        assert server.handler_errors == 0


def wrong(question: Question | dict) -> str:
    choices = question.choices if isinstance(question, Question) else question["choices"]
    answer = question.answer if isinstance(question, Question) else None
    return next(c for c in choices if c != answer)


def test_a_class_predicts_through_a_demo_and_the_report_gives_its_gains(classroom):
    room, server, db = classroom
    names = ["Ada", "Bob", "Cy", "Dee", "Eve"]
    students = [Student(f"{server.url}/#t={room.token}", n, "") for n in names]
    assert all(s.join().status_code == 200 for s in students)
    devices = [Listener(s) for s in students]
    pre_right = {"Ada": 4, "Bob": 8, "Cy": 12, "Dee": 16, "Eve": 0}  # items right before
    post_right = {"Ada": 12, "Bob": 12, "Cy": 16, "Dee": 16, "Eve": 4}
    expected: list[dict[str, int]] = []   # each predict question's histogram

    def on_enter(prompt: str) -> str:
        phase = room.phase
        if phase == "check":
            kind = next(iter(room.open)).split(":")[0]
            plan = pre_right if kind == "pre" else post_right
            for s in students:
                for i, item in enumerate(ITEMS):
                    s.answer(f"{kind}:{item.key}", wrong(Question("", "", tuple(item.options), item.answer)))
                    if i < plan[s.name]:  # a resubmission replaces the wrong answer
                        assert s.answer(f"{kind}:{item.key}", item.answer).status_code == 200
        elif phase == "predict":
            for key, q in room.open.items():
                for d in devices:  # every device sees the question and the request, never the answer
                    shown = d.until(lambda st: any(x["key"] == key for x in st["questions"]))
                    public = next(x for x in shown["questions"] if x["key"] == key)
                    assert "answer" not in public and public["request"].count(" HTTP/1.1") >= 1
                right = {"Ada", "Bob", "Cy"} if len(expected) % 2 == 0 else {"Ada"}
                for s in students:
                    assert s.answer(key, q.answer if s.name in right else wrong(q)).status_code == 200
                hist = {c: 0 for c in q.choices}
                hist[q.answer] += len(right)
                hist[wrong(q)] += len(names) - len(right)
                expected.append(hist)
        return ""

    results = Results(db, "jwt")
    out = io.StringIO()
    from rich.console import Console
    renderer = formats.make(formats.DEFAULT, formats.Output(out, lambda: Console(file=out, width=100)))
    shown: list[str] = []
    teacher = Teacher(room, results, on_enter, shown.append)
    steps = jwt_walkthrough(make_signing_key("HS256", None), 3)  # the default: a loaded machine keeps up
    teach(teacher, pre=True, post=True, demo=(INFO, steps), renderer=renderer)

    # A late answer (after the reveal) is refused and changes nothing.
    late_key = "predict:1"
    assert students[0].answer(late_key, "401").status_code == 409
    for d in devices:
        d.until(lambda st: st["phase"] == "done")
        d.thread.join(WAIT)
    # Each device saw each reveal with the histogram the room tallied.
    reveals = [r for st in devices[0].states if st["phase"] == "reveal" for r in st["revealed"]["results"]]
    assert [r["histogram"] for r in dict((r["key"], r) for r in reveals).values()] == expected

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = conn.execute("SELECT key, COUNT(*) FROM answers GROUP BY key").fetchall()
    assert rows and all(n == len(names) for _, n in rows)  # once per student, resubmissions replaced
    assert len(rows) == len(expected) + 2 * len(ITEMS)
    stored = [dict(conn.execute("SELECT choice, COUNT(*) FROM answers WHERE key = ? GROUP BY choice",
                                (f"predict:{i}",)).fetchall()) for i in range(1, len(expected) + 1)]
    assert stored == [{c: n for c, n in h.items() if n} for h in expected]
    report = build(conn)
    n = len(ITEMS)
    by_name = {s.name: s for s in report.students}
    for name in names:
        pre, post = 100 * pre_right[name] / n, 100 * post_right[name] / n
        assert by_name[name].pre == pytest.approx(pre) and by_name[name].post == pytest.approx(post)
        assert by_name[name].gain == (None if pre == 100 else pytest.approx((post - pre) / (100 - pre)))
    class_pre = sum(100 * v / n for v in pre_right.values()) / len(names)
    class_post = sum(100 * v / n for v in post_right.values()) / len(names)
    assert report.class_gain == pytest.approx((class_post - class_pre) / (100 - class_pre))
    assert report.check == "post" and report.missed and report.beliefs
    assert all(p.answered == len(names) for p in report.predictions)
    assert any("answered" in line for line in shown) and any("<- right" in line for line in shown)
    assert "Class gain" in paper.markdown(report)


def test_a_student_who_drops_and_rejoins_keeps_their_answers(classroom):
    room, server, _ = classroom
    room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
    first = Student(server.url, "Ada Lovelace", room.token)
    first.join()
    assert first.answer("q", "200").status_code == 200
    first.close()  # the phone's browser is gone
    again = Student(server.url, "  ada   LOVELACE ", room.token, code=f" {first.code.upper()} ")
    joined = again.join()
    assert joined.json() == {"name": "Ada Lovelace", "answers": {"q": "200"}, "code": first.code, "qr": True}
    assert again.answer("q", "401").status_code == 200
    [tally] = room.close(reveal=True)
    assert tally.histogram == {"200": 0, "401": 1} and len(room.names) == 1


def test_the_teacher_sees_the_count_live_while_a_question_is_open(classroom, tmp_path):
    room, server, db = classroom
    lines: list[str] = []
    ada = Student(server.url, "Ada", room.token)
    ada.join()

    def enter(prompt: str) -> str:
        assert prompt.endswith("(0/1 answered) ")
        ada.answer("q", "401")
        deadline = time.monotonic() + 5
        while not any(line.endswith("(1/1 answered) ") for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
        return ""

    teacher = Teacher(room, Results(db, "none"), enter, lambda line: None, lines.append)
    [tally] = teacher.poll([Question("q", "Status?", ("200", "401"), "401")], "predict", "Enter: close")
    assert tally.histogram == {"200": 0, "401": 1}


def test_a_stream_outlives_the_idle_timeout_and_ends_when_its_client_goes(tmp_path):
    room = Room()
    app = ClassApp(room)
    with AuthServer(app, request_timeout=0.5) as server:
        student = Student(server.url, "Ada", room.token)
        student.join()
        states = student.states(read_timeout=5)
        assert next(states)["phase"] == "waiting"
        time.sleep(1.0)  # twice the idle timeout: a stream is not idle
        room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
        assert next(states)["questions"][0]["key"] == "q"
        states.close()
        deadline = time.monotonic() + 5
        while app.channel.streams and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not app.channel.streams and server.handler_errors == 0


def test_one_student_may_hold_a_few_streams_not_the_address_s_share(classroom):
    from authcli.server.schemes.classroom import STREAMS_PER_STUDENT

    room, server, _ = classroom
    ada = Student(server.url, "Ada", room.token)
    ada.join()
    pages = [ada.states(read_timeout=5) for _ in range(STREAMS_PER_STUDENT)]
    assert all(next(p)["phase"] == "waiting" for p in pages)
    extra = requests.get(server.url + "/class/events", cookies=ada.http.cookies, timeout=5)
    assert extra.status_code == 429 and extra.headers["Retry-After"]
    bob = Student(server.url, "Bob", room.token)  # another student is not affected
    bob.join()
    assert next(bob.states(read_timeout=5))["phase"] == "waiting"
    pages.pop().close()
    until = time.monotonic() + 5
    while time.monotonic() < until:
        again = ada.states(read_timeout=5)
        try:
            if next(again)["phase"] == "waiting":
                break
        except UsageError:  # 429: the closed page's stream is not given back yet
            time.sleep(0.05)
    else:
        raise AssertionError("a closed page's stream was never given back")


def post(server, path: str, body: bytes | str, headers: dict | None = None, cookie: str = "") -> requests.Response:
    h = {"Content-Type": "application/json", **(headers or {})}
    if cookie:
        h["Cookie"] = cookie
    return requests.post(server.url + path, data=body, headers=h, timeout=5)


def seat(server, room, name="Ada") -> str:
    r = post(server, "/class/join", f'{{"name": "{name}", "token": "{room.token}"}}')
    return r.headers["Set-Cookie"].split(";")[0]


@pytest.mark.parametrize("body, status", [
    ('{"name": "' + "x" * 5000 + '", "token": "T"}', 413),
    ('{"name": "' + "x" * 200 + '", "token": "T"}', 400),
    ('{"name": "a\\u001b[2Jb", "token": "T"}', 400),
    ('{"name": "a\\u202eb", "token": "T"}', 400),
    ('{"name": "\\ud800", "token": "T"}', 400),
    ('{"name": "   ", "token": "T"}', 400),
    ('{"name": 7, "token": "T"}', 400),
    ('{"name": "Ada", "token": "wrong"}', 403),
    ('{"name": "Ada"}', 403),
    ("[1]", 400),
    ("not json", 400),
    ("{" * 5000, 413),
])
def test_hostile_joins_get_a_4xx(classroom, body, status):
    room, server, _ = classroom
    r = post(server, "/class/join", body.replace('"T"', f'"{room.token}"'))
    assert r.status_code == status, r.text
    assert not room.names


def test_hostile_answers_and_cross_site_posts_get_a_4xx(classroom):
    room, server, _ = classroom
    room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
    cookie = seat(server, room)
    assert post(server, "/class/answer", '{"key": "q", "choice": "200"}').status_code == 401
    assert post(server, "/class/answer", '{"key": "q", "choice": "200"}', cookie="classSeat=forged").status_code == 401
    assert post(server, "/class/answer", '{"key": "q", "choice": "500"}', cookie=cookie).status_code == 400
    assert post(server, "/class/answer", '{"key": "zz", "choice": "200"}', cookie=cookie).status_code == 404
    assert post(server, "/class/answer", '{"key": ["q"], "choice": "200"}', cookie=cookie).status_code == 400
    assert post(server, "/class/answer", "key=q", {"Content-Type": "text/plain"}, cookie).status_code == 415
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert post(server, "/class/answer", '{"key": "q", "choice": "200"}', evil, cookie).status_code == 403
    assert post(server, "/class/join", f'{{"name": "Eve", "token": "{room.token}"}}', evil).status_code == 403
    assert requests.get(server.url + "/class/events", timeout=5).status_code == 401
    assert room.answers == {}


def test_a_flood_of_answers_is_one_answer_and_the_server_stays_responsive(classroom):
    room, server, _ = classroom
    room.ask([Question("q", "Status?", ("200", "401"), "401")], "predict")
    cookie = seat(server, room)
    with requests.Session() as http:
        statuses = {http.post(server.url + "/class/answer", json={"key": "q", "choice": c},
                              headers={"Cookie": cookie}, timeout=5).status_code
                    for c in ["200", "401"] * 150}
    assert statuses <= {200, 503}
    other = seat(server, room, "Bob")
    assert post(server, "/class/answer", '{"key": "q", "choice": "200"}', cookie=other).status_code == 200
    assert room.close(reveal=True)[0].histogram == {"200": 1, "401": 1}


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=60))
def test_any_name_gets_a_join_or_a_400_and_a_stored_name_is_printable_text(name):
    import json

    from authcli.render.escape import UNPRINTABLE

    room = Room()
    app = ClassApp(room)
    from authcli.server.journal import Request

    body = json.dumps({"name": name, "token": room.token}).encode()
    response = app.handle(Request("POST", "/class/join", "HTTP/1.1",
                                  [("Host", "127.0.0.1"), ("Content-Type", "application/json")], body))
    assert response.status in (200, 400)
    for shown in room.names.values():
        assert 0 < len(shown) <= MAX_NAME and not UNPRINTABLE.search(shown) and "\n" not in shown


def test_the_report_escapes_names_and_defuses_formulas():
    from authcli.classroom.report import Report, StudentGain

    report = Report(students=[StudentGain("<script>x</script>", 10.0, 55.0, 0.5),
                              StudentGain("=HYPERLINK(1)", 100.0, 100.0, None)])
    assert "<script>" not in paper.html(report) and "&lt;script&gt;" in paper.html(report)
    assert "'=HYPERLINK(1)" in paper.csv_text(report)
    assert gain(100.0, 100.0) is None and gain(20.0, 60.0) == pytest.approx(0.5) and gain(None, 50.0) is None


def test_the_bank_holds_12_to_20_items_each_with_a_source_and_a_misconception_per_wrong_option():
    from authcli.sources import SOURCES

    assert 12 <= len(ITEMS) <= 20 and len({i.key for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        assert item.source in SOURCES and item.answer in item.options
        assert set(item.misconceptions) == set(item.options) - {item.answer}
        assert all(m.strip() for m in item.misconceptions.values())


@pytest.mark.parametrize("host, status", [
    ("192.168.1.20:8000", 200), ("[fe80::1]:8000", 200), ("localhost", 200),
    ('a"><script>', 404), ("a b", 404), ("x" * 200, 404), ("", 404), ("h:99999999", 404),
])
def test_the_page_s_qr_code_holds_the_address_the_device_used_and_only_a_plain_one(host, status):
    from authcli.server.journal import Request

    room = Room()
    app = ClassApp(room)
    seat, _ = room.join("Ada", room.token)
    headers = [("Host", host), ("Cookie", f"classSeat={seat}")]
    response = app.handle(Request("GET", "/class/qr.svg", "HTTP/1.1", headers))
    assert response.status == status
    if status == 200:
        assert response.body.startswith("<svg") and "<script" not in response.body
        assert dict(response.headers)["Content-Type"] == "image/svg+xml"
    assert app.handle(Request("GET", "/class/qr.svg", "HTTP/1.1", headers[:1])).status == 401
