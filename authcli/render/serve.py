"""`authcli serve` on a terminal: the banner and one line per request, network text escaped."""

from __future__ import annotations

from authcli.clock import local_hms

from rich.text import Text

from authcli.render.escape import printable
from authcli.server.lab.crosssite import LONG_RUN, SHOWN
from authcli.server.journal import RequestRecord


def _shortened(text: str) -> str:
    """Every long base64url run (a session ID, a jti, a token's parts) cut to its first
    characters: a log on a projector in a classroom must not hand anyone a usable credential."""
    return LONG_RUN.sub(lambda m: f"{m.group(0)[:SHOWN]}... ({len(m.group(0))} characters)", text)


def store_state(count: int | None, stateless: bool) -> str:
    if stateless:
        return "[stateless]"
    if count is None:
        return "[store: unavailable]"
    return f"[store: {count} session{'s' if count != 1 else ''}]"


_ANSI = {"dim": "\x1b[2m", "bold": "\x1b[1m", "green": "\x1b[32m", "red": "\x1b[31m", "": ""}


def log_line(record: RequestRecord, state: str, *, color: bool) -> str:
    """`12:00:01 GET /profile 200 [store: 1 session] what the server decided`, every byte from the
    network escaped, ready to write: one logical line, wrapped by the terminal, never cut (the
    reason for a 401 is the point). Built by hand: a few microseconds, where rich's renderer
    cost more than answering the request did."""
    request = record.request
    parts = [(local_hms() + " ", "dim"),
             (printable(_shortened(f"{request.method} {request.target}")) + " ", "bold"),
             (str(record.status), "green" if record.status < 400 else "red"),
             (f" {state} ", "dim"),
             ("; ".join(printable(_shortened(e.message)) for e in record.events), "")]
    if not color:
        return "".join(text for text, _ in parts) + "\n"
    return "".join(f"{_ANSI[style]}{text}\x1b[0m" if style else text for text, style in parts) + "\n"


def banner(mode: str, url: str, lifetime: str) -> Text:
    return Text.assemble(("authcli serve", "bold"), f" --mode {mode}: listening on ",
                         (url, "bold cyan"), f" ({lifetime})")


def classroom_warning(host: str, email: str, password: str, urls: list[str]) -> Text:
    reach = ", ".join(urls) if urls else "this machine's addresses"
    return Text.assemble(
        ("TEACHING SERVER, reachable from other machines", "bold red"),
        f" ({host}). The demo user {email} / {password} is public: anyone on this network can "
        f"log in. Run it on a classroom network only, and stop it after class.\nStudents open: ",
        (reach, "bold cyan"))
