"""Source markers (`[^KEY]`, see authcli.sources) made into what each format shows: a dim tag
on a terminal, a numbered footnote in a handout, the tag in plain text and JSON.

Only keys of the registry are markers; anything else in brackets (a claim value, a header a
client sent) stays as it was written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from authcli.sources import MARKER, SOURCES, Source

if TYPE_CHECKING:
    from rich.text import Text


def parts(text: str) -> list[tuple[str, Source | None]]:
    """The text cut at its markers: (text, None) runs and ("", source) markers, in order. The
    space written before a marker belongs to the marker."""
    out: list[tuple[str, Source | None]] = []
    last = 0
    for match in MARKER.finditer(text):
        source = SOURCES.get(match.group(1))
        if source is None:
            continue
        out.append((text[last:match.start()].rstrip(" "), None))
        out.append(("", source))
        last = match.end()
    out.append((text[last:], None))
    return [(t, s) for t, s in out if t or s]


def replace(text: str, mark: Callable[[Source], str]) -> str:
    return "".join(mark(s) if s else t for t, s in parts(text))


def tagged(text: str) -> str:
    """Plain text: `... refuses it [RFC 7519 §4.1.4].`"""
    return replace(text, lambda s: f" [{s.short}]")


def bare(text: str) -> str:
    """The text without its markers (a verdict line, a table cell at 80 columns)."""
    return replace(text, lambda s: "")


def keys(text: str) -> list[str]:
    return [s.key for _, s in parts(text) if s]


class Footnotes:
    """A handout's sources, numbered in the order the text first cites them."""

    def __init__(self) -> None:
        self.order: list[Source] = []

    def number(self, source: Source) -> int:
        if source not in self.order:
            self.order.append(source)
        return self.order.index(source) + 1


def terminal_text(text: str, style: str = "") -> "Text":
    """Authored text for rich: control characters escaped, each marker a dim tag."""
    from rich.text import Text

    from authcli.render.escape import printable

    out = Text(style=style)
    for run, source in parts(text):
        if source is None:
            out.append(printable(run))
        else:
            out.append(f" [{source.short}]", style="dim")
    return out
