"""Control characters made visible: the one place network and token text is made safe to show."""

from __future__ import annotations

import re

# What a terminal would obey instead of print: C0 and C1 controls (ESC [2J clears the screen,
# ESC ]0; retitles the window, CR rewrites a log line), DEL, line and paragraph separators,
# bidirectional overrides that reorder what is shown, and lone surrogates (not text at all).
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
NEWLINE_TOO = re.compile("\n|" + UNPRINTABLE.pattern)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    """Anything that came from the network or a token, made safe to show: each control
    character becomes a visible escape such as \\x1b. `newlines` keeps line breaks (bodies)."""
    return (UNPRINTABLE if newlines else NEWLINE_TOO).sub(_escape, text)


def json_text(text: str) -> str:
    """JSON output with the same characters escaped the JSON way (\\u001b): still valid JSON,
    the same values, and nothing a terminal would obey."""
    return UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
