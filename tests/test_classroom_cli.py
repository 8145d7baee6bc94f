"""`authcli class` as a teacher and students use it: the teacher's terminal driven by lines on
stdin, a student joining from a terminal, the report; the QR code read back by a real decoder
(Debian's zbar-tools); two real Chromium pages joining the class."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import requests

from authcli.classroom.client import Student
from test_browser import page

FIXTURES = (page,)  # pytest finds the Chromium page fixture by its name in this module

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}


def authcli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "authcli", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, **kw)


def join_url(teacher: subprocess.Popen) -> str:
    for _ in range(5):
        found = re.search(r"authcli class join '([^']+)'", teacher.stdout.readline())
        if found:
            return found.group(1)
    raise AssertionError("no join line")


def until(test, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not (found := test()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return found


def test_a_teacher_on_stdin_a_student_at_a_terminal_and_the_report(tmp_path):
    db = str(tmp_path / "class.sqlite")
    teacher = authcli("class", "start", "--demo", "none", "--pre", "--db", db)
    try:
        url = join_url(teacher)
        student = authcli("class", "join", url, "--name", "Ada\x1b]0;pwned\x07")
        assert student.wait(10) != 0 and "name may not hold control" in student.stderr.read()
        # One answer a line, in the order the items come; the rest skipped when stdin ends.
        student = authcli("class", "join", url, "--name", "Ada")
        student.stdin.write("b\nc\n")
        student.stdin.flush()
        spy = Student(url, "Bob", "")
        assert spy.join().ok
        teacher.stdin.write("\n")  # start: the pre check opens
        teacher.stdin.flush()
        until(lambda: spy.http.get(spy.base + "/class/me", timeout=5).json()["answers"] == {}
              and "pre:session-lives" in spy.http.get(spy.base + "/class/state", timeout=5).text)
        assert spy.answer("pre:session-lives", "a").ok
        said = []
        while not said or said[-1] != "Sent: c":  # the student's two lines are answered
            said.append(student.stdout.readline().rstrip("\n"))
        out, err = teacher.communicate("\n", timeout=30)  # Enter: close the check
        assert teacher.returncode == 0, err
        assert "The pre check closed: 2 students answered." in out
        s_out, s_err = student.communicate(timeout=10)
        s_out = "\n".join(said) + s_out
        assert "Joined as Ada (rejoin code " in s_out and "Sent: b" in s_out
        assert "The class is over." in s_out and "Traceback" not in s_err
    finally:
        for p in (teacher, student):
            if p.poll() is None:
                p.kill()
    report = subprocess.run([sys.executable, "-m", "authcli", "class", "report", "--db", db, "-f", "csv"],
                            capture_output=True, text=True, env=ENV, timeout=30)
    assert report.returncode == 0, report.stderr
    rows = report.stdout.splitlines()
    assert rows[0] == "student,pre,post,gain"
    # Ada: session-lives b (right), session-id c (right) of 16; Bob: a (wrong).
    assert "Ada,12,-,-" in rows and "Bob,0,-,-" in rows


def test_report_without_results_is_one_line_and_exit_1(tmp_path):
    out = subprocess.run([sys.executable, "-m", "authcli", "class", "report", "--db", str(tmp_path / "none")],
                         capture_output=True, text=True, env=ENV, timeout=30)
    assert out.returncode != 0 and out.stderr.startswith("error: no class results") and "Traceback" not in out.stderr


def test_the_qr_code_decodes_back_to_the_join_url(tmp_path):
    import importlib

    importlib.import_module("segno")  # in the test extras: a missing one is a failure, not a skip
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        if os.environ.get("AUTHCLI_REQUIRE_ZBAR"):
            pytest.fail("AUTHCLI_REQUIRE_ZBAR is set but zbarimg is missing: apt-get install zbar-tools")
        pytest.skip("zbarimg missing: apt-get install zbar-tools")
    from authcli.classroom import qr

    url = "http://192.168.1.20:8000/#t=3fa9c1"
    for name in ("join.png", "join.svg"):
        qr.save(url, tmp_path / name)
    decoded = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "join.png")], capture_output=True,
                             text=True, timeout=30)
    assert decoded.stdout.strip() == url
    assert qr.terminal_text(url).count("\n") > 10


def test_two_chromium_pages_join_answer_and_see_the_reveal(page, tmp_path):
    from playwright.sync_api import expect

    from authcli.classroom.room import Question, Room
    from authcli.server.schemes.classroom import ClassApp
    from authcli.server.transport.httpd import AuthServer

    from test_browser import watch

    room = Room()
    # Two students, two browser contexts (two phones: separate cookie jars and streams).
    other_context = page.context.browser.new_context()
    grace = other_context.new_page()
    grace.problems = []
    watch(grace, grace.problems)
    try:
        with AuthServer(ClassApp(room)) as server:
            for tab, name in ((page, "<b>Ada</b>"), (grace, "Grace")):
                tab.goto(f"{server.url}/#t={room.token}")
                tab.fill("#join [name=name]", name)
                tab.click("#join-button")
                expect(tab.locator("#me")).to_have_text(name)  # text, never markup
            room.ask([Question("predict:1", "Step 4: Status of GET /profile now?", ("200", "401"), "401",
                               "no such session in the store", "GET /profile HTTP/1.1")], "predict")
            expect(page.locator(".question pre")).to_have_text("GET /profile HTTP/1.1")
            page.click(".choices button[data-choice='200']")
            expect(page.locator("#status")).to_have_text("Answer sent: 200")
            page.click(".choices button[data-choice='401']")  # a change of mind replaces
            expect(page.locator("#status")).to_have_text("Answer sent: 401")
            expect(grace.locator(".question pre")).to_have_text("GET /profile HTTP/1.1")
            grace.click(".choices button[data-choice='200']")
            expect(grace.locator("#status")).to_have_text("Answer sent: 200")
            [tally] = room.close(reveal=True)
            assert tally.histogram == {"200": 1, "401": 1} and sorted(tally.answers) == ["<b>ada</b>", "grace"]
            expect(page.locator("#results")).to_contain_text("You answered: 401")
            expect(grace.locator("#results")).to_contain_text("You answered: 200")
            page.reload()  # a phone that slept: its seat cookie brings it back, answers kept
            expect(page.locator("#me")).to_have_text("<b>Ada</b>")
            expect(page.locator("#results")).to_contain_text("You answered: 401")
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["classSeat"]["httpOnly"] and cookies["classSeat"]["sameSite"] == "Strict"
            # The join QR code on a joined page, for a neighbour: it decodes to this address and token.
            page.click("#share summary")
            page.locator("#qr").screenshot(path=str(tmp_path / "qr.png"))
            zbarimg = shutil.which("zbarimg")
            if zbarimg is not None:
                decoded = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "qr.png")], capture_output=True,
                                         text=True, timeout=30)
                assert decoded.stdout.strip() == f"{server.url}/#t={room.token}"
            assert requests.get(f"{server.url}/class/qr.svg", timeout=5).status_code == 401  # it holds the token
            assert page.problems == [] and grace.problems == []
    finally:
        other_context.close()
