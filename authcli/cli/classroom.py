"""`authcli class ...`: the whole room predicts on live traffic (start, join, report)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from authcli.cli.common import read_answer, reports_errors, stderr_console, stdout_console
from authcli.errors import UsageError

app = typer.Typer(help="Class mode: students predict each step from their own devices; a concept check "
                  "before and after gives the class's normalized gain.", no_args_is_help=True,
                  rich_markup_mode=None)

DB = typer.Option("authcli-class.sqlite", "--db", metavar="PATH", help="The results file (SQLite) on this machine.")


class Demo(str, Enum):
    session = "session"
    jwt = "jwt"
    none = "none"


def _report_formats() -> type[Enum]:
    from authcli.render.reportformats import REPORT_FORMATS

    return Enum("ReportFormat", {name: name for name in REPORT_FORMATS}, type=str)  # type: ignore[return-value]


ReportFormat = _report_formats()


def _asker(typed: bool):
    console = stderr_console()

    def ask(prompt: str) -> str | None:
        if typed:
            try:
                return console.input(prompt, markup=False)
            except EOFError:
                return None
        console.print(prompt, markup=False, highlight=False, end="")
        reply = read_answer(sys.stdin)
        console.print(reply if reply is not None else "(no more input)", markup=False, highlight=False)
        return reply
    return ask


def _demo(stack, demo: Demo, ttl: int):
    from authcli.cli.common import open_store, signing_key

    if demo is Demo.session:
        from authcli.walkthroughs.session import INFO, session_walkthrough

        from authcli.stores import DEFAULT

        source = open_store(stack, DEFAULT, None)  # the room watches one process's memory
        return INFO, session_walkthrough(ttl, make_store=source.make)
    if demo is Demo.jwt:
        from authcli.walkthroughs.jwt import INFO, jwt_walkthrough

        return INFO, jwt_walkthrough(signing_key("HS256", None), ttl)
    return None


def _join_url(server, token: str) -> str:
    from authcli.server.transport.hosts import interface_addresses

    host = server.host
    if host in ("0.0.0.0", "::"):
        host = (interface_addresses() or ["127.0.0.1"])[0]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.port}/#t={token}"


def _banner(url: str, token: str, qr: Optional[Path]) -> None:
    from authcli.classroom import qr as codes

    out = stdout_console()
    text = codes.terminal_text(url) if sys.stdout.isatty() else None
    out.print(f"Class open: {url.split('#')[0]}   join token: {token}", markup=False, highlight=False)
    out.print(f"Students: open the URL{' (or scan the code)' if text else ''}, type a name and the token; or run\n"
              f"  authcli class join '{url}' --name NAME", markup=False, highlight=False)
    if text is not None:
        out.print(text, markup=False, highlight=False)
    if qr is not None:
        codes.save(url, qr)
        out.print(f"QR code written to {qr}", markup=False, highlight=False)


@app.command("start")
@reports_errors
def start(
    host: str = typer.Option("127.0.0.1", "--host", help="0.0.0.0 lets students on the room's network join."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="0 picks a free port (printed)."),
    demo: Demo = typer.Option(Demo.session, "--demo", help="The walkthrough the class predicts on."),
    pre: bool = typer.Option(False, "--pre", help="The concept check before the demo."),
    post: bool = typer.Option(False, "--post", help="The concept check after the demo."),
    ttl: int = typer.Option(3, "--ttl", min=1, max=3600, metavar="SECONDS", help="The demo's lifetime."),
    db: str = DB,
    qr: Optional[Path] = typer.Option(None, "--qr", metavar="FILE", help="Also write the join QR code (.png or .svg)."),
) -> None:
    """Open the class: students join with a name and the printed token, then predict each step.

    Enter (on this terminal, or a line on stdin) starts, closes each question and shows its
    histogram, then the real response. Results go to --db.

    \b
    Example: authcli class start --host 0.0.0.0 --port 8000 --pre --post
    """
    from contextlib import ExitStack

    from authcli.classroom.results import Results
    from authcli.classroom.room import Room
    from authcli.cli.classroom_run import Teacher, teach
    from authcli.render import base as formats
    from authcli.server.schemes.classroom import ClassApp
    from authcli.server.transport.httpd import AuthServer

    if demo is Demo.none and not (pre or post):
        raise UsageError("--demo none runs the concept check alone: add --pre or --post")
    room = Room()
    with ExitStack() as stack:
        results = Results(db, demo.value)
        server = stack.enter_context(AuthServer(ClassApp(room), host, port))
        url = _join_url(server, room.token)
        _banner(url, room.token, qr)
        typed = sys.stdin.isatty()
        out = stdout_console()
        err = sys.stderr
        live = (lambda line: (err.write(f"\r\x1b[K{line}"), err.flush())) if typed else None
        teacher = Teacher(room, results, _asker(typed), lambda line: out.print(line, markup=False, highlight=False),
                          live)
        renderer = formats.make(formats.DEFAULT, formats.Output(sys.stdout, stdout_console))
        teach(teacher, pre=pre, post=post, demo=_demo(stack, demo, ttl), renderer=renderer, pauses=typed)
        room_settles(server)
        out.print(f"Class closed. Results: {db}  (authcli class report --db {db})", markup=False, highlight=False,
                  soft_wrap=True)


def room_settles(server, seconds: float = 0.5) -> None:
    """The 'class is over' event reaches every open page before the server stops."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.app.channel.backlog():
        time.sleep(0.02)
    time.sleep(0.05)


@app.command("join")
@reports_errors
def join(
    url: str = typer.Argument(..., help="The URL the teacher's screen shows (with #t=TOKEN, or give --token)."),
    name: str = typer.Option(..., "--name", help="Your name, as the teacher will see it."),
    token: str = typer.Option("", "--token", help="The join token on the teacher's screen."),
    code: str = typer.Option("", "--code", help="Your rejoin code, to join again as a name that joined before."),
) -> None:
    """Join a class from a terminal: answer each question as it comes (one line each).

    \b
    Example: authcli class join 'http://192.168.1.20:8000/#t=3fa9c1' --name Ada
    """
    from authcli.cli.classroom_join import follow

    follow(url, name, token, _asker(sys.stdin.isatty()), stdout_console(), code)


@app.command("report")
@reports_errors
def report(
    db: str = DB,
    fmt: ReportFormat = typer.Option(next(iter(ReportFormat)).value, "--format", "-f",
                                     help=", ".join(f.value for f in ReportFormat) + "."),
) -> None:
    """What the class learned: normalized gains, most-missed items, misconceptions, predictions.

    \b
    Example: authcli class report --format html > report.html
    """
    from authcli.classroom.report import build
    from authcli.classroom.results import connect
    from authcli.render import classroom as paper

    conn = connect(db, create=False)
    try:
        data = build(conn)
    finally:
        conn.close()
    if not data.students and not data.predictions:
        raise UsageError(f"{db} holds no answers yet")
    from authcli.render.reportformats import REPORT_FORMATS

    sys.stdout.write(getattr(paper, REPORT_FORMATS[fmt.value])(data))
