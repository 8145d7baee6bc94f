"""Steps on a terminal with rich: one renderable per step, printed once."""

from __future__ import annotations

import time

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from authcli.render import text as plain
from authcli.render.parts import hanging, table
from authcli.render.token import checks_renderable, token_renderable, warnings_renderable
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs.model import CookieView, ServerView, Step, WalkthroughInfo

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


def _store(snapshot: StoreSnapshot) -> RenderableType:
    """Each record as `sessionStore["id"] -> {...}`, the handout's own notation."""
    parts: list[RenderableType] = [Text(plain.store_title(snapshot), style="bold")]
    if snapshot.backend == "redis":
        for line in plain.redis_cli_lines(snapshot):
            parts.append(Text("  " + line, style="cyan" if line.startswith("> ") else "", overflow="fold"))
        return Group(*parts, "")
    for key, value, ttl in plain.store_rows(snapshot):
        parts.append(Text.assemble("  ", (key, "cyan"), (f"  ({ttl})", "dim")))
        parts.append(hanging([("    ->", Text(value))]))
    return Group(*parts, "")


def _jar(jar: list[CookieView]) -> RenderableType:
    """Each cookie on its own line, its attributes under it: IDs stay whole at 80 columns."""
    parts: list[RenderableType] = [Text(plain.jar_title(jar), style="bold")]
    for cookie, attributes in plain.jar_rows(jar):
        parts.append(Text("  " + cookie, style="yellow", overflow="fold"))
        parts.append(hanging([("   ", Text(attributes, style="dim"))]))
    return Group(*parts, "")


def _server_panel(view: ServerView) -> Panel:
    title = f"{view.name} · {view.url}" if view.url else f"{view.name} · stopped"
    body: RenderableType = _store(view.store) if view.store is not None else Text("not running", style="dim")
    return Panel(body, title=title, title_align="left", box=box.ROUNDED)


def step_renderable(step: Step) -> RenderableType:
    """Everything one step shows, top to bottom."""
    title = f"Step {step.number} · {step.title}" if step.number is not None else step.title
    parts: list[RenderableType] = [Rule(Text(title, style="bold"), align="left"), ""]
    for para in step.text:
        parts += [Text(para), ""]
    if step.warnings:
        parts.append(warnings_renderable(step.warnings))
    if step.exchange is not None:
        ex = step.exchange
        parts.append(Panel(_http_block(plain.request_lines(ex.request)), box=box.ROUNDED,
                           title="client -> server (as the server received it)", title_align="left"))
        parts.append(Panel(_http_block(plain.response_lines(ex.response), ex.response.status),
                           box=box.ROUNDED, title="server -> client (as the client received it)",
                           title_align="left"))
        if ex.server:
            parts.append(Text("What the server did:", style="bold"))
            parts += [hanging([("  •", Text(e.message)) for e in ex.server]), ""]
    if step.token is not None:
        parts.append(token_renderable(step.token))
    if step.checks:
        parts.append(checks_renderable(step.checks, "The server's checks:"))
    if step.notes:
        parts += [hanging([(Text("  " + n.term, style="bold"), Text(n.text)) for n in step.notes]), ""]
    if step.store is not None:
        parts.append(_store(step.store))
    if step.servers:
        # Side by side whatever the width: comparing the stores is the point.
        grid = RichTable.grid(expand=True, padding=(0, 1))
        for _ in step.servers:
            grid.add_column(ratio=1)
        grid.add_row(*(_server_panel(view) for view in step.servers))
        parts += [grid, ""]
    if step.cookie_jar is not None:
        parts.append(_jar(step.cookie_jar))
    for extra in step.tables:
        parts.append(table(extra.title, extra.columns, extra.rows))
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
