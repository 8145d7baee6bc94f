"""Edit a JSON object's text in place: the members left alone keep their bytes, new ones copy its style.

What `authcli tamper` changes in a token segment, it changes the way a person with a text
editor would: a member that is not touched keeps its exact text (spacing, escapes, the way a
number is spelled) and its place; a changed value is written where the old one stood; a
deleted member takes one comma with it; a new member goes at the end, with the separators the
object already uses (`,` and `:` for PyJWT's compact JSON, `, ` and `: ` for Python's default,
the indentation of a pretty-printed one). Non-ASCII text is written as it is when the object
already holds some, as `\\u` escapes otherwise. A duplicated name (JSON allows it; parsers keep
the last) is set at its last place and deleted everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from authcli.errors import MalformedToken

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Member:
    """One `"name": value` of an object's text: where its key starts, its value starts and ends."""

    name: str
    start: int
    value_start: int
    value_end: int


@dataclass(frozen=True)
class Layout:
    """An object's text taken apart: its members in order, and where its braces stand."""

    text: str
    members: tuple[Member, ...]
    open_end: int   # just after `{`
    close: int      # at `}`

    @property
    def item_separator(self) -> str:
        """What stands between two members (`,`, `, `, `,\\n  `...), as this object writes it."""
        if len(self.members) >= 2:
            return self.text[self.members[0].value_end:self.members[1].start]
        return ", " if self.key_separator.endswith(" ") else ","

    @property
    def key_separator(self) -> str:
        """What stands between a name and its value (`:` or `: `), as this object writes it."""
        if not self.members:
            return ":"
        first = self.members[0]
        after_key = _DECODER.raw_decode(self.text, first.start)[1]
        return self.text[after_key:first.value_start]

    @property
    def ascii_only(self) -> bool:
        return self.text.isascii()

    def dumps(self, value: Any) -> str:
        """`value` as JSON in this object's style (compact or spaced; raw or escaped non-ASCII)."""
        spaced = self.key_separator.endswith(" ")
        return json.dumps(value, ensure_ascii=self.ascii_only, allow_nan=False,
                          separators=(", ", ": ") if spaced else (",", ":"))


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()


def layout(text: str) -> Layout:
    """The members of the JSON object `text` (already known to be one), with their positions."""
    try:
        return _layout(text)
    except (ValueError, IndexError, StopIteration, RecursionError):
        raise MalformedToken("the JSON object could not be taken apart member by member") from None


def _layout(text: str) -> Layout:
    at = _skip(text, 0)
    if text[at] != "{":
        raise ValueError("not an object")
    at = _skip(text, at + 1)
    open_end, members = text.index("{") + 1, []
    while text[at] != "}":
        if members:
            if text[at] != ",":
                raise ValueError("no comma")
            at = _skip(text, at + 1)
        name, after_key = _DECODER.raw_decode(text, at)
        if not isinstance(name, str):
            raise ValueError("a name that is not a string")
        colon = _skip(text, after_key)
        if text[colon] != ":":
            raise ValueError("no colon")
        value_start = _skip(text, colon + 1)
        value_end = _DECODER.raw_decode(text, value_start)[1]
        members.append(Member(name, at, value_start, value_end))
        at = _skip(text, value_end)
    return Layout(text, tuple(members), open_end, at)


def edit(text: str, sets: dict[str, Any], deletes: tuple[str, ...] = ()) -> str:
    """`text` with the members in `sets` given their values (in place, or appended) and the
    names in `deletes` removed. A value equal to the one there (same JSON) keeps its text."""
    lay = layout(text)
    last = {m.name: i for i, m in enumerate(lay.members)}
    pieces: list[tuple[int, str]] = []  # (original index, member text), in order
    for i, m in enumerate(lay.members):
        if m.name in deletes:
            continue
        piece = text[m.start:m.value_end]
        if m.name in sets and last[m.name] == i and not _same(text[m.value_start:m.value_end], sets[m.name]):
            piece = text[m.start:m.value_start] + lay.dumps(sets[m.name])
        pieces.append((i, piece))
    for name, value in sets.items():
        if name not in last:
            pieces.append((-1, lay.dumps(name) + lay.key_separator + lay.dumps(value)))
    out = [text[:lay.members[0].start] if lay.members else text[:lay.open_end]]
    for n, (i, piece) in enumerate(pieces):
        out.append(piece)
        if n + 1 < len(pieces):
            # the separator that followed this member in the original, else the object's usual one
            nxt = i + 1 if 0 <= i < len(lay.members) - 1 else None
            out.append(text[lay.members[i].value_end:lay.members[nxt].start] if nxt is not None
                       else lay.item_separator)
    tail = text[lay.members[-1].value_end:] if lay.members else text[lay.close:]
    if lay.members and not pieces:  # every member deleted: no whitespace stranded inside the braces
        tail = text[lay.close:]
    out.append(tail)
    return "".join(out)


def _same(original: str, value: Any) -> bool:
    try:
        before = json.loads(original)
        return json.dumps(before, sort_keys=True) == json.dumps(value, sort_keys=True)
    except (ValueError, RecursionError):
        return False
