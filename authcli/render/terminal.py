"""Steps on a terminal with rich: one renderable per step, printed once."""

from __future__ import annotations

import time

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from authcli.http import CookieView, Exchange
from authcli.render import text as plain
from authcli.render.parts import hanging, table
from authcli.render.text import printable
from authcli.render.token import checks_renderable, token_renderable, warnings_renderable
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs import model as m

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
        elif not in_body and line.startswith("(") and " more: " in line:
            out.append(line, style="dim")  # the folded boilerplate headers
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
    """The store in its own notation: `sessionStore["id"] -> {...}` or redis-cli commands."""
    parts: list[RenderableType] = [Text(printable(snapshot.title), style="bold")]
    transcript = plain.store_transcript(snapshot)
    if transcript is not None:
        for line in transcript:
            parts.append(Text("  " + line, style="cyan" if line.startswith("> ") else "", overflow="fold"))
        return Group(*parts, "")
    for key, value, ttl in plain.store_rows(snapshot):
        parts.append(Text.assemble("  ", (key, "cyan"), (f"  ({ttl})", "dim")))
        parts.append(hanging([("    ->", Text(value))]))
    return Group(*parts, "")


def _nothing_stored(block: m.NothingStored) -> RenderableType:
    return Group(Text(block.text, style="bold"), "")


def _jar(jar: list[CookieView]) -> RenderableType:
    """Each cookie on its own line, its attributes under it: IDs stay whole at 80 columns."""
    parts: list[RenderableType] = [Text(plain.jar_title(jar), style="bold")]
    for cookie, attributes in plain.jar_rows(jar):
        parts.append(Text("  " + cookie, style="yellow", overflow="fold"))
        parts.append(hanging([("   ", Text(attributes, style="dim"))]))
    return Group(*parts, "")


def _server_panel(view: m.ServerView) -> Panel:
    title = f"{view.name} · {view.url}" if view.url else f"{view.name} · stopped"
    if view.url is None:
        body: RenderableType = Text("not running", style="dim")
    elif view.store is None:
        body = _nothing_stored(m.NothingStored())
    else:
        body = _store(view.store)
    return Panel(body, title=title, title_align="left", box=box.ROUNDED)


def _servers(block: m.ServersBlock) -> RenderableType:
    # Side by side whatever the width: comparing the stores is the point.
    grid = RichTable.grid(expand=True, padding=(0, 1))
    for _ in block.views:
        grid.add_column(ratio=1)
    grid.add_row(*(_server_panel(view) for view in block.views))
    return Group(grid, "")


def _exchange(ex: Exchange, fold: bool = False) -> RenderableType:
    shown = plain.fold_boilerplate if fold else (lambda lines: lines)
    parts: list[RenderableType] = [
        Panel(_http_block(shown(plain.request_lines(ex.request))), box=box.ROUNDED,
              title="client -> server (as the server received it)", title_align="left"),
        Panel(_http_block(shown(plain.response_lines(ex.response)), ex.response.status), box=box.ROUNDED,
              title="server -> client (as the client received it)", title_align="left"),
    ]
    if ex.server:
        parts.append(Text("What the server did:", style="bold"))
        parts += [hanging([("  •", Text(printable(e.message))) for e in ex.server]), ""]
    return Group(*parts)


def _narration(block: m.Narration) -> RenderableType:
    # Backticks mark code for the Markdown handout; on a terminal they would show as themselves.
    return Group(*(part for para in block.paragraphs for part in (Text(printable(para).replace("`", "")), "")))


def _notes(block: m.NotesBlock) -> RenderableType:
    return Group(hanging([(Text("  " + printable(n.term), style="bold"), Text(printable(n.text)))
                         for n in block.notes]), "")


def _client_storage(block: m.ClientStorage) -> RenderableType:
    return table(block.title, ["key", "value"], [[k, v] for k, v in block.items.items()])


def _sequence(block: m.Sequence) -> RenderableType:
    lines = [Text(f"  {line}", style="dim" if " --> " in line else "", overflow="fold")
             for line in plain.sequence_lines(block)]
    return Group(Text(plain.SEQUENCE_TITLE + ":", style="bold"), *lines, "")


# One function per block kind; a Wait shows nothing in place (the renderer counts it down).
BLOCKS = {
    m.Narration: _narration,
    m.Warnings: lambda b: warnings_renderable(b.items),
    m.ExchangeBlock: lambda b: _exchange(b.exchange),
    m.TokenBlock: lambda b: token_renderable(b.view),
    m.ChecksBlock: lambda b: checks_renderable(b.checks, b.title),
    m.NotesBlock: _notes,
    m.StoreBlock: lambda b: _store(b.snapshot),
    m.NothingStored: _nothing_stored,
    m.ServersBlock: _servers,
    m.JarBlock: lambda b: _jar(b.cookies),
    m.ClientStorage: _client_storage,
    m.TableBlock: lambda b: table(b.table.title, b.table.columns, b.table.rows),
    m.Sequence: _sequence,
    m.Wait: lambda b: Group(),
}


def step_renderable(step: m.Step, *, fold_headers: bool = False) -> RenderableType:
    """Everything one step shows, top to bottom, in the order of its blocks. `fold_headers`
    (--step mode) folds the boilerplate headers into one line."""
    title = f"Step {step.number} · {step.title}" if step.number is not None else step.title
    blocks = {**BLOCKS, m.ExchangeBlock: lambda b: _exchange(b.exchange, fold=True)} if fold_headers else BLOCKS
    return Group(Rule(Text(printable(title), style="bold"), align="left"), "",
                 *(blocks[type(block)](block) for block in step.blocks))


class TerminalRenderer:
    """Prints each step as it comes; animates waits on a real terminal."""

    def __init__(self, console: Console, *, fold_headers: bool = False):
        self.console = console
        self.fold_headers = fold_headers

    def start(self, info: m.WalkthroughInfo) -> None:
        self.console.print(Text(f"authcli demo {info.name}: {info.title}", style="bold"))
        self.console.print()

    def new_screen(self) -> None:
        """--step mode: each step starts on a clean screen (a projector shows one at a time)."""
        if self.console.is_terminal:
            self.console.clear()

    def step(self, step: m.Step) -> None:
        self.console.print(step_renderable(step, fold_headers=self.fold_headers))
        wait = step.first(m.Wait)
        if wait and wait.seconds and self.console.is_terminal:
            self._countdown(wait)

    def _countdown(self, wait: m.Wait) -> None:
        deadline = time.monotonic() + wait.seconds
        with self.console.status("") as status:
            while (left := deadline - time.monotonic()) > 0:
                status.update(f"{wait.label} {left:4.1f} s ...")
                time.sleep(min(0.1, left))

    def end(self) -> None:
        pass
