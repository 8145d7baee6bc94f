"""A token's parts as plain text lines: what `decode` and the JWT steps show, before colour.

Kept apart from render/text.py so `authcli decode` imports nothing of the HTTP or store model.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from authcli.render.escape import printable

if TYPE_CHECKING:
    from authcli.tokens.checks import Check
    from authcli.tokens.claims import TokenView

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


def merged_checks(checks: list[Check]) -> list[tuple[str, str, str]]:
    """(status, names, detail) per line: checks skipped for the same reason share one line
    (`SKIP exp, iat: not checked: the signature was not verified`)."""
    lines: list[tuple[str, str, str]] = []
    for c in checks:
        if lines and c.ok is None and lines[-1][0] == "SKIP" and lines[-1][2] == c.detail:
            lines[-1] = ("SKIP", f"{lines[-1][1]}, {c.name}", c.detail)
        else:
            lines.append((c.status, c.name, c.detail))
    return lines


def check_line(check: Check) -> str:
    return printable(f"{check.status} {check.name}: {check.detail}")
