"""The README's class-mode pictures: the teacher's terminal (an SVG from rich's recording) and a
student's phone (a PNG from the headless Chromium the tests use), at the same reveal.

    python docs/class_screenshots.py   # writes docs/class-teacher.svg and docs/class-student.png

A real class server on port 0, 24 simulated students (HTTP clients) and one Chromium page
predict the session demo's first step; the teacher closes the question and the histogram shows.
Needs Chromium and Playwright (pip install '.[browser]').
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from rich.console import Console

from authcli.browser import find_chromium
from authcli.classroom.client import Student
from authcli.classroom.results import Results
from authcli.classroom.room import Room
from authcli.cli.classroom_run import ClassPlayer, Teacher
from authcli.render import base as formats
from authcli.server.schemes.classroom import ClassApp
from authcli.server.transport.httpd import AuthServer
from authcli.walkthroughs.session import INFO, session_walkthrough

HERE = Path(__file__).resolve().parent


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("screenshots need Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    console = Console(record=True, width=92, force_terminal=True, color_system="truecolor", file=open("/dev/null", "w"))
    rng = random.Random(4)
    room = Room()
    with AuthServer(ClassApp(room)) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        phone = browser.new_context(viewport={"width": 390, "height": 720}).new_page()
        phone.goto(f"{server.url}/#t={room.token}")
        phone.fill("#join [name=name]", "Ada")
        phone.click("#join-button")
        expect(phone.locator("#me")).to_have_text("Ada")
        students = [Student(server.url, f"student {i}", room.token) for i in range(24)]
        for s in students:
            s.join()

        def enter(prompt: str) -> str:
            for key, q in room.open.items():
                phone.click(f".question[data-key='{key}'] button[data-choice='{q.choices[0]}']")
                for s in students:
                    s.answer(key, q.answer if rng.random() < 0.6 else rng.choice(q.choices))
            # the prompt as the live count has it by the time the teacher presses Enter
            console.print(f"{prompt.rsplit(' (', 1)[0]} ({teacher.counted()})", markup=False, highlight=False)
            return ""

        results = Results(":memory:", "session")
        teacher = Teacher(room, results, enter, lambda line: console.print(line, markup=False, highlight=False))
        renderer = formats.make(formats.DEFAULT, formats.Output(console.file, lambda: console))
        renderer.start(INFO)
        player = ClassPlayer(teacher, renderer, INFO, pauses=False)
        steps = session_walkthrough(60)
        while not teacher.asked:  # up to the first step with a question
            player.play(next(steps))
        steps.close()
        expect(phone.locator("#results")).to_contain_text("You answered")
        phone.screenshot(path=str(HERE / "class-student.png"), full_page=True)
        browser.close()
    console.save_svg(str(HERE / "class-teacher.svg"), title="authcli class start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
