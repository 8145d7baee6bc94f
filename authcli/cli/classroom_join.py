"""`authcli class join`: a student at a terminal follows the room and answers each question."""

from __future__ import annotations

from authcli.classroom.client import Student
from authcli.errors import UsageError
from authcli.render.classroom import histogram_lines
from authcli.render.escape import printable

# The server writes a comment every 15 s on a quiet stream: this much silence means it is gone.
STREAM_SILENCE = 60.0
# A dropped stream (Wi-Fi, the server closing a stream that fell behind) is opened again from the
# last event read, as EventSource does: this many times in a row, RETRY seconds apart (the
# server's `retry:`), before the class counts as gone.
RECONNECTS = 3
RETRY = 1.0


def _say(console, line: str = "") -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _ask_one(student: Student, q: dict, ask, console) -> None:
    _say(console)
    _say(console, printable(str(q.get("prompt", ""))))
    for line in str(q.get("request", "")).split("\n"):
        _say(console, "  " + printable(line))
    choices = [str(c) for c in q.get("choices", [])]
    for choice, label in zip(choices, q.get("labels") or []):
        _say(console, f"  {printable(choice)}) {printable(str(label))}")
    while True:
        reply = ask(f"[{'/'.join(map(printable, choices))}] ")
        if reply is None or not reply.strip():
            return
        sent = student.answer(str(q.get("key", "")), reply)
        if sent.ok:
            _say(console, f"Sent: {printable(reply.strip())}")
            return
        _say(console, f"Not counted: {printable(sent.text.strip())[:200]}")
        if sent.status_code != 400:
            return


def _reveal(revealed: dict, answers: dict, console) -> None:
    for r in revealed.get("results", []):
        _say(console, printable(str(r.get("prompt", ""))))
        histogram = {str(k): int(v) for k, v in dict(r.get("histogram", {})).items()}
        for line in histogram_lines(histogram, str(r.get("answer", ""))):
            _say(console, printable(line))
        mine = answers.get(r.get("key"), "nothing")
        _say(console, f"{printable(str(r.get('reason', '')))} You answered: {printable(str(mine))}.")


def follow(url: str, name: str, token: str, ask, console, code: str = "") -> None:
    import requests

    student = Student(url, name, token, code=code)
    try:
        _follow(student, ask, console)
    except requests.RequestException as err:
        raise UsageError(f"the class at {printable(student.base)[:100]} cannot be reached: "
                         f"{type(err).__name__}") from None
    finally:
        student.close()


def _follow(student: Student, ask, console) -> None:
    joined = student.join()
    if not joined.ok:
        raise UsageError(f"not joined: {printable(joined.text.strip())[:200]}")
    _say(console, f"Joined as {printable(joined.json()['name'])} (rejoin code {printable(student.code)}: "
                  "joining again as this name, on another device, needs it). Waiting for the teacher.")
    import time

    import requests

    seen: set[str] = set()
    drops = 0
    while True:
        try:
            for state in student.states(read_timeout=STREAM_SILENCE, resume=True):
                drops = 0
                for q in state.get("questions", []):
                    if q.get("key") not in seen:
                        seen.add(q.get("key"))
                        _ask_one(student, q, ask, console)
                if state.get("phase") == "reveal" and state.get("revealed"):
                    _reveal(state["revealed"], student.answers, console)
                if state.get("phase") == "done":
                    _say(console, "The class is over. Thank you!")
                    return
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            pass
        drops += 1
        if drops > RECONNECTS:
            raise UsageError("the class server went away")
        time.sleep(RETRY)
