"""The wall clock authcli reads: the system's, moved by `AUTHCLI_CLOCK_SHIFT` when it is set.

Every timestamp authcli makes or checks (session records, JWT iat/exp, the Date header, "ran
at" times, decode's "now") comes from `now()`, so a whole run, and every server and client it
starts, can be moved to another day as one: `AUTHCLI_CLOCK_SHIFT=400d authcli demo jwt`.
The test suite runs that way in CI to prove nothing it checks depends on today's date.

What authcli does not own keeps the system's clock, on purpose: TLS certificates are made
valid from the real now (OpenSSL, curl and Chromium check them against it), and Redis counts
its own TTLs (authcli only ever gives it durations).
"""

from __future__ import annotations

import os
import re
import time

ENV = "AUTHCLI_CLOCK_SHIFT"
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_shift(text: str) -> float:
    """`400d`, `-3h`, `90` (seconds): a shift of at most ±100 years. ValueError otherwise."""
    match = re.fullmatch(r"\s*([+-]?\d{1,9}(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"{ENV} takes a shift such as 400d, -3h or 90 (seconds), not {text!r}")
    shift = float(match.group(1)) * _UNITS[match.group(2)]
    if abs(shift) > 100 * 365 * 86400:
        raise ValueError(f"{ENV} moves the clock at most 100 years, not {text!r}")
    return shift


def _shift_from_env() -> tuple[float, str | None]:
    text = os.environ.get(ENV, "")
    if not text:
        return 0.0, None
    try:
        return parse_shift(text), None
    except ValueError as err:
        return 0.0, str(err)


# Read once: one run keeps one clock. An invalid value is reported by the CLI before it starts.
SHIFT, PROBLEM = _shift_from_env()


def now() -> float:
    """Seconds since the epoch, as authcli's clock reads them."""
    return time.time() + SHIFT


def local_hms(ts: float | None = None) -> str:
    """`12:00:01` in the local zone, for "ran at" lines a class reads off the wall clock."""
    return time.strftime("%H:%M:%S", time.localtime(now() if ts is None else ts))
