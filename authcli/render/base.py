"""What every output format is: one Renderer interface, and FORMATS, the registry the CLI reads.

A new format is one module with a Renderer subclass, plus its line in FORMATS. The registry
names classes by module path, so reading it (the CLI does at start-up, for -f's choices)
imports no renderer and no rich; `make` imports the one asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable, TextIO

if TYPE_CHECKING:
    from authcli.walkthroughs.model import Step, WalkthroughInfo


# Plain classes, not NamedTuples or dataclasses: `decode --json` reads this module (through
# jsonout), and making a NamedTuple class costs ~0.2 ms each (measured: this module's exec
# went from ~500 to ~60 us, median of 200 on this busy machine).
class Entry:
    __slots__ = ("where", "help")

    def __init__(self, where: str, help: str):
        self.where = where  # "module:Class"
        self.help = help  # what -f NAME gives, for --help


# name -> renderer, the default first. An alias is a second name on the same entry.
FORMATS = {
    "rich": Entry("authcli.render.terminal:TerminalRenderer", "coloured terminal output"),
    "markdown": (MARKDOWN := Entry("authcli.render.markdown:MarkdownRenderer", "a handout")),
    "md": MARKDOWN,  # what people type, and the file extension
    "html": Entry("authcli.render.html:HtmlRenderer", "a handout to print or open offline"),
    "json": Entry("authcli.render.jsonout:JsonRenderer", "data (the same as --json)"),
}
DEFAULT = next(iter(FORMATS))
JSON = "json"  # what --json asks for
DATA_FORMATS = (DEFAULT, JSON)  # decode and bench: a table for people, or JSON (no handouts)


class Output:
    """Where a renderer writes and what it is asked to keep: `out` for text, `console` makes the
    terminal's rich Console (called only by the format that draws on one), `full` for every
    header and credential whole each time (--all-headers)."""

    __slots__ = ("out", "console", "full")

    def __init__(self, out: TextIO, console: Callable[[], Any], full: bool = False):
        self.out, self.console, self.full = out, console, full


class Renderer:
    """Steps in, one format out. `start` once, `step` per step, `end` once (a document format
    writes its closing part there). A format that shows one screen at a time (the terminal)
    overrides the paging and --predict operations; the others keep these defaults."""

    interactive = False  # True: --step's clean screens and --predict's questions make sense here

    @classmethod
    def open(cls, output: Output) -> Renderer:
        return cls(output.out)  # type: ignore[call-arg]

    def start(self, info: WalkthroughInfo) -> None:
        raise NotImplementedError

    def step(self, step: Step) -> None:
        raise NotImplementedError

    def end(self) -> None:
        pass

    # Paging: --step shows a step as screens; a format with no screens shows it whole.
    width = 80  # columns a pause's lines are wrapped to

    def new_screen(self) -> None:
        pass

    def pages(self, step: Step, footer: Callable[[], list[str]]) -> list[Any]:
        """The step as screens, the last with the pause's lines, `footer()` (made only when
        asked: it checks whether the step's server still listens)."""
        return [None]  # None: the whole step, through `step`

    def show(self, page: Any) -> None:
        raise NotImplementedError  # only a format whose `pages` returns pages

    def after(self, step: Step) -> None:
        pass

    # --predict: the scene before a step, each answer's verdict, the score at the end.
    def teaser(self, step: Step, label: str) -> None:
        raise NotImplementedError

    def verdict(self, question: Any, reply: str | None, right: bool) -> None:
        raise NotImplementedError

    def score(self, score: Any) -> None:
        raise NotImplementedError


def help_text() -> str:
    """-f's help: each format once, its aliases beside it (`markdown (or md)`)."""
    names: dict[Entry, list[str]] = {}
    for name, entry in FORMATS.items():
        names.setdefault(entry, []).append(name)
    return "; ".join(f"{first}{''.join(f' (or {a})' for a in rest)}: {entry.help}"
                     for entry, (first, *rest) in names.items())


def make(name: str, output: Output) -> Renderer:
    """The renderer registered as `name`, opened on `output`."""
    module, _, cls = FORMATS[name].where.partition(":")
    return getattr(importlib.import_module(module), cls).open(output)
