"""An exercise's words as plain text lines (the start, hints, the solve, the hardened replay), and
the progress report in text, Markdown, HTML or JSON. What came from the network is escaped."""

from __future__ import annotations

import html
import json

from authcli.render.cite import tagged
from authcli.render.escape import printable

WAITING = "Type h and Enter for a hint (each a step closer), q to quit. Watching the server's journal..."


def start(facts: dict, tools: tuple[str, ...], hints: int) -> list[str]:
    login = facts["login"]
    lines = [
        f"Exercise: {facts['lab']} (run {facts['run']})",
        f"Goal: {facts['goal']}",
        f"Server: {facts['url']}  (deliberately weak, loopback only; it stops when this exercise ends)",
        *([f"Its authorization server: {facts['provider']}  (where the app sends its users to sign in)"]
          if facts.get("provider") else []),
        *([f"Your account: {login['email']} / {login['password']} (user {login['user']}"
           f"{'' if facts.get('oauth') else ', not an admin'}): " + (
               # /authorize alone is a 400 (no client_id): the form comes from a login the app starts
               f"typed into the authorization server's sign-in form, where a login at the app sends you "
               f"(GET {facts['url']}/login answers a redirect to it)" if facts.get("oauth") else
               f"POST {facts['url']}/login with JSON {{\"email\": ..., \"password\": ...}}")]
          if facts.get("account", True) else []),
        f"Tools: {', '.join(tools)}",
    ]
    if facts.get("audience"):
        lines.append(f"Every token this run accepts names its audience (aud) {facts['audience']}: a token "
                     "from another run is refused.")
    leaked = facts.get("leaked")
    if leaked:  # two values or more come as a dict, each on a line of its own (the words' \n)
        said = facts["handed"].format(**leaked) if isinstance(leaked, dict) else facts["handed"].format(value=leaked)
        lines += said.split("\n")
    lines.append(f"{hints} hints: {WAITING}")
    return lines


def hint_line(number: int, total: int, text: str) -> str:
    return f"Hint {number} of {total}: {tagged(text)}"


def attempt_line(method: str, target: str, verdict: str) -> str:
    return f"  {printable(method)} {printable(target)} -> {printable(verdict)}"


def request_lines(request) -> list[str]:
    """The request as the weak server received it, every value escaped."""
    lines = [f"  {printable(request.method)} {printable(request.target)} {printable(request.http_version)}"]
    lines += [f"  {printable(name)}: {printable(value)}" for name, value in request.headers]
    if request.body:
        lines += ["", "  " + printable(request.body.decode("utf-8", "replace"))]
    return lines


def solved(lab: str, flag: str, hints: int, request) -> list[str]:
    return [
        f"solved: {lab}, with {hints} hint{'s' if hints != 1 else ''}. Flag: {flag}",
        "The request that did it, as the weak server's journal recorded it:",
        *request_lines(request),
    ]


def defence(url: str, response, failed: str | None, lesson: str, sent: int = 1, what: str = "") -> list[str]:
    body = response.body.strip().splitlines()[0] if response.body.strip() else response.reason
    if not response.body.strip() and response.header("Location"):  # a redirect says where, and why, in its URL
        body += f", Location: {response.header('Location')}"
    return [
        f"{what} to the hardened server ({url}):" if what else
        f"The same request to the hardened server ({url}):" if sent == 1 else
        f"The same logins to the hardened server ({url}), in order: the answer to login {sent}:",
        f"  {response.status} {printable(body)}",
        *([f"  The check that stopped it: {tagged(printable(failed))}"] if failed else []),
        f"The lesson: {tagged(lesson)}",
    ]


def progress(solves: list, fmt: str) -> str:
    """The solves as a table: text (the default), markdown, html or json."""
    rows = [[printable(c) for c in (s.lab, s.solved_at, f"{s.seconds:.0f} s", str(s.hints), s.flag)]
            for s in solves]
    head = ["lab", "solved (UTC)", "time", "hints", "flag"]
    if fmt == "json":
        return json.dumps({"solved": [s.__dict__ for s in solves]}, indent=2)
    title = f"authcli lab: {len(solves)} exercise{'s' if len(solves) != 1 else ''} solved"
    if fmt in ("markdown", "md"):
        table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        table += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join([f"# {title}", "", *table]) + "\n"
    if fmt == "html":
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows)
        head_row = "".join(f"<th>{h}</th>" for h in head)
        return (f"<!doctype html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>\n"
                f"<h1>{title}</h1>\n<table>\n<tr>{head_row}</tr>\n{cells}</table>\n</html>\n")
    if not rows:
        return "No exercise solved yet: authcli lab --list shows which labs have one."
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows])
