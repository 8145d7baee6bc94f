"""Steps on a terminal with rich: one renderable per step, printed once."""

from __future__ import annotations

import time

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from authcli.render import text as plain
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs.model import Step, WalkthroughInfo

CREDENTIAL_HEADERS = {"cookie", "set-cookie", "authorization"}


def _http_block(lines: list[str], status: int | None = None) -> Text:
    out = Text(overflow="fold")
    in_body = False
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        if i == 0:
            style = "bold"
            if status is not None:
                style += " green" if status < 300 else " red" if status >= 400 else " yellow"
            out.append(line, style=style)
        elif not line and not in_body:
            in_body = True
        elif in_body:
            out.append(line)
        else:
            name, _, value = line.partition(": ")
            hot = name.lower() in CREDENTIAL_HEADERS
            out.append(name, style="bold yellow" if hot else "cyan")
            out.append(": ")
            out.append(value, style="yellow" if hot else "")
    return out


def _table(title: str, columns: list[str], rows: list[list[str]]) -> RenderableType:
    heading = Text(title, style="bold")
    if not rows:
        return Group(heading, "")
    table = RichTable(box=box.SIMPLE_HEAD, expand=False, show_edge=False)
    for i, column in enumerate(columns):
        # The first column holds IDs and keys: keep them whole so they can be compared by eye.
        table.add_column(column, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return Group(heading, table, "")


def _store(snapshot: StoreSnapshot) -> RenderableType:
    """Each record as `sessionStore["id"] -> {...}`, the handout's own notation."""
    parts: list[RenderableType] = [Text(plain.store_title(snapshot), style="bold")]
    for key, value, ttl in plain.store_rows(snapshot):
        parts.append(Text.assemble("  ", (key, "cyan"), (f"  ({ttl})", "dim")))
        parts.append(_hanging([("    ->", Text(value))]))
    return Group(*parts, "")


def _hanging(rows: list[tuple[Text | str, Text | str]]) -> RichTable:
    """Two columns, the second wrapping under itself: bullets and term: explanation lists."""
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for left, right in rows:
        grid.add_row(left, right)
    return grid


def step_renderable(step: Step) -> RenderableType:
    """Everything one step shows, top to bottom."""
    title = f"Step {step.number} · {step.title}" if step.number is not None else step.title
    parts: list[RenderableType] = [Rule(Text(title, style="bold"), align="left"), ""]
    for para in step.text:
        parts += [Text(para), ""]
    if step.exchange is not None:
        ex = step.exchange
        parts.append(Panel(_http_block(plain.request_lines(ex.request)), box=box.ROUNDED,
                           title="client -> server (as the server received it)", title_align="left"))
        parts.append(Panel(_http_block(plain.response_lines(ex.response), ex.response.status),
                           box=box.ROUNDED, title="server -> client (as the client received it)",
                           title_align="left"))
        if ex.server:
            parts.append(Text("What the server did:", style="bold"))
            parts += [_hanging([("  •", Text(e.message)) for e in ex.server]), ""]
    if step.notes:
        parts += [_hanging([(Text("  " + n.term, style="bold"), Text(n.text)) for n in step.notes]), ""]
    if step.store is not None:
        parts.append(_store(step.store))
    if step.cookie_jar is not None:
        parts.append(_table(plain.jar_title(step.cookie_jar), plain.JAR_COLUMNS, plain.jar_rows(step.cookie_jar)))
    for table in step.tables:
        parts.append(_table(table.title, table.columns, table.rows))
    return Group(*parts)


class TerminalRenderer:
    """Prints each step as it comes; animates waits on a real terminal."""

    def __init__(self, console: Console):
        self.console = console

    def start(self, info: WalkthroughInfo) -> None:
        self.console.print(Text(f"authcli demo {info.name}: {info.title}", style="bold"))
        self.console.print()

    def step(self, step: Step) -> None:
        self.console.print(step_renderable(step))
        if step.wait and self.console.is_terminal:
            self._countdown(step.wait)

    def _countdown(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with self.console.status("") as status:
            while (left := deadline - time.monotonic()) > 0:
                status.update(f"session expires in {left:4.1f} s ...")
                time.sleep(min(0.1, left))

    def end(self) -> None:
        pass
