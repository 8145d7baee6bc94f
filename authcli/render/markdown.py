"""Steps as a Markdown transcript a teacher can hand out."""

from __future__ import annotations

from typing import TextIO

from authcli.defences import DEFENCES
from authcli.http import Exchange
from authcli.render import cite
from authcli.render.base import Output, Renderer
from authcli.render.concise import Concise
from authcli.render import text as plain
from authcli.render import tokentext
from authcli.sources import MARKER, SOURCES
from authcli.stores.base import StoreSnapshot
from authcli.tokens.claims import TokenView
from authcli.walkthroughs import model as m


def _text(value: str) -> str:
    """Prose for Markdown: control characters escaped, and `<id>` kept visible (raw, a Markdown
    renderer would take it for an HTML tag and drop it). A source marker stays a footnote
    reference (`[^rfc7519-4.1.4]`, Markdown's own syntax); the list closes the handout."""
    return cite.replace(plain.printable(value).replace("<", "&lt;").replace(">", "&gt;"),
                        lambda s: f"[^{s.key}]")


def _defences(block: m.Defences) -> list[str]:
    out = []
    for key in block.keys:
        d = DEFENCES[key]
        cites = "".join(f"[^{k}]" for k in d.sources)
        out.append(f"- **{_text(d.name)}** protects: {_text(d.protects)}{cites}. Does not: {_text(d.not_protects)}.")
    return out + [""]


def sources_markdown(keys: list[str]) -> str:
    """The handout's closing list: each source cited, as a Markdown footnote definition."""
    if not keys:
        return ""
    lines = ["## Sources", ""]
    for key in dict.fromkeys(keys):
        s = SOURCES[key]
        lines.append(f"[^{key}]: {s.short}: {s.title}. <{s.url}>")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return _text(value.replace("\n", " ")).replace("|", "\\|")


def _table(title: str, columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = [f"**{_text(title)}**", ""]
    if not rows:
        return lines
    lines.append("| " + " | ".join(_cell(c) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _fence(lines: list[str]) -> list[str]:
    return ["```http", *lines, "```", ""]


def _store(snapshot: StoreSnapshot, when: str = "", summary: str = "") -> list[str]:
    transcript = plain.store_transcript(snapshot)
    title = plain.store_title(snapshot, when)
    if plain.title_only(summary) or (summary and not snapshot.rows):
        return [f"**{_text(title)}**, {_text(summary)}", ""]
    title += f", {summary}" if summary else ""
    if transcript is not None:
        return [f"**{_text(title)}**", "", "```", *transcript, "```", ""]
    return _table(title, plain.STORE_COLUMNS, plain.store_rows(snapshot))


def _nothing_stored(block: m.NothingStored) -> list[str]:
    return [f"**{_text(block.text)}**", ""]


def token_markdown(view: TokenView) -> list[str]:
    out = ["Token (header.payload.signature):", "", "```", view.token, "```", ""]
    out += ["Header:", "", "```json", tokentext.pretty_json(view.header), "```", ""]
    out += ["Payload (encoded, not encrypted):", "", "```json", tokentext.pretty_json(view.payload), "```", ""]
    if view.claims:
        out += _table("Registered claims", tokentext.CLAIM_COLUMNS, tokentext.claim_rows(view))
    return out + [f"Signature: `{tokentext.signature_line(view)}`", ""]


def _exchange(ex: Exchange, events: bool = True, fold: bool = False) -> list[str]:
    request, response = plain.request_lines(ex.request), plain.response_lines(ex.response)
    if fold:
        request, response = plain.fold_boilerplate(request), plain.fold_boilerplate(response, response=True)
    out = ["Request, as the server received it:", ""] + _fence(request)
    out += ["Response, as the client received it:", ""] + _fence(response)
    if ex.server and events:
        out += ["What the server did:", ""] + [f"- `{plain.printable(e.message)}`" for e in ex.server] + [""]
    return out


def _servers(block: m.ServersBlock) -> list[str]:
    out: list[str] = []
    for view in block.views:
        out += [f"**Server {view.name}** ({view.url or 'stopped'})", ""]
        if view.url is not None:
            out += _store(view.store, summary=view.summary) if view.store is not None else _nothing_stored(m.NothingStored())
    return out


# One function per block kind, each returning Markdown lines.
BLOCKS = {
    m.Narration: lambda b: [line for para in b.paragraphs for line in (_text(para), "")],
    m.Warnings: lambda b: [f"> **Warning:** {_text(w)}" for w in b.items] + [""],
    m.ExchangeBlock: lambda b: _exchange(b.exchange, b.events),
    m.TokenBlock: lambda b: token_markdown(b.view),
    m.ChecksBlock: lambda b: [b.title, ""] + [f"- {_text(tokentext.check_line(c))}" for c in b.checks] + [""],
    m.NotesBlock: lambda b: [f"- **{_text(n.term)}**: {_text(n.text)}" for n in b.notes] + [""],
    m.StoreBlock: lambda b: _store(b.snapshot, b.when, b.summary),
    m.NothingStored: _nothing_stored,
    m.ServersBlock: _servers,
    m.JarBlock: lambda b: _table(plain.jar_title(b.cookies, b.holder), plain.JAR_COLUMNS, plain.jar_rows(b.cookies)),
    m.Script: lambda b: [_text(plain.script_title(b.where)), "", "```js", *map(plain.printable, b.code.splitlines()),
                         "```", "", "It returned:", "", "```json", plain.script_result(b.result), "```", ""],
    m.ConfigBlock: lambda b: [_text(b.title), "", "```haproxy", *map(plain.printable, b.lines), "```", ""],
    m.ClientStorage: lambda b: _table(b.title, ["key", "value"], [[k, v] for k, v in b.items.items()]),
    m.TableBlock: lambda b: _table(b.table.title, b.table.columns, b.table.rows),
    m.Sequence: lambda b: [f"**{plain.SEQUENCE_TITLE}**", "", "```mermaid", *plain.mermaid_lines(b), "```", ""],
    m.Wait: lambda b: [],
    m.Defences: _defences,
}


def step_markdown(step: m.Step, fold_headers: bool = False) -> str:
    title = f"Step {step.number}. {step.title}" if step.number is not None else step.title
    out = [f"## {_text(title)}", ""]
    blocks = {**BLOCKS, m.ExchangeBlock: lambda b: _exchange(b.exchange, b.events, True)} if fold_headers else BLOCKS
    for block in step.blocks:
        out += blocks[type(block)](block)
    return "\n".join(out)


class MarkdownRenderer(Renderer):
    """`concise`: boilerplate headers folded, credentials whole once then shortened, unchanged
    stores in one line, as on the terminal (render/concise)."""

    @classmethod
    def open(cls, output: Output) -> MarkdownRenderer:
        return cls(output.out, concise=not output.full)

    def __init__(self, out: TextIO, *, concise: bool = False):
        self.out = out
        self.cited: list[str] = []
        self.concise = Concise() if concise else None

    def start(self, info: m.WalkthroughInfo) -> None:
        self.out.write(f"# {info.heading}\n\n")

    def step(self, step: m.Step) -> None:
        text = step_markdown(self.concise.step(step), True) if self.concise else step_markdown(step)
        self.cited += [match.group(1) for match in MARKER.finditer(text) if match.group(1) in SOURCES]
        self.out.write(text + "\n")
        self.out.flush()

    def end(self) -> None:
        self.out.write(sources_markdown(self.cited))
