"""Dates and durations in words: the one place timestamps become text."""

from __future__ import annotations

import functools
import time


def iso(ts: float) -> str:
    """`2026-11-27T07:02:52Z`: the form stored in session records and shown for cookie expiry."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return f"{ts} (out of range)"


@functools.lru_cache(maxsize=4096)  # a server formats the same exp and iat on every request
def utc(ts: float) -> str:
    """`2026-11-27 07:02:52 UTC`: the form used beside NumericDates."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return f"{ts} (out of range)"


def ago(seconds: float) -> str:
    """'3 minutes', '15 years': the largest unit, rounded down."""
    return _ago(int(abs(seconds)))


@functools.lru_cache(maxsize=4096)
def _ago(seconds: int) -> str:
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = int(seconds)
    return f"{n} second{'s' if n != 1 else ''}"


def relative(ts: float, now: float) -> str:
    delta = ts - now
    if abs(delta) < 1:  # "expires in 0 seconds" under a PASS reads as expired
        return "in under a second" if delta > 0 else "under a second ago"
    return f"in {ago(delta)}" if delta > 0 else f"{ago(delta)} ago"
