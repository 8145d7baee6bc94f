"""Steps as one self-contained HTML page: the terminal view with its colours, no network needed.

rich records what the terminal renderer prints and exports it with inline styles: no script,
no CDN, nothing fetched when the page is opened. Network text was already escaped for the
terminal, and rich HTML-escapes all of it again.
"""

from __future__ import annotations

import io
from html import escape
from typing import TextIO

from rich.console import Console

from authcli.render.cite import Footnotes, numbered_by
from authcli.render.terminal import TerminalRenderer
from authcli.walkthroughs.model import Step, WalkthroughInfo

PAGE_WIDTH = 100


class HtmlRenderer:
    """Collects the terminal rendering of every step, writes one page at the end."""

    def __init__(self, out: TextIO):
        self.out = out
        self.console = Console(record=True, file=io.StringIO(), width=PAGE_WIDTH, force_terminal=False,
                               color_system="truecolor", highlight=False)
        self.terminal = TerminalRenderer(self.console)
        self.title = "authcli"
        self.footnotes = Footnotes()

    def start(self, info: WalkthroughInfo) -> None:
        self.title = info.heading
        self.terminal.start(info)

    def step(self, step: Step) -> None:
        with numbered_by(self.footnotes):  # a handout numbers its sources, listed at the end
            self.terminal.step(step)  # not a terminal: no countdown is drawn into the page

    def end(self) -> None:
        page = self.console.export_html(inline_styles=True)
        # rich's template has no <title>: a handout saved to disk should say what it is.
        page = page.replace("<head>", f"<head>\n<title>{escape(self.title)}</title>", 1)
        self.out.write(page.replace("</body>", sources_html(self.footnotes) + "</body>", 1))


def sources_html(footnotes: Footnotes) -> str:
    if not footnotes.order:
        return ""
    items = "".join(f'<li id="src-{escape(s.key)}">{escape(s.short)}: <a href="{escape(s.url)}">{escape(s.title)}</a></li>\n'
                    for s in footnotes.order)
    return f"<h2>Sources</h2>\n<ol>\n{items}</ol>\n"
