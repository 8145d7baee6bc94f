"""Small rich building blocks shared by the terminal renderers."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from authcli.render.cite import terminal_text
from authcli.render.escape import printable


def table(title: str, columns: list[str], rows: list[list[str]]) -> RenderableType:
    heading = Text(printable(title), style="bold")
    if not rows:
        return Group(heading, "")
    grid = RichTable(box=box.SIMPLE_HEAD, expand=False, show_edge=False)
    for i, column in enumerate(columns):
        # The first column holds IDs and keys: keep them whole so they can be compared by eye.
        # Others wrap at spaces only: each is at least as wide as its longest word (an ID or a
        # quoted value is never cut in the middle), up to a third of a terminal.
        words = [len(w) for row in rows if i < len(row) for w in printable(row[i]).split()]
        grid.add_column(column, overflow="fold", no_wrap=i == 0, min_width=min(max(words, default=1), 26))
    for row in rows:
        grid.add_row(*(terminal_text(cell) for cell in row))
    return Group(heading, grid, "")


def hanging(rows: list[tuple[Text | str, Text | str]]) -> RichTable:
    """Two columns, the second wrapping under itself: bullets and term: explanation lists."""
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for left, right in rows:
        grid.add_row(left, right)
    return grid
