"""`authcli lab --write-policy FILE` and `authcli lab --fix FILE`: the lab's fix-it mode."""

from __future__ import annotations

import sys
from pathlib import Path

from authcli.cli.common import Format, play
from authcli.errors import UsageError

MAX_POLICY = 256 * 1024  # a policy file is a few kilobytes; anything past this is not one


def write_policy(path: Path, fix: Path | None = None) -> None:
    """The weak policy as TOML: to stdout for `-`, else a new file (never written through a link)."""
    from authcli.files import write_new
    from authcli.server.lab.policy_file import weak_policy_text

    if fix is not None:
        raise UsageError("--write-policy writes the file and --fix runs it: one at a time")
    text = weak_policy_text()
    if str(path) == "-":
        sys.stdout.write(text)
        return
    try:
        write_new(path, text.encode(), 0o644)
    except FileExistsError:
        raise UsageError(f"{path} exists: edit it and run `authcli lab --fix {path}`, or choose "
                         "another name") from None
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    print(f"Wrote the weak policy to {path}. Edit it, then run: authcli lab --fix {path}", file=sys.stderr)


def read_policy_file(path: Path):
    """The file's policies (`-`: stdin), or a one-line UsageError naming the file, line and key."""
    from authcli.errors import FileTooLarge
    from authcli.files import read_regular
    from authcli.server.lab.policy_file import read_policy

    try:
        data = sys.stdin.buffer.read(MAX_POLICY + 1) if str(path) == "-" else read_regular(path, MAX_POLICY)
        if len(data) > MAX_POLICY:
            raise FileTooLarge(0, "too large", str(path))
    except FileTooLarge:
        raise UsageError(f"{path} is larger than {MAX_POLICY // 1024} KB: not a policy file") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text (byte {err.start})") from None
    try:
        return read_policy(text)
    except UsageError as err:
        raise UsageError(f"{path}: {err}") from None


def fix(path: Path, names: list[str] | None, fmt: Format, *, pause: bool, all_headers: bool, predict: bool,
        summary: bool = False) -> None:
    """Every attack (or the named ones) against servers built from the policy file; `summary`:
    only the opening and the closing table."""
    from authcli.walkthroughs.lab.fixit import INFO, fix_walkthrough

    if str(path) == "-" and predict:
        raise UsageError("--fix - reads the policy from stdin, where --predict reads its answers: use a file")
    if summary and (pause or predict):
        raise UsageError("--summary shows one table: it goes without --step and --predict")
    student = read_policy_file(path)
    steps = fix_walkthrough(student, "stdin" if str(path) == "-" else str(path), names)
    if summary:
        steps = (s for s in steps if s.number is None)
    play(INFO, steps, fmt, pause=pause, all_headers=all_headers, predict=predict)
