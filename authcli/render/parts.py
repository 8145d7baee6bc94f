"""Small rich building blocks shared by the terminal renderers."""

from __future__ import annotations

import re

from rich import box
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from authcli.render.cite import terminal_text
from authcli.render.escape import printable

_LETTERS = re.compile(r"[A-Za-z0-9]")


def table(title: str, columns: list[str], rows: list[list[str]]) -> RenderableType:
    heading = Text(printable(title), style="bold")
    if not rows:
        return Group(heading, "")
    return Group(heading, _Fitted(columns, rows), "")


class _Fitted:
    """A table whose columns' least widths fit the width it is drawn at: rich draws a table
    whose least widths add up to more than that and then crops every line, cutting words out
    of the last column ("who the token is about (t" / "user)", at 80 columns in decode)."""

    def __init__(self, columns: list[str], rows: list[list[str]]):
        self.columns, self.rows = columns, rows

    def __rich_console__(self, console, options):
        # The first column holds IDs and keys: keep them whole so they can be compared by eye.
        # Others wrap at spaces only: each is at least as wide as its longest word (an ID or a
        # quoted value is never cut in the middle), up to a third of a terminal; when those
        # widths together do not fit, long words fold instead (nothing is cut away).
        least = [min(max((len(w) for row in self.rows if i < len(row) for w in printable(row[i]).split()),
                         default=1), 26) for i in range(len(self.columns))]
        grid = self._grid(least)
        drawn = "".join(seg.text for line in console.render_lines(grid, options, pad=False) for seg in line)
        shown = " ".join([*self.columns, *(terminal_text(cell).plain for row in self.rows for cell in row)])
        if len(_LETTERS.findall(drawn)) < len(_LETTERS.findall(shown)):
            grid = self._grid([None] * len(least))  # rich cropped its lines: let every column fold
        yield grid

    def _grid(self, least: list[int | None]) -> RichTable:
        grid = RichTable(box=box.SIMPLE_HEAD, expand=False, show_edge=False)
        for i, column in enumerate(self.columns):
            grid.add_column(column, overflow="fold", no_wrap=i == 0, min_width=least[i])
        for row in self.rows:
            grid.add_row(*(terminal_text(cell) for cell in row))
        return grid


def hanging(rows: list[tuple[Text | str, Text | str]]) -> RichTable:
    """Two columns, the second wrapping under itself: bullets and term: explanation lists."""
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for left, right in rows:
        grid.add_row(left, right)
    return grid


class TitleRule:
    """A step's title in its rule, or, when the title is too long for the rule at this width
    (rich would cut it with an ellipsis), the title wrapped in full and the rule under it."""

    def __init__(self, title: Text):
        self.title = title

    def __rich_console__(self, console, options):
        if self.title.cell_len + 2 <= options.max_width:  # what rich's left-aligned rule needs uncut
            yield Rule(self.title, align="left")
        else:
            yield self.title
            yield Rule()
