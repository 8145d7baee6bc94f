"""The plain data a walkthrough yields: a step is a title and an ordered list of typed blocks.

Each renderer has one function per block kind. The HTTP data model itself is `authcli.http`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar, Union

from authcli.http import CookieView, Exchange
from authcli.stores.base import StoreSnapshot
from authcli.tokens.checks import Check
from authcli.tokens.claims import TokenView


@dataclass(frozen=True)
class Note:
    """A term and its explanation, e.g. a cookie flag and what it protects against."""

    term: str
    text: str


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ServerView:
    """One server of several: its name, where it listens (None: stopped), and what it stores
    (None: it keeps no store at all)."""

    name: str
    url: str | None
    store: StoreSnapshot | None
    # Set by render/concise instead of listing the records again: "unchanged", "the same as A's".
    summary: str = ""


# --- blocks: what a step shows, one kind each ---------------------------------------------------

@dataclass(frozen=True)
class Narration:
    """The teaching text: paragraphs."""

    paragraphs: list[str]


@dataclass(frozen=True)
class Warnings:
    items: list[str]


@dataclass(frozen=True)
class ExchangeBlock:
    """A real request, its response, and what the server did (`events` False: a ChecksBlock
    in the same step already says it, check by check)."""

    exchange: Exchange
    events: bool = True


@dataclass(frozen=True)
class TokenBlock:
    view: TokenView


@dataclass(frozen=True)
class ChecksBlock:
    checks: list[Check]
    title: str = "The server's checks:"


@dataclass(frozen=True)
class NotesBlock:
    notes: list[Note]


@dataclass(frozen=True)
class StoreBlock:
    """The session store's contents, read back from the store itself; `when` says at what
    moment, where the step's title might suggest another."""

    snapshot: StoreSnapshot
    when: str = ""
    # Set by render/concise instead of listing the records again: "unchanged", "the same as A's".
    summary: str = ""


@dataclass(frozen=True)
class NothingStored:
    """A stateless server: there is no store to show, and that is the point."""

    text: str = "Server-side storage: none. The server keeps no record of logins or tokens."


@dataclass(frozen=True)
class ServersBlock:
    """Several servers side by side, each with its store."""

    views: list[ServerView]


@dataclass(frozen=True)
class JarBlock:
    """The client's cookie jar (`holder`: whose, e.g. a real browser's cookie store)."""

    cookies: list[CookieView]
    holder: str = "Client cookie jar"


@dataclass(frozen=True)
class Script:
    """JavaScript that really ran inside a page (`where`: the page's origin), and what it returned."""

    code: str
    result: object
    where: str


@dataclass(frozen=True)
class ConfigBlock:
    """A configuration file a real program ran with (HAProxy's, written by authcli): `lines` are
    the ones that matter to the step, `text` the whole file."""

    title: str
    lines: list[str]
    text: str = ""


@dataclass(frozen=True)
class ClientStorage:
    """What the client keeps itself, outside any cookie jar (like localStorage)."""

    items: dict[str, str]
    title: str = "Client storage (like localStorage)"


@dataclass(frozen=True)
class TableBlock:
    table: Table


@dataclass(frozen=True)
class Sequence:
    """A sequence diagram of the run's real exchanges: lanes, then (from, to, text, reply)
    messages in the order they happened; `reply` marks an answer (a dashed arrow). `notes`
    say what happened between arrows (a wait, a restart): (i, text) stands before messages[i]."""

    lanes: list[str]
    messages: list[tuple[str, str, str, bool]]
    notes: list[tuple[int, str]] = field(default_factory=list)

    def items(self) -> list[tuple[str, object]]:
        """Messages and notes in diagram order: ("note", text) or ("message", (from, to, text, reply))."""
        out: list[tuple[str, object]] = []
        for i, message in enumerate([*self.messages, None]):
            out += [("note", text) for at, text in self.notes if at == i]
            if message is not None:
                out.append(("message", message))
        return out


@dataclass(frozen=True)
class Defences:
    """Defences named at this step, each with what it protects against and what it does not
    (keys of `authcli.defences.DEFENCES`)."""

    keys: list[str]


@dataclass(frozen=True)
class Wait:
    """Time that really passes before the next step; `label` says what is running out."""

    seconds: float
    label: str


Block = Union[Narration, Warnings, ExchangeBlock, TokenBlock, ChecksBlock, NotesBlock, StoreBlock,
              NothingStored, ServersBlock, JarBlock, Script, ConfigBlock, ClientStorage, TableBlock, Sequence, Wait,
              Defences]
B = TypeVar("B")


@dataclass(frozen=True)
class Step:
    """One narrated step: a number (None for set-up and recap), a title, blocks in order."""

    number: int | None
    title: str
    blocks: list[Block] = field(default_factory=list)
    # --predict: what the client does next, said without giving the answer away (the title may).
    predict: str | None = None

    def all(self, kind: type[B]) -> list[B]:
        return [b for b in self.blocks if isinstance(b, kind)]

    def first(self, kind: type[B]) -> B | None:
        return next((b for b in self.blocks if isinstance(b, kind)), None)

    @property
    def text(self) -> list[str]:
        return [p for b in self.all(Narration) for p in b.paragraphs]

    # Read-only views for callers that ask one question of a step (tests, recaps).
    @property
    def exchange(self) -> Exchange | None:
        block = self.first(ExchangeBlock)
        return block.exchange if block else None

    @property
    def store(self) -> StoreSnapshot | None:
        block = self.first(StoreBlock)
        return block.snapshot if block else None

    @property
    def token(self) -> TokenView | None:
        block = self.first(TokenBlock)
        return block.view if block else None

    @property
    def checks(self) -> list[Check] | None:
        block = self.first(ChecksBlock)
        return block.checks if block else None

    @property
    def cookie_jar(self) -> list[CookieView] | None:
        block = self.first(JarBlock)
        return block.cookies if block else None

    @property
    def tables(self) -> list[Table]:
        return [b.table for b in self.all(TableBlock)]

    @property
    def wait(self) -> float | None:
        block = self.first(Wait)
        return block.seconds if block else None


def step(number: int | None, title: str, text: list[str], *blocks: Block | None,
         predict: str | None = None) -> Step:
    """A step from its text and blocks, in the order given; None blocks are left out."""
    return Step(number, title, [Narration(text), *(b for b in blocks if b is not None)], predict)


@dataclass(frozen=True)
class WalkthroughInfo:
    name: str
    title: str
    steps: int | None = None  # how many numbered steps, for "step 4/12"
    command: str = ""         # how it is run, when not `authcli demo NAME`

    @property
    def heading(self) -> str:
        return f"authcli {self.command or 'demo ' + self.name}: {self.title}"
