"""A token's parts as plain text lines: what `decode` and the JWT steps show, before colour.

Kept apart from render/text.py so `authcli decode` imports nothing of the HTTP or store model.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from authcli.render.escape import printable

if TYPE_CHECKING:
    from authcli.tokens import Check, TokenView

CLAIM_COLUMNS = ["claim", "value", "as a date", "meaning"]


def claim_rows(view: TokenView) -> list[list[str]]:
    return [[c.name, printable(c.value), printable(c.readable), c.meaning] for c in view.claims]


def pretty_json(value: object) -> str:
    return printable(json.dumps(value, indent=2, ensure_ascii=False), newlines=True)


def one_line_json(value: object) -> str:
    return printable(json.dumps(value, ensure_ascii=False))


def signature_line(view: TokenView) -> str:
    if not view.signature_b64:
        return "(empty: 0 bytes, the token is unsigned)"
    return f"{view.signature_b64} ({view.signature_bytes} bytes)"


def check_line(check: Check) -> str:
    return printable(f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}")
