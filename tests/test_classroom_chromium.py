"""A class of simulated students through a real demo with a concept check before and after: three
HTTP clients reading the Server-Sent Events and two real Chromium pages (two browser contexts,
two phones) answering by clicks. Asserted from the SQLite results: every student's stored answers
(the pages' included), the histograms each page showed at each reveal equal the stored ones, and
the normalized gains of the report equal hand-computed ones."""

from __future__ import annotations

import io
import sqlite3

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the hint
    expect = None

from authcli.classroom.bank import ITEMS
from authcli.classroom.client import Student
from authcli.classroom.report import build
from authcli.classroom.results import Results
from authcli.classroom.room import Room
from authcli.cli.classroom_run import Teacher, teach
from authcli.render import base as formats
from authcli.server.schemes.classroom import ClassApp
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt import INFO, jwt_walkthrough
from test_browser import page, watch
from test_classroom import Listener

FIXTURES = (page,)  # pytest finds the Chromium page fixture by its name in this module

HTTP = ["Ada", "Bob", "Cy"]
PAGES = ["Grace", "Hedy"]
NAMES = HTTP + PAGES
# Items right in each check: the first n items of the bank right, the rest wrong.
PRE = {"Ada": 4, "Bob": 8, "Cy": 0, "Grace": 2, "Hedy": 6}
POST = {"Ada": 12, "Bob": 8, "Cy": 4, "Grace": 10, "Hedy": 16}

# What a page showed in #results: each revealed question's histogram, as its bars read.
SHOWN = """() => [...document.querySelectorAll('#results .question')].map((part) => {
  const histogram = {};
  for (const line of part.querySelectorAll(':scope > div')) {
    const spans = line.querySelectorAll('span');
    histogram[spans[0].textContent.trim()] = parseInt(spans[2].textContent.trim(), 10);
  }
  const right = part.querySelector(':scope > div.right span').textContent.trim();
  return {histogram, right, mine: part.querySelector('p.dim').textContent};
})"""


def check_choice(item, name: str, kind: str, i: int) -> str:
    right = (PRE if kind == "pre" else POST)[name]
    return item.answer if i < right else next(c for c in item.options if c != item.answer)


def predict_choice(question, name: str, n: int) -> str:
    """The n-th predict question: a different part of the room right each time."""
    right = {"Ada", "Grace"} if n % 2 == 0 else {"Bob", "Cy", "Hedy"}
    return question.answer if name in right else next(c for c in question.choices if c != question.answer)


def click(tab, key: str, choice: str, wait: bool = False) -> None:
    """A tap on a choice; `wait`: until the server took it (else `answered` waits for them all)."""
    button = tab.locator(f".question[data-key='{key}'] button[data-choice='{choice}']")
    button.click()
    if wait:
        expect(button).to_have_class("chosen")


def answered(tab, open_questions: int) -> None:
    """Every open question's answer sent and taken (a button is marked chosen on a 200)."""
    expect(tab.locator("#questions button.chosen")).to_have_count(open_questions)


class Lesson:
    """The teacher's Enter key and projector, driving the students at each question."""

    def __init__(self, room: Room, students: list[Student], tabs: dict):
        self.room, self.students, self.tabs = room, students, tabs
        self.devices = [Listener(s) for s in students]
        self.expected: dict[str, dict[str, str]] = {n.casefold(): {} for n in NAMES}  # student -> key -> choice
        self.seen: dict[str, list[dict]] = {n: [] for n in NAMES}  # each reveal as each device showed it
        self.asked = 0

    def enter(self, prompt: str) -> str:
        if self.room.phase == "check":
            kind = next(iter(self.room.open)).split(":")[0]
            for i, item in enumerate(ITEMS):
                key = f"{kind}:{item.key}"
                for s in self.students:
                    self._send(s.name, key, check_choice(item, s.name, kind, i), s)
                for name, tab in self.tabs.items():
                    if i == 0:  # a change of mind on a phone replaces the first answer
                        click(tab, key, next(c for c in item.options if c != check_choice(item, name, kind, i)), True)
                    self._send(name, key, check_choice(item, name, kind, i), tab)
        elif self.room.phase == "predict":
            for key, q in self.room.open.items():
                for tab in self.tabs.values():  # the request about to be sent is on the phone
                    expect(tab.locator(f".question[data-key='{key}'] pre")).to_contain_text(" HTTP/1.1")
                for name in NAMES:
                    device = self.tabs.get(name) or next(s for s in self.students if s.name == name)
                    self._send(name, key, predict_choice(q, name, self.asked), device)
                self.asked += 1
        for tab in self.tabs.values():
            answered(tab, len(self.room.open))
        return ""

    def _send(self, name: str, key: str, choice: str, device) -> None:
        if isinstance(device, Student):
            assert device.answer(key, choice).status_code == 200
        else:
            click(device, key, choice)
        self.expected[name.casefold()][key] = choice

    def revealed(self, keys: list[str]) -> None:
        """The room shows the answers: what each device has on screen, before the demo goes on."""
        for name, tab in self.tabs.items():
            expect(tab.locator("#phase")).to_have_text("Revealed.")
            expect(tab.locator("#results .question")).to_have_count(len(keys))
            self.seen[name] += [{"key": k, **shown} for k, shown in zip(keys, tab.evaluate(SHOWN))]
        for device in self.devices:
            state = device.until(lambda st: st["phase"] == "reveal"
                                 and [r["key"] for r in st["revealed"]["results"]] == keys)
            self.seen[device.student.name] += [{"key": r["key"], "histogram": r["histogram"]}
                                               for r in state["revealed"]["results"]]


class Watching(Teacher):
    def __init__(self, lesson: Lesson, *args):
        super().__init__(*args)
        self.lesson = lesson

    def predict(self, questions) -> None:
        super().predict(questions)
        self.lesson.revealed([q.key for q in questions])


def join(tab, url: str, name: str) -> None:
    tab.goto(url)
    tab.fill("#join [name=name]", name)
    tab.click("#join-button")
    expect(tab.locator("#me")).to_have_text(name)
    expect(tab.locator("#phase")).to_have_text("Waiting for the next question.")  # the stream is open


def test_a_class_with_two_chromium_pages_through_a_demo_with_a_pre_and_post_check(page, tmp_path):
    from rich.console import Console

    room = Room()
    db = str(tmp_path / "class.sqlite")
    hedy_context = page.context.browser.new_context()  # a second phone: its own cookies and stream
    hedy = hedy_context.new_page()
    hedy.problems = []
    watch(hedy, hedy.problems)
    try:
        with AuthServer(ClassApp(room)) as server:
            url = f"{server.url}/#t={room.token}"
            tabs = {"Grace": page, "Hedy": hedy}
            for name, tab in tabs.items():
                join(tab, url, name)
            students = [Student(url, n, "") for n in HTTP]
            assert all(s.join().status_code == 200 for s in students)
            lesson = Lesson(room, students, tabs)
            out = io.StringIO()
            renderer = formats.make(formats.DEFAULT, formats.Output(out, lambda: Console(file=out, width=100)))
            teacher = Watching(lesson, room, Results(db, "jwt"), lesson.enter, lambda line: None)
            steps = jwt_walkthrough(make_signing_key("HS256", None), 3)
            teach(teacher, pre=True, post=True, demo=(INFO, steps), renderer=renderer)
            for tab in tabs.values():
                expect(tab.locator("#phase")).to_have_text("The class is over. Thank you!")
            for device in lesson.devices:
                device.until(lambda st: st["phase"] == "done")
                device.thread.join(10)
            assert server.handler_errors == 0
        assert page.problems == [] and hedy.problems == []
    finally:
        hedy_context.close()
    assert lesson.asked >= 4

    conn = sqlite3.connect(db)
    stored: dict[str, dict[str, str]] = {}
    for student, key, choice in conn.execute("SELECT student, key, choice FROM answers"):
        stored.setdefault(student, {})[key] = choice
    assert stored == lesson.expected  # every answer once, the last one sent; the pages' included
    histograms = {}
    for key, choice, n in conn.execute("SELECT key, choice, COUNT(*) FROM answers WHERE key LIKE 'predict:%' "
                                       "GROUP BY key, choice"):
        histograms.setdefault(key, {})[choice] = n
    answers = dict(conn.execute("SELECT key, answer FROM questions WHERE kind = 'predict'").fetchall())
    for name in NAMES:
        seen = lesson.seen[name]
        assert [s["key"] for s in seen] == [f"predict:{i}" for i in range(1, lesson.asked + 1)]
        for shown in seen:
            assert {c: n for c, n in shown["histogram"].items() if n} == histograms[shown["key"]]
            if name in PAGES:
                assert shown["right"] == answers[shown["key"]]
                assert shown["mine"] == f"You answered: {lesson.expected[name.casefold()][shown['key']]}."

    report = build(conn)
    n = len(ITEMS)
    by_name = {s.name: s for s in report.students}
    for name in NAMES:
        pre, post = 100 * PRE[name] / n, 100 * POST[name] / n
        assert by_name[name].pre == pytest.approx(pre) and by_name[name].post == pytest.approx(post)
        assert by_name[name].gain == pytest.approx((post - pre) / (100 - pre))
    # By hand (16 items): pre 25, 50, 0, 12.5, 37.5 -> 25; post 75, 50, 25, 62.5, 100 -> 62.5.
    assert report.class_pre == pytest.approx(25.0) and report.class_post == pytest.approx(62.5)
    assert report.class_gain == pytest.approx(0.5)
    assert [p.answered for p in report.predictions] == [len(NAMES)] * lesson.asked


# Every state the page's EventSource was given, with its id, before the page's own handler runs.
RECORD = """(() => {
  const Source = window.EventSource;
  window.received = [];
  window.EventSource = class extends Source {
    constructor(...args) {
      super(...args);
      this.addEventListener("state", (e) => window.received.push([e.lastEventId, JSON.parse(e.data)]));
    }
  };
})();"""


def test_a_piped_teacher_reaches_a_chromium_page_with_every_state_even_across_a_dropped_stream(page):
    import socket

    from test_classroom_order import question, recording

    room = Room()
    app = ClassApp(room)
    page.add_init_script(RECORD)
    with AuthServer(app) as server:
        join(page, f"{server.url}/#t={room.token}", "Grace")
        told = recording(app)
        teacher = Teacher(room, Results(":memory:", "none"), lambda prompt: "", lambda line: None)
        for n in (1, 2, 3):  # Enter piped in: each reveal replaced by the next question at once
            teacher.predict([question(n)])
        page.wait_for_function("() => window.received.length === 7")  # the state it opened on, then 6
        [conn] = app.channel.streams  # the phone's Wi-Fi drops: the server's end goes away
        conn.sock.shutdown(socket.SHUT_RDWR)
        for n in (4, 5, 6):  # while it is away (EventSource waits `retry: 1000` ms)
            teacher.predict([question(n)])
        teacher.finish()
        expect(page.locator("#phase")).to_have_text("The class is over. Thank you!")
        received = page.evaluate("window.received")
        resumed = [r.request.header_values("Last-Event-ID") for r in server.records_since(0)
                   if r.request.path == "/class/events"]
        assert server.handler_errors == 0
    assert resumed == [[], [received[6][0]]]  # Chromium sent back the id of the last event it had
    assert [state for _, state in received[1:]] == told  # each reveal and question, in order, once
    seqs = [int(i.split(".")[1]) for i, _ in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(received)))
    # The last reveal stays on the phone after the class ends, marked as the last one.
    expect(page.locator("#previous")).to_be_visible()
    expect(page.locator("#results .question")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Step 6:")
    assert page.problems == []
