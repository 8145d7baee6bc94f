"""The class's results on the teacher's machine: SQLite (the standard library's driver, WAL).

One row per class run, per question asked, and per student's final answer to it (the primary
key makes a resubmission a replacement, never a second row). Written by the teacher's thread
when a question closes; read by `authcli class report`. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Iterable

from authcli import clock
from authcli.classroom.room import Tally
from authcli.errors import UsageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, demo TEXT, started REAL);
CREATE TABLE IF NOT EXISTS students(student TEXT PRIMARY KEY, shown TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions(run INTEGER, key TEXT, kind TEXT, prompt TEXT, choices TEXT,
    answer TEXT, closed REAL, PRIMARY KEY(run, key));
CREATE TABLE IF NOT EXISTS answers(run INTEGER, key TEXT, student TEXT, choice TEXT, at REAL,
    PRIMARY KEY(run, key, student));
"""


def connect(path: str, *, create: bool) -> sqlite3.Connection:
    """The results file; a symlink is refused (it could point anywhere), and so is a missing
    file when only reading."""
    if os.path.islink(path):
        raise UsageError(f"{path[:200]} is a symlink: give the results file itself")
    if not create and not os.path.isfile(path):
        raise UsageError(f"no class results at {path[:200]}: `authcli class start --db {path[:200]}` makes them")
    try:
        if create and path != ":memory:" and not os.path.lexists(path):
            # Students' names: readable by the teacher only (sqlite gives its -wal and -shm the same mode)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
        db = sqlite3.connect(path, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")  # the report may read while a class writes
        db.executescript(SCHEMA)
    except (sqlite3.Error, OSError) as err:
        raise UsageError(f"cannot use {path[:200]} for class results: {err}") from None
    return db


class Results:
    """One class run's writer."""

    def __init__(self, path: str, demo: str):
        self.db = connect(path, create=True)
        with self.db:
            self.run = self.db.execute("INSERT INTO runs(demo, started) VALUES (?, ?)",
                                       (demo, clock.now())).lastrowid

    def save(self, kind: str, tallies: Iterable[Tally], names: dict[str, str]) -> None:
        """A closed question's final answers, in one transaction."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO students(student, shown) VALUES (?, ?)", names.items())
            for tally in tallies:
                q = tally.question
                self.db.execute("INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (self.run, q.key, kind, q.prompt, json.dumps(q.choices), q.answer, clock.now()))
                self.db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                                    [(self.run, q.key, s, c, at) for s, (c, at) in tally.answers.items()])

    def close(self) -> None:
        self.db.close()
