"""Steps as plain text pieces (HTTP lines, table rows); the renderers add colour or Markdown."""

from __future__ import annotations

import json
import math
import re

from authcli.http import CookieView, HttpRequest, HttpResponse
from authcli.render.escape import printable
from authcli.stores.base import StoreSnapshot, count_phrase
from authcli.timefmt import iso

STORE_COLUMNS = ["key", "value", "time to live"]
JAR_COLUMNS = ["cookie", "attributes (as the jar keeps them)"]


def request_lines(request: HttpRequest) -> list[str]:
    lines = [printable(f"{request.method} {request.target} {request.http_version}")]
    lines += [printable(f"{name}: {value}") for name, value in request.headers]
    if request.body:
        lines += ["", printable(request.body, newlines=True)]
    return lines


def response_lines(response: HttpResponse) -> list[str]:
    lines = [printable(f"{response.http_version} {response.status} {response.reason}")]
    lines += [printable(f"{name}: {value}") for name, value in response.headers]
    if response.body:
        lines += ["", printable(response.body.rstrip("\n"), newlines=True)]
    return lines


def expires_in(ttl: float | None) -> str:
    return "no expiry" if ttl is None else f"expires in {math.ceil(ttl)} s"


def store_title(snapshot: StoreSnapshot, when: str = "") -> str:
    return f"{snapshot.title} ({when})" if when else snapshot.title


# Store summaries render/concise gives instead of listing records a reader has just seen.
UNCHANGED = "unchanged"              # every record as last shown
SAME_AS = "the same records as "     # a store shared with the server listed just before


def title_only(summary: str) -> bool:
    """The store's title line says it all: no record is listed under it."""
    return summary == UNCHANGED or summary.startswith(SAME_AS)


def store_rows(snapshot: StoreSnapshot) -> list[list[str]]:
    """Each record as [key in the store's own notation, JSON value, time to live]."""
    return [[printable(label), printable(json.dumps(row.value)), expires_in(row.ttl)]
            for label, row in zip(snapshot.labels(), snapshot.rows)]


def store_transcript(snapshot: StoreSnapshot) -> list[str] | None:
    lines = snapshot.transcript()
    return None if lines is None else [printable(line) for line in lines]


def _cookie_attributes(c: CookieView) -> str:
    attrs = [f"domain {c.domain}", f"path {c.path}"]
    attrs.append("HttpOnly" if c.http_only else "readable by JavaScript")
    attrs.append(f"SameSite={c.same_site}" if c.same_site else "no SameSite")
    attrs.append("Secure" if c.secure else "not Secure")
    attrs.append("no expiry set (a session cookie)" if c.expires is None
                 else f"expires {iso(c.expires)}")
    return ", ".join(attrs)


def jar_rows(jar: list[CookieView]) -> list[list[str]]:
    return [[printable(f"{c.name}={c.value}"), printable(_cookie_attributes(c))] for c in jar]


def jar_title(jar: list[CookieView], holder: str = "Client cookie jar") -> str:
    return f"{holder}: {count_phrase(len(jar), 'cookie')}"


def script_title(where: str) -> str:
    return f"Page script, run in Chromium on {where}:"


def script_result(result: object) -> str:
    """What the script returned, as JSON (a string is shown quoted: "" is an empty answer)."""
    return printable(json.dumps(result, ensure_ascii=False))


SEQUENCE_TITLE = "The traffic of this run, in order"


def sequence_lines(block) -> list[str]:
    """A compact text diagram: `Client -> Server  POST /login (step 2)`, replies dashed, and
    what happened between arrows (a wait, a restart) on a line of its own."""
    width = max(len(lane) for lane in block.lanes)
    lines = []
    for kind, item in block.items():
        if kind == "note":
            lines.append(f"== {printable(item)}")
        else:
            src, dst, text, reply = item
            lines.append(f"{src:>{width}} {'-->' if reply else '-> '} {dst:<{width}}  {printable(text)}")
    return lines


def sequence_rows(block) -> list[str]:
    """One line per request and everything it set off, for a terminal:
    ` 2  POST /login -> write session record -> 200 OK, Set-Cookie`."""
    rows: list[list[str]] = []
    for src, _dst, text, _reply in block.messages:
        if src == block.lanes[0] or not rows:
            rows.append([])
        named = len(block.lanes) > 3 and src not in block.lanes[:2]  # which server, when several
        rows[-1].append(f"{src}: {printable(text)}" if named else printable(text))
    out = []
    for row in rows:  # the step number first, so a row fits 80 columns
        step = re.search(r" \(step (\d+)\)$", row[0])
        if step:
            row[0] = row[0][:step.start()]
        out.append(f"{step.group(1) if step else '':>2}  " + " -> ".join(row))
    return out


def mermaid_lines(block) -> list[str]:
    """The same diagram as Mermaid's sequenceDiagram, which GitHub and GitLab draw."""
    ids = {lane: f"P{i}" for i, lane in enumerate(block.lanes)}
    lines = ["sequenceDiagram"] + [f"    participant {ids[lane]} as {lane}" for lane in block.lanes]
    for kind, item in block.items():
        if kind == "note":
            span = f"{ids[block.lanes[0]]},{ids[block.lanes[-1]]}"
            lines.append(f"    Note over {span}: {_mermaid_label(item)}")
            continue
        src, dst, text, reply = item
        lines.append(f"    {ids[src]}{'-->>' if reply else '->>'}{ids[dst]}: {_mermaid_label(text)}")
    return lines


def _mermaid_label(text: str) -> str:
    # Mermaid reads ';' as the end of a statement and '#' as an entity: neither in a label.
    return printable(text).replace(";", ",").replace("#", "no. ")


# Headers every client or server adds that say nothing about authentication: on a projector
# they push the ones that matter (Cookie, Set-Cookie, Authorization) off the screen. A browser
# adds more (client hints, language); its Sec-Fetch-Site/Mode/Dest stay: CSRF defences read them.
BOILERPLATE = {"host", "user-agent", "accept-encoding", "accept", "connection", "server", "date",
               "content-length", "x-content-type-options",
               "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "accept-language",
               "upgrade-insecure-requests", "sec-fetch-user", "sec-fetch-storage-access", "priority",
               "x-request-id"}  # how the demo finds a request in the journal of the server behind HAProxy
# Shown folded, never replayed away: how a browser request came about beyond Sec-Fetch-Site (the
# header the CSRF check reads), and its cache wishes. A response's Cache-Control stays: no-store is
# a defence.
REQUEST_DETAIL = {"sec-fetch-mode", "sec-fetch-dest", "referer", "cache-control"}
# Left out of a replay: the boilerplate (curl adds its own), and what describes this connection only.
CURL_SKIPS = BOILERPLATE | {"host", "content-length"}


def _curl_args(request: HttpRequest) -> list[str]:
    """The replay's arguments, each option with its value, shell-quoted, control characters escaped."""
    import shlex

    def pair(option: str, value: str) -> str:
        return printable(f"{option} {shlex.quote(value)}")

    args = ["curl", "-i"]
    if request.ca:  # verify the server as the demo's client did: never -k
        args.append(pair("--cacert", request.ca))
    if request.method != "GET" or request.body:
        args.append(pair("-X", request.method))
    for name, value in request.headers:
        if name.lower() not in CURL_SKIPS:
            args.append(pair("-H", f"{name}: {value}"))
    if request.body:
        args.append(pair("--data-raw", request.body))
    args.append(printable(shlex.quote(request.url)))
    return args


def curl_command(request: HttpRequest) -> str:
    """A curl line that sends this request again, with the headers that matter to the server."""
    return " ".join(_curl_args(request))


def curl_lines(request: HttpRequest, width: int, indent: str = "  ") -> list[str]:
    """The same command in lines of at most `width` columns, broken only between arguments
    (an option stays with its value) and continued with a backslash, so it pastes into a shell
    as it is. An argument longer than a line (a JWT) stands alone on its line."""
    lines, line = [], indent + "curl"
    for arg in _curl_args(request)[1:]:
        if len(line) + 1 + len(arg) + 2 <= width:
            line += " " + arg
        else:
            lines.append(line + " \\")
            line = indent + "  " + arg
    return lines + [line]


def fold_boilerplate(lines: list[str], response: bool = False) -> list[str]:
    """The same HTTP lines without the boilerplate headers; the first line says how many were
    left out (`(+5 more headers)`). A response's Content-Type goes too (its body shows what it
    is), and a browser request's Sec-Fetch-Mode/Dest, Referer and Cache-Control."""
    head, hidden = [lines[0]], []
    folded = BOILERPLATE | ({"content-type"} if response else REQUEST_DETAIL)
    for i, line in enumerate(lines[1:], 1):
        if not line:  # the blank line before the body: the rest is the body
            head += lines[i:]
            break
        name = line.split(":", 1)[0]
        if name.lower() in folded:
            hidden.append(name)
        else:
            head.append(line)
    if hidden:
        head[0] += f"{FOLD_MARK}{len(hidden)} more headers)"
    return head


FOLD_MARK = "  (+"
