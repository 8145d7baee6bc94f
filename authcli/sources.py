"""The references narration points into: one entry per source, written once.

A sentence that states a fact about a standard, a browser or a recommendation carries a
marker `[^KEY]` (Markdown's footnote syntax) naming an entry here. The terminal shows the
entry's short tag, dimmed; Markdown and HTML handouts number them as footnotes and list them
at the end. `tests/test_sources.py` fails on a marker without an entry, an entry no text uses,
and a sentence that names an RFC without a marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """One reference: `short` is the terminal's tag, `title` and `url` the footnote."""

    key: str
    short: str
    title: str
    url: str


_ENTRIES = [
    # --- JWT, JOSE, OAuth, passwords, lab (helper B adds here) ---------------------------
    Source("rfc7519-4.1.4", "RFC 7519 §4.1.4", 'JSON Web Token (JWT), 4.1.4 "exp" (Expiration Time) Claim',
           "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4"),
    # --- cookies, sessions, browsers, HTTPS, CSP (helper A adds here) ----------------------
    Source("rfc6265-4.1.2.6", "RFC 6265 §4.1.2.6", "HTTP State Management Mechanism, 4.1.2.6 The HttpOnly Attribute",
           "https://www.rfc-editor.org/rfc/rfc6265#section-4.1.2.6"),
]

SOURCES: dict[str, Source] = {s.key: s for s in _ENTRIES}

# `[^rfc7519-4.1.4]`: a key is lower-case letters, digits, dots and dashes.
MARKER = re.compile(r"\[\^([a-z0-9][a-z0-9.-]*)\]")


def keys_in(text: str) -> list[str]:
    """The source keys a text points at, in order."""
    return MARKER.findall(text)
