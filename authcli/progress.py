"""What this student solved, kept in one small local JSON file (never sent anywhere).

The file is $AUTHCLI_HOME/progress.json, else $XDG_STATE_HOME/authcli/progress.json, else
~/.local/state/authcli/progress.json (the XDG Base Directory default for state data).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from authcli.errors import UsageError

MAX_FILE = 1024 * 1024  # a progress file larger than this is not one authcli wrote
FIELDS = ("lab", "solved_at", "seconds", "hints", "flag", "run")


@dataclass(frozen=True)
class Solve:
    """One solved exercise: which lab, when (UTC, ISO 8601), how long it took, hints read, the
    run's flag and the run's id."""

    lab: str
    solved_at: str
    seconds: float
    hints: int
    flag: str
    run: str


def path() -> Path:
    home = os.environ.get("AUTHCLI_HOME")
    if home:
        return Path(home) / "progress.json"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "authcli" / "progress.json"


def load(where: Path | None = None) -> list[Solve]:
    """The solves recorded, oldest first; none when there is no file yet."""
    where = where or path()
    try:
        with open(where, "rb") as f:
            raw = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise UsageError(f"cannot read {where}: {err.strerror or err}") from None
    try:
        if len(raw) > MAX_FILE:
            raise ValueError("too large")
        data = json.loads(raw)
        return [_solve(entry) for entry in data["solved"]]
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{where} is not an authcli progress file ({str(err)[:80]}): move it away "
                         "to start a new one") from None


TYPES = {"lab": str, "solved_at": str, "seconds": (int, float), "hints": int, "flag": str, "run": str}


def _solve(entry: dict) -> Solve:
    """One entry, every field of its type (a hand-edited file is read, never trusted)."""
    for name, kind in TYPES.items():
        if not isinstance(entry[name], kind) or isinstance(entry[name], bool):
            raise TypeError(f"{name} is not a {getattr(kind, '__name__', 'number')}")
    return Solve(**{name: entry[name] for name in FIELDS})


def record(solve: Solve, where: Path | None = None) -> Path:
    """Add `solve` to the file (made if need be, readable by you alone), and say where."""
    from authcli.files import write_new

    where = where or path()
    solves = [*load(where), solve]
    body = json.dumps({"solved": [asdict(s) for s in solves]}, indent=2) + "\n"
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        write_new(where, body.encode(), 0o600, replace=True)
    except OSError as err:
        raise UsageError(f"cannot write {where}: {err.strerror or err}") from None
    return where
