"""Steps on a terminal with rich: one renderable per step, printed once."""

from __future__ import annotations

import time
from typing import Callable

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.table import Table as RichTable
from rich.text import Text

from authcli.defences import DEFENCES
from authcli.http import CookieView, Exchange
from authcli.render import text as plain
from authcli.render.base import Output, Renderer
from authcli.render.cite import terminal_text
from authcli.render.concise import Concise
from authcli.render.parts import TitleRule, hanging, table
from authcli.render.text import printable
from authcli.render.token import checks_renderable, token_renderable, warnings_renderable
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs import model as m

LEGEND = "> request as the server got it, < response as the client got it, * what the server did"
FOLDED = "; (+N more headers): Host, Date... (--all-headers)"
CREDENTIAL_HEADERS = {"cookie", "set-cookie", "authorization"}


def _http_block(lines: list[str], mark: str, status: int | None = None) -> RenderableType:
    """HTTP lines behind a gutter mark, as `curl -v` prints them: `>` sent, `<` received.
    No box: a wrapped line stays under its own text, and a projector loses no rows to borders."""
    rows: list[tuple[Text, Text]] = []
    in_body = False
    for i, line in enumerate(lines):
        if i == 0:
            style = "bold"
            if status is not None:
                style += " green" if status < 300 else " red" if status >= 400 else " yellow"
            request, mark_, folded = line.partition(plain.FOLD_MARK)
            text = Text.assemble((request, style), (mark_ + folded, "dim"))
        elif not line and not in_body:
            in_body, text = True, Text("")
        elif in_body:
            text = Text(line)
        else:
            name, _, value = line.partition(": ")
            hot = name.lower() in CREDENTIAL_HEADERS
            text = Text.assemble((name, "bold yellow" if hot else "cyan"), ": ", (value, "yellow" if hot else ""))
        rows.append((Text(mark, style="bold blue" if mark == ">" else "bold magenta"), text))
    return hanging(rows)


def _store(snapshot: StoreSnapshot, when: str = "", summary: str = "") -> RenderableType:
    """The store in its own notation: `sessionStore["id"] -> {...}` or redis-cli commands."""
    parts: list[RenderableType] = [Text(printable(plain.store_title(snapshot, when)), style="bold")]
    if summary:  # records shown before are not listed again: the title says how many
        parts[0] = Text.assemble(parts[0], (f", {summary}", "dim"))
        if plain.title_only(summary) or not snapshot.rows:
            return Group(parts[0], "")
    transcript = plain.store_transcript(snapshot)
    if transcript is not None:
        # A wrapped command or value stays indented under itself, never back at column 0.
        parts.append(hanging([(" ", Text(line, style="cyan" if line.startswith("> ") else ""))
                              for line in transcript]))
        return Group(*parts, "")
    for key, value, ttl in plain.store_rows(snapshot):
        # The key and its time to live on one line (a shortened key leaves room), the value under it.
        parts.append(hanging([(" ", Text.assemble((key, "cyan"), (f"  ({ttl})", "dim")))]))
        parts.append(hanging([("    ->", Text(value))]))
    return Group(*parts, "")


def _nothing_stored(block: m.NothingStored) -> RenderableType:
    return Group(Text(block.text, style="bold"), "")


def _jar(jar: list[CookieView], holder: str = "Client cookie jar") -> RenderableType:
    """Each cookie on its own line, its attributes under it: IDs stay whole at 80 columns."""
    parts: list[RenderableType] = [Text(plain.jar_title(jar, holder), style="bold")]
    for cookie, attributes in plain.jar_rows(jar):
        parts.append(Text("  " + cookie, style="yellow", overflow="fold"))
        parts.append(hanging([("   ", Text(attributes, style="dim"))]))
    return Group(*parts, "")


def _server_view(view: m.ServerView) -> RenderableType:
    heading = Text(f"Server {view.name} · {view.url or 'stopped'}", style="bold underline")
    if view.url is None:  # one line each when there is nothing to list
        return Group(Text.assemble(heading, (": not running", "dim")), "")
    if view.store is None:
        return Group(Text.assemble(heading, (": no store, no record of logins or tokens", "dim")), "")
    return Group(heading, _store(view.store, summary=view.summary))


class _Servers:
    """Each server and its store: side by side when every store key fits whole in a column
    (comparing the stores is the point), else one under the other. No boxes: piped output
    stays plain text."""

    def __init__(self, block: m.ServersBlock):
        self.block = block

    def __rich_console__(self, console: Console, options):
        views = self.block.views
        widest = max((len(label) for v in views if v.store for label in v.store.labels()), default=0)
        column = max(widest + 6, 40)
        if len(views) > 1 and options.max_width >= len(views) * column + 3 * (len(views) - 1):
            grid = RichTable.grid(expand=True, padding=(0, 3))
            for _ in views:
                grid.add_column(ratio=1)
            grid.add_row(*(_server_view(v) for v in views))
            yield grid
        else:
            yield Group(*(_server_view(v) for v in views))


def _exchange(ex: Exchange, fold: bool = False, events: bool = True) -> RenderableType:
    request, response = plain.request_lines(ex.request), plain.response_lines(ex.response)
    if fold:
        request, response = plain.fold_boilerplate(request), plain.fold_boilerplate(response, response=True)
    parts: list[RenderableType] = [_http_block(request, ">"), _http_block(response, "<", ex.response.status)]
    if ex.server and events:  # curl -v's `*` lines: what happened beside the traffic
        parts.append(hanging([(Text("*", style="bold green"), Text(printable(e.message))) for e in ex.server]))
    return Group(*parts, "")


def _narration(block: m.Narration) -> RenderableType:
    # Backticks mark code for the Markdown handout; on a terminal they would show as themselves.
    return Group(*(part for para in block.paragraphs for part in (terminal_text(para.replace("`", "")), "")))


def _notes(block: m.NotesBlock) -> RenderableType:
    """`term: explanation`, wrapped under the term: a long term costs no column of its own. A
    one-word value (a password hash) goes in a column beside its term instead, folded there."""
    if all(" " not in n.text for n in block.notes):
        return Group(hanging([(Text("  " + printable(n.term), style="bold"), Text(printable(n.text)))
                              for n in block.notes]), "")
    return Group(hanging([(" ", Text.assemble((printable(n.term), "bold"), ": ", terminal_text(n.text)))
                          for n in block.notes]), "")


def _defences(block: m.Defences) -> RenderableType:
    """Each defence on two lines: what it protects against, what it does not."""
    parts: list[RenderableType] = []
    for key in block.keys:
        d = DEFENCES[key]
        cites = "".join(f" [^{k}]" for k in d.sources)
        # A wrapped line goes back under the label's start, not past it: fewer rows at 80 columns.
        parts += [Text("  " + d.name, style="bold"),
                  hanging([("   ", Text.assemble(("protects: ", "green"), terminal_text(d.protects + cites))),
                           ("   ", Text.assemble(("does not: ", "yellow"), terminal_text(d.not_protects)))])]
    return Group(*parts, "")


def _script(block: m.Script) -> RenderableType:
    """The code as it ran, then what it returned after `=>`."""
    rows = [(" ", Text(printable(line), style="cyan")) for line in block.code.splitlines()]
    rows.append(("=>", Text(plain.script_result(block.result), style="yellow")))
    return Group(Text(printable(plain.script_title(block.where)), style="bold"), hanging(rows), "")


def _config(block: m.ConfigBlock) -> RenderableType:
    rows = [(" ", Text(printable(line), style="cyan")) for line in block.lines]
    return Group(Text(printable(block.title), style="bold"), hanging(rows), "")


def _client_storage(block: m.ClientStorage) -> RenderableType:
    rows = [(" ", Text.assemble((printable(k), "bold"), " = ", printable(v))) for k, v in block.items.items()]
    return Group(Text(printable(block.title), style="bold"), hanging(rows), "")


def _sequence(block: m.Sequence) -> RenderableType:
    rows = [(" ", Text(line)) for line in plain.sequence_rows(block)]
    return Group(Text(plain.SEQUENCE_TITLE + " (step, request, what followed):", style="bold"), hanging(rows), "")


# One function per block kind; a Wait shows nothing in place (the renderer counts it down).
BLOCKS = {
    m.Narration: _narration,
    m.Warnings: lambda b: warnings_renderable(b.items),
    m.ExchangeBlock: lambda b: _exchange(b.exchange, events=b.events),
    m.TokenBlock: lambda b: token_renderable(b.view, compact=True),
    m.ChecksBlock: lambda b: checks_renderable(b.checks, b.title),
    m.NotesBlock: _notes,
    m.StoreBlock: lambda b: _store(b.snapshot, b.when, b.summary),
    m.NothingStored: _nothing_stored,
    m.ServersBlock: _Servers,
    m.JarBlock: lambda b: _jar(b.cookies, b.holder),
    m.Script: _script,
    m.ConfigBlock: _config,
    m.ClientStorage: _client_storage,
    m.TableBlock: lambda b: table(b.table.title, b.table.columns, b.table.rows),
    m.Sequence: _sequence,
    m.Wait: lambda b: Group(),
    m.Defences: _defences,
}


def _title(step: m.Step, part: str = "") -> TitleRule:
    title = f"Step {step.number} · {step.title}" if step.number is not None else step.title
    return TitleRule(Text(printable(title) + part, style="bold"))


def _body(step: m.Step, fold_headers: bool) -> list[RenderableType]:
    blocks = {**BLOCKS, m.ExchangeBlock: lambda b: _exchange(b.exchange, True, b.events)} if fold_headers else BLOCKS
    return [blocks[type(block)](block) for block in step.blocks]


def step_renderable(step: m.Step, *, fold_headers: bool = False) -> RenderableType:
    """Everything one step shows, top to bottom, in the order of its blocks. `fold_headers`
    (--step mode) folds the boilerplate headers into one line."""
    return Group(_title(step), *_body(step, fold_headers))  # the rule itself sets the step apart


def _blank(line: list) -> bool:
    return not "".join(segment.text for segment in line).strip()


def _strip(lines: list) -> list:
    """Without the blank lines at either end: a page neither starts nor ends with them."""
    first = next((i for i, line in enumerate(lines) if not _blank(line)), len(lines))
    last = next((i for i in range(len(lines), 0, -1) if not _blank(lines[i - 1])), first)
    return lines[first:last]


def _chunks(console: Console, options, renderables: list[RenderableType]) -> list[list]:
    """A step's blocks as runs of lines a page may break between. A block breaks only between
    its own parts (paragraphs, request and response, one defence and the next); a part one
    line tall (a heading, an intro ending in a colon) stays with the part after it, and blank
    lines with the part before."""
    chunks: list[list] = []
    glue = False
    for renderable in renderables:
        parts = renderable.renderables if isinstance(renderable, Group) else [renderable]
        for part in parts:
            lines = console.render_lines(part, options, pad=False)
            filled = len(_strip(lines))
            if chunks and (glue or not filled):
                chunks[-1] += lines
            else:
                chunks.append(lines)
            if filled:
                glue = filled == 1
    return chunks


def _paginate(chunks: list[list], budget: int, last: int, continued: list) -> list[list]:
    """Chunks into pages of at most `budget` rows, the last at most `last` (the pause's footer
    goes under it). A chunk taller than a page is cut at a line boundary, each cut page ending
    with the `continued` line."""
    def rows(page: list[list]) -> int:
        return len(_strip([line for chunk in page for line in chunk]))

    def cut(lines: list, keep: int) -> list[list]:
        """`lines` as full pages (the marker last), the rest on a page of at most `keep` rows."""
        pages = []
        while len(lines) > keep:
            # full pages, then the last two share what is left (no orphaned line or two);
            # a marked page is never the last
            take = budget - 1 if len(lines) - keep > budget - 1 else min(
                budget - 1, max(len(lines) - keep, -(-len(lines) // 2)))
            pages.append([lines[:take] + [continued]])
            lines = lines[take:]
        return pages + [[lines]]

    pages: list[list[list]] = [[]]
    for chunk in chunks:
        if rows(pages[-1] + [chunk]) <= budget:
            pages[-1].append(chunk)
        elif len(_strip(chunk)) <= budget:
            pages.append([chunk])
        else:
            pages[-1:] = ([pages[-1]] if rows(pages[-1]) else []) + cut(_strip(chunk), budget)
    while rows(pages[-1]) > last:
        page = pages.pop()
        filled = [chunk for chunk in page if _strip(chunk)]
        if len(filled) > 1:
            at = max(i for i, chunk in enumerate(page) if _strip(chunk))
            pages += [page[:at], page[at:]]
        else:
            pages += cut(_strip(filled[0]), last)
    return [_strip([line for chunk in page for line in chunk]) for page in pages if rows(page)]


class TerminalRenderer(Renderer):
    """Prints each step as it comes; animates waits on a real terminal."""

    interactive = True

    @classmethod
    def open(cls, output: Output) -> TerminalRenderer:
        return cls(output.console(), fold_headers=not output.full, concise=not output.full)

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.console.width

    def __init__(self, console: Console, *, fold_headers: bool = False, concise: bool = False):
        self.console = console
        self.fold_headers = fold_headers
        # Credentials whole once then shortened, unchanged stores in one line (render/concise).
        self.concise = Concise(traffic=False) if concise else None
        self.header: RenderableType = Group()
        self.screens = 0

    def start(self, info: m.WalkthroughInfo) -> None:
        self.header = Group(Text(info.heading, style="bold"),
                            Text(LEGEND + (FOLDED if self.fold_headers else ""), style="dim"), "")
        self.console.print(self.header)

    def new_screen(self) -> None:
        """--step mode: each screen starts clean (a projector shows one at a time); the first
        one keeps the heading and the legend."""
        self.screens += 1
        if self.console.is_terminal:
            self.console.clear()
            if self.screens == 1:
                self.console.print(self.header)

    def step(self, step: m.Step) -> None:
        step = self.concise.step(step) if self.concise else step
        self.console.print(step_renderable(step, fold_headers=self.fold_headers))
        self.after(step)

    def pages(self, step: m.Step, footer: Callable[[], list[str]]) -> list[RenderableType]:
        """The step as screens that each fit the terminal, the last with `footer()` (the pause's
        lines) under it, and every one with the prompt; one screen when it fits, or when not
        on a terminal."""
        step = self.concise.step(step) if self.concise else step
        whole = step_renderable(step, fold_headers=self.fold_headers)
        if not self.console.is_terminal:
            return [whole]
        width, height = self.console.size
        options = self.console.options.update(height=None)
        chunks = _chunks(self.console, options, _body(step, self.fold_headers))
        total = len(_strip([line for chunk in chunks for line in chunk]))
        room = height - 2 - 2  # the title rule and the blank line under it; the prompt and a spare row
        if self.screens == 0:  # the first screen also holds the heading
            room -= len(self.console.render_lines(self.header, options))
        last = room - sum(max(1, -(-len(line) // width)) for line in footer())
        if total <= last:
            return [whole]
        continued = self.console.render_lines(Text("(continued on the next page)", style="dim"), options, pad=False)[0]
        cut = _paginate(chunks, max(room, 6), max(last, 6), continued)
        return [Group(_title(step, f" ({i}/{len(cut)})"), "",
                      Segments([seg for line in page for seg in (*line, Segment.line())]))
                for i, page in enumerate(cut, 1)]

    def show(self, page: RenderableType) -> None:
        self.console.print(page)

    def after(self, step: m.Step) -> None:
        wait = step.first(m.Wait)
        if wait and wait.seconds and self.console.is_terminal:
            self._countdown(wait)

    def _countdown(self, wait: m.Wait) -> None:
        deadline = time.monotonic() + wait.seconds
        with self.console.status("") as status:
            while (left := deadline - time.monotonic()) > 0:
                status.update(f"{wait.label} {left:4.1f} s ...")
                time.sleep(min(0.1, left))

    # --predict: the scene before a step, each answer's verdict, the score at the end.
    def teaser(self, step: m.Step, label: str) -> None:
        parts: list[RenderableType] = [Rule(Text(f"{label[:1].upper()}{label[1:]} · what will happen?",
                                                 style="bold"), align="left"), ""]
        if step.predict:
            parts += [Text(printable(step.predict)), ""]
        for block in step.all(m.ExchangeBlock):
            lines = plain.request_lines(block.exchange.request)
            parts += [_http_block(plain.fold_boilerplate(lines) if self.fold_headers else lines, ">"), ""]
        self.console.print(Group(*parts))

    def verdict(self, question, reply: str | None, right: bool) -> None:
        """One line: right, wrong or skipped, the answer, and what decided it."""
        if right:
            head = ("Right: ", "bold green")
        elif reply is None:
            head = ("Skipped: ", "bold yellow")
        else:
            head = (f"Not quite (you said {printable(reply.strip())}): ", "bold red")
        self.console.print(Text.assemble(head, (question.answer, "bold"), " (", printable(question.reason), ")",
                                         no_wrap=True, overflow="ellipsis"))

    def score(self, score) -> None:
        """The tally (a skipped question is neither right nor wrong), then each miss: where,
        what was asked, the right answer."""
        self.console.print()
        skipped = f"; {len(score.skipped)} skipped" if score.skipped else ""
        self.console.print(Text(f"Predictions: {score.right} of {score.answered} answered right{skipped}.",
                                style="bold"))
        for miss in score.missed:
            self.console.print(Text(f"  {miss.where}: {printable(miss.question.prompt)} {miss.question.answer} "
                                    f"(you said {printable(miss.reply)})", style="dim"))
        if score.skipped:
            self.console.print(Text(f"  skipped: {', '.join(dict.fromkeys(score.skipped))}", style="dim"))

