"""Steps as one self-contained HTML handout: semantic markup, one embedded stylesheet (light,
AA contrast, A4 and Letter print), the sequence diagram drawn as inline SVG, sources as footnotes.

Nothing is fetched when the page is opened and there is no script at all: the page's own
Content-Security-Policy allows its one stylesheet, by hash, and nothing else. Everything that
came from the network or a token is made printable (render/escape) and then HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from importlib.resources import files
from typing import Callable, TextIO

from authcli.defences import DEFENCES
from authcli.http import Exchange
from authcli.render import cite
from authcli.render.base import Renderer
from authcli.render import text as plain
from authcli.render import tokentext
from authcli.render.escape import printable
from authcli.render.svg import sequence_svgs
from authcli.stores.base import StoreSnapshot
from authcli.tokens.claims import TokenView
from authcli.walkthroughs import model as m

CSS = files("authcli.render").joinpath("handout.css").read_text(encoding="utf-8")
LEGEND = ("&gt; lines: each request as the server received it. "
          "&lt; lines: the response as the client received it.")
CREDENTIAL_HEADERS = {"cookie", "set-cookie", "authorization"}
CODE = re.compile(r"`([^`]+)`")

Cite = Callable[[str], str]  # authored text (which may carry source markers) to HTML


def esc(value: str) -> str:
    """Network or token text: control characters made visible, then HTML-escaped."""
    return escape(printable(value, newlines=True))


def _prose(run: str) -> str:
    # Backticks mark code in the Markdown handout; here they become <code>.
    return CODE.sub(r"<code>\1</code>", escape(printable(run)))


def citing(footnotes: cite.Footnotes) -> Cite:
    """Authored text to HTML: each source marker a numbered link to the closing Sources list."""
    def html(value: str) -> str:
        out: list[str] = []
        refs: list[str] = []  # markers side by side share one superscript: 5,6 and not 56
        for run, source in cite.parts(value) + [("", None)]:
            if source is not None:
                refs.append(f'<a href="#src-{escape(source.key)}">{footnotes.number(source)}</a>')
                continue
            if refs:
                out.append(f'<sup class="ref">{",".join(refs)}</sup>')
                refs = []
            out.append(_prose(run))
        return "".join(out)
    return html


# --- pieces ------------------------------------------------------------------------------------

def _lines(lines: list[str], classes: list[str] | None = None) -> str:
    """A <pre> of one block per line (a wrapped line hangs under its own text); each line
    already escaped, its class from `classes`."""
    out = []
    for i, line in enumerate(lines):
        cls = classes[i] if classes else ""
        body = f'<span class="{cls}">{line}</span>' if cls and line else line
        out.append(f'<span class="line">{body or " "}</span>')
    return "<pre>" + "".join(out) + "</pre>"


def _http(lines: list[str], sent: bool, status: int | None = None) -> str:
    """HTTP lines behind curl -v's marks: `>` sent, `<` received; the start line coloured by
    status, header names and credentials picked out, boilerplate headers quieter."""
    mark = '<span class="mark-sent">&gt;</span> ' if sent else '<span class="mark-received">&lt;</span> '
    out, in_body = [], False
    for i, line in enumerate(lines):
        if i == 0:
            cls = ("start-line" if status is None else "status-ok" if status < 300 else
                   "status-bad" if status >= 400 else "status-other")
            html = f'<span class="{cls}">{esc(line)}</span>'
        elif not line and not in_body:
            in_body, html = True, " "
        elif in_body:
            html = esc(line) or " "
        else:
            name, _, value = line.partition(": ")
            if name.lower() in CREDENTIAL_HEADERS:
                html = f'<span class="credential">{esc(name)}: {esc(value)}</span>'
            elif name.lower() in plain.BOILERPLATE:
                html = f'<span class="boilerplate">{esc(line)}</span>'
            else:
                html = f'<span class="header-name">{esc(name)}</span>: {esc(value)}'
        out.append(f'<span class="line">{mark}{html}</span>')
    return "<pre>" + "".join(out) + "</pre>"


def _table(title: str, columns: list[str], rows: list[list[str]], t: Cite, cls: str = "") -> str:
    if not rows:
        return f"<h3>{t(title)}</h3>"
    head = "".join(f"<th scope=\"col\">{t(c)}</th>" for c in columns)
    # The first column names each row (a claim, a key, a property): kept whole, as on a terminal.
    body = "".join(f'<tr><th scope="row">{t(row[0])}</th>' + "".join(f"<td>{t(cell)}</td>" for cell in row[1:])
                   + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return (f"<table{klass}><caption>{t(title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def token_html(view: TokenView, t: Cite) -> str:
    classes = ["jwt-header", "jwt-payload", "jwt-signature"]
    parts = [f'<span class="{classes[i]}">{esc(s)}</span>' if i < 3 else esc(s) for i, s in enumerate(view.segments)]
    out = ["<h3>Token (header.payload.signature)</h3>",
           '<p class="token">' + '<span class="jwt-dot">.</span>'.join(parts) + "</p>",
           '<h3 class="jwt-header">Header</h3>', f"<pre>{escape(tokentext.pretty_json(view.header))}</pre>"]
    if view.content is None:
        out += ['<h3 class="jwt-payload">Payload (encoded, not encrypted)</h3>',
                f"<pre>{escape(tokentext.pretty_json(view.payload))}</pre>"]
    else:
        out += ['<h3 class="jwt-payload">Payload (JWS content, not JWT claims)</h3>', f"<pre>{esc(view.content)}</pre>"]
    if view.claims:
        out.append(_table("Registered claims", tokentext.CLAIM_COLUMNS, tokentext.claim_rows(view), t))
    out.append(f'<p><span class="jwt-signature">Signature</span> <code>{esc(tokentext.signature_line(view))}</code></p>')
    return "\n".join(out)


def _exchange(ex: Exchange, events: bool) -> str:
    out = ['<p class="caption">Request, as the server received it:</p>',
           _http(plain.request_lines(ex.request), sent=True),
           '<p class="caption">Response, as the client received it:</p>',
           _http(plain.response_lines(ex.response), sent=False, status=ex.response.status)]
    if ex.server and events:
        out += ["<h3>What the server did</h3>",
                "<ul>" + "".join(f"<li>{esc(e.message)}</li>" for e in ex.server) + "</ul>"]
    return "\n".join(out)


def _checks(block: m.ChecksBlock, t: Cite) -> str:
    items = "".join(f'<li><span class="{c.status.lower()}">{c.status}</span> <strong>{esc(c.name)}</strong>: '
                    f"{t(c.detail)}</li>" for c in block.checks)
    return f'<h3>{t(block.title.rstrip(":"))}</h3>\n<ul class="checks">{items}</ul>'


def _records(title: str, rows: list[tuple[str, str]], t: Cite) -> str:
    """Each record's key on its own line (an ID stays whole where it can), what it holds under it."""
    items = "".join(f"<dt><code>{esc(key)}</code></dt><dd>{value}</dd>" for key, value in rows)
    return f"<h3>{t(title)}</h3>" + (f'\n<dl class="records">{items}</dl>' if rows else "")


def _store(snapshot: StoreSnapshot, when: str, t: Cite) -> str:
    """The store in its own notation: `sessionStore["id"] -> {...}` or redis-cli commands."""
    title = plain.store_title(snapshot, when)
    transcript = plain.store_transcript(snapshot)
    if transcript is None:
        return _records(title, [(key, f'<code>{esc(value)}</code> <span class="ttl">({esc(ttl)})</span>')
                                for key, value, ttl in plain.store_rows(snapshot)], t)
    classes = ["command" if line.startswith("> ") else "" for line in transcript]
    return f"<h3>{t(title)}</h3>\n" + _lines([escape(line) for line in transcript], classes)


def _nothing_stored(block: m.NothingStored, t: Cite) -> str:
    return f'<p class="nothing">{t(block.text)}</p>'


def _servers(block: m.ServersBlock, t: Cite) -> str:
    out = ['<div class="servers">']
    for view in block.views:
        out.append(f"<div><h3>Server {esc(view.name)} · {esc(view.url or 'stopped')}</h3>")
        if view.url is None:
            out.append('<p class="stopped">not running</p>')
        elif view.store is None:
            out.append(_nothing_stored(m.NothingStored(), t))
        else:
            out.append(_store(view.store, "", t))
        out.append("</div>")
    return "\n".join(out + ["</div>"])


def _script(block: m.Script, t: Cite) -> str:
    return "\n".join([f"<h3>{t(plain.script_title(block.where))}</h3>",
                      _lines([esc(line) for line in block.code.splitlines()]),
                      '<p class="caption">It returned:</p>', f"<pre>{escape(plain.script_result(block.result))}</pre>"])


def _config(block: m.ConfigBlock, t: Cite) -> str:
    return "\n".join([f"<h3>{t(block.title)}</h3>", _lines([esc(line) for line in block.lines])])


def _defences(block: m.Defences, t: Cite) -> str:
    """Each defence: what it protects against, what it does not."""
    out = ['<dl class="defences">']
    for key in block.keys:
        d = DEFENCES[key]
        cites = "".join(f" [^{k}]" for k in d.sources)
        out += [f"<dt>{t(d.name)}</dt>",
                f'<dd><span class="protects">Protects:</span> {t(d.protects + cites)}.</dd>',
                f'<dd><span class="does-not">Does not:</span> {t(d.not_protects)}.</dd>']
    return "\n".join(out + ["</dl>"])


def _sequence(block: m.Sequence, t: Cite) -> str:
    # What happened between arrows (a wait, a restart), tied to the arrow it came before.
    notes = "".join(f"<li>{t(text)}" + (f" (before {t(block.messages[at][2])})" if at < len(block.messages) else "")
                    + "</li>" for at, text in block.notes)
    return (f'<figure class="sequence"><figcaption>{t(plain.SEQUENCE_TITLE)}</figcaption>\n'
            + "\n".join(sequence_svgs(block, plain.SEQUENCE_TITLE))
            + (f'\n<ul class="notes">{notes}</ul>' if notes else "") + "\n</figure>")


# One function per block kind, each given the block and the text-with-footnotes function.
BLOCKS: dict[type, Callable[..., str]] = {
    m.Narration: lambda b, t: "\n".join(f"<p>{t(p)}</p>" for p in b.paragraphs),
    m.Warnings: lambda b, t: '<ul class="warnings">' + "".join(
        f"<li><strong>Warning:</strong> {t(w)}</li>" for w in b.items) + "</ul>",
    m.ExchangeBlock: lambda b, t: _exchange(b.exchange, b.events),
    m.TokenBlock: lambda b, t: token_html(b.view, t),
    m.ChecksBlock: _checks,
    m.NotesBlock: lambda b, t: '<dl class="notes">' + "".join(
        f"<dt>{esc(n.term)}</dt><dd>{t(n.text)}</dd>" for n in b.notes) + "</dl>",
    m.StoreBlock: lambda b, t: _store(b.snapshot, b.when, t),
    m.NothingStored: _nothing_stored,
    m.ServersBlock: _servers,
    m.JarBlock: lambda b, t: _records(plain.jar_title(b.cookies, b.holder),
                                      [(c, esc(attributes)) for c, attributes in plain.jar_rows(b.cookies)], t),
    m.Script: _script,
    m.ConfigBlock: _config,
    m.ClientStorage: lambda b, t: _table(b.title, ["key", "value"], [[k, v] for k, v in b.items.items()], t, "data"),
    m.TableBlock: lambda b, t: _table(b.table.title, b.table.columns, b.table.rows, t),
    m.Sequence: _sequence,
    m.Wait: lambda b, t: "",  # the step's own text says what the wait is for
    m.Defences: _defences,
}


def step_html(step: m.Step, t: Cite) -> str:
    title = f"Step {step.number}. {step.title}" if step.number is not None else step.title
    anchor = f'class="step" id="step-{step.number}"' if step.number is not None else 'class="step unnumbered"'
    body = [BLOCKS[type(block)](block, t) for block in step.blocks]
    return "\n".join([f"<section {anchor}>", f"<h2>{t(title)}</h2>", *filter(None, body), "</section>"])


def sources_html(footnotes: cite.Footnotes) -> str:
    if not footnotes.order:
        return ""
    items = "".join(f'<li id="src-{escape(s.key)}">{escape(s.short)}: {escape(s.title)}. '
                    f'<a href="{escape(s.url)}">{escape(s.url)}</a></li>\n' for s in footnotes.order)
    return f'<section class="sources">\n<h2>Sources</h2>\n<ol class="sources">\n{items}</ol>\n</section>\n'


def csp() -> str:
    """The page's own policy: its one stylesheet (by hash) and nothing else, no script at all."""
    digest = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


class HtmlRenderer(Renderer):
    """Writes the page as the steps come: the head at start, a section per step, the sources
    at the end."""

    def __init__(self, out: TextIO):
        self.out = out
        self.footnotes = cite.Footnotes()
        self.cite = citing(self.footnotes)

    def start(self, info: m.WalkthroughInfo) -> None:
        title = escape(printable(info.heading))
        self.out.write(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp()}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f'<h1>{title}</h1>\n<p class="legend">{LEGEND}</p>\n')

    def step(self, step: m.Step) -> None:
        self.out.write(step_html(step, self.cite) + "\n")
        self.out.flush()

    def end(self) -> None:
        self.out.write(sources_html(self.footnotes) + "</main>\n</body>\n</html>\n")
