"""SQLite session store: one row per session in a table shaped like Django's `django_session`,
JSON values, expiry enforced by the SELECT itself and by a purge. Standard library only.

Also finds the file: the PATH given (it survives restarts), else one in a private temporary
directory, deleted when authcli stops.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from authcli.clock import now as clock_now
from authcli.errors import StoreConfigError, StoreUnavailable
from authcli.stores.base import StoreFacts, StoreRow, StoreSnapshot, count_phrase

TABLE = "authcli_session"
# Django's django_session columns (session_key, session_data, expire_date, indexed); the date is
# Unix seconds here, so the server's clock compares with it directly.
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} (session_key varchar(64) PRIMARY KEY, "
          "session_data text NOT NULL, expire_date real NOT NULL)",
          f"CREATE INDEX IF NOT EXISTS {TABLE}_expire_date ON {TABLE} (expire_date)",
          # The number of rows, kept by triggers: size() reads one row, where count(*) read every
          # row. Inside the schema's transaction, so a row another process adds is never missed.
          f"CREATE TABLE IF NOT EXISTS {TABLE}_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
          f"INSERT OR IGNORE INTO {TABLE}_count (id, n) SELECT 1, count(*) FROM {TABLE}",
          f"CREATE TRIGGER IF NOT EXISTS {TABLE}_added AFTER INSERT ON {TABLE} "
          f"BEGIN UPDATE {TABLE}_count SET n = n + 1; END",
          f"CREATE TRIGGER IF NOT EXISTS {TABLE}_removed AFTER DELETE ON {TABLE} "
          f"BEGIN UPDATE {TABLE}_count SET n = n - 1; END")
INSERT = f"INSERT INTO {TABLE} (session_key, session_data, expire_date) VALUES (?, ?, ? + ?)"
SELECT = f"SELECT session_data FROM {TABLE} WHERE session_key = ? AND expire_date > ?"
DELETE = f"DELETE FROM {TABLE} WHERE session_key = ?"
DEADLINE = f"SELECT expire_date FROM {TABLE} WHERE session_key = ?"
# Expired rows go a batch at a time, so a purge never holds the write lock for long.
PURGE = f"DELETE FROM {TABLE} WHERE rowid IN (SELECT rowid FROM {TABLE} WHERE expire_date <= ? LIMIT 1000)"
LIVE = f"SELECT session_key, session_data, expire_date - ? FROM {TABLE} WHERE expire_date > ?"
POOL = 8          # connections at most: the server's worker threads and its loop, with room to spare
TIMEOUT = 1.0     # a locked or stuck database turns into a quick 503, never a hung request
SHOWN = 1000      # rows a snapshot reads back at most
MAX_VALUE = 64 * 1024  # bytes of JSON a row may hold: a session record is a few hundred

FACTS = StoreFacts(
    name="sqlite",
    label="SQLite",
    survives_restart=True,
    expires_by_itself=False,
    expiry=("The SELECT itself skips an expired row (expire_date > now), and the server's purge "
            "DELETEs expired rows about once a second; Django leaves that to its clearsessions "
            "command [^django-sessions]."),
    gone=f"the row is gone from {TABLE}",
    takes_path=True,
    sharers="every server process on this machine",
)


def _sql(statement: str, *values: str) -> str:
    """A statement as run, its ? replaced by the values shown (`now`: the server's clock)."""
    for value in values:
        statement = statement.replace("?", value, 1)
    return statement


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class SqlNotation:
    """The table read back as the sqlite3 shell would show it: the SELECT, then one line a row."""

    def title(self, rows: list[StoreRow]) -> str:
        return f"SQLite table {TABLE}, read back with SELECT: {count_phrase(len(rows), 'row')}"

    def label(self, row: StoreRow) -> str:
        return row.key

    def transcript(self, rows: list[StoreRow]) -> list[str] | None:
        if not rows:
            return None
        head = _sql(LIVE, "now", "now").replace("expire_date - now", "expire_date - now AS ttl")
        return [f"sqlite> {head};", *(f"{row.key}|{json.dumps(row.value)}|{row.ttl:.1f}" for row in rows)]


class SqliteStore:
    """Rows in a file: they outlive the server, and every server process on this machine that
    opens the same file shares them."""

    facts = FACTS
    notation = SqlNotation()

    def __init__(self, path: str, clock: Callable[[], float] = clock_now):
        self.path = path
        self._clock = clock
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in SCHEMA:
                    db.execute(statement)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: each statement commits by itself; WAL lets readers go on while
        # one connection writes.
        db = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool for one thread's use; any database error becomes one line."""
        try:
            try:
                db = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    db = self._open() if len(self._all) < POOL else None
                    if db is not None:
                        self._all.append(db)
                db = db or self._idle.get(timeout=TIMEOUT)
        except queue.Empty:
            raise StoreUnavailable(f"all {POOL} SQLite connections are busy") from None
        except sqlite3.Error as err:
            raise StoreUnavailable(f"SQLite file {self.path} cannot be used: {err}") from None
        try:
            yield db
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise StoreUnavailable(f"SQLite file {self.path} cannot be used: {err}") from None
        finally:
            self._idle.put(db)

    def where(self) -> str:
        return (f"a SQLite session store in {self.path}: a table {TABLE} shaped like Django's "
                "django_session (session_key, session_data as JSON, expire_date) [^django-sessions]")

    def key(self, session_id: str) -> str:
        return session_id

    def create(self, session_id: str, record: dict[str, Any], ttl: int) -> None:
        text = json.dumps(record)
        if len(text) > MAX_VALUE:
            raise ValueError(f"a session record of {len(text)} bytes is past {MAX_VALUE}")
        now = self._clock()
        with self._db() as db:
            try:
                db.execute(INSERT, (session_id, text, now, ttl))
            except sqlite3.IntegrityError:
                # An expired row not yet purged may give its key up; a live one never does.
                if not db.execute(f"DELETE FROM {TABLE} WHERE session_key = ? AND expire_date <= ?",
                                  (session_id, now)).rowcount:
                    raise KeyError("session ID already exists") from None
                db.execute(INSERT, (session_id, text, now, ttl))

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute(SELECT, (session_id, self._clock())).fetchone()
        return _value(row[0]) if row else None

    def delete(self, session_id: str) -> bool:
        """True when a live record went (an expired row a purge had not reached yet does not
        count: Redis would have expired it itself, and the answer must not hang on purge timing)."""
        with self._db() as db:
            found = db.execute(DEADLINE, (session_id,)).fetchall()
            db.execute(DELETE, (session_id,))
        return any(expires > self._clock() for (expires,) in found)

    def snapshot(self) -> StoreSnapshot:
        now = self._clock()
        with self._db() as db:
            found = db.execute(LIVE + f" ORDER BY expire_date LIMIT {SHOWN}", (now, now)).fetchall()
        rows = [StoreRow(key, key, value, ttl) for key, text, ttl in found if (value := _value(text)) is not None]
        return StoreSnapshot(self.facts, self.notation, rows)

    def describe(self, op: str, session_id: str, result: Any = None, ttl: int | None = None) -> str:
        """The SQL the store ran, its parameters written in (`now`: the server's clock)."""
        key = _quoted(session_id)
        if op == "write":
            return _sql(INSERT, key, _quoted(json.dumps(result)), "now", str(ttl)) + " -> 1 row"
        if op == "read":
            return _sql(SELECT, key, "now") + " -> " + (_quoted(json.dumps(result)) if result is not None else "no row")
        return _sql(DELETE, key) + f" -> {1 if result else 0} row{'' if result else 's'} deleted"

    def count(self) -> int:
        with self._db() as db:
            return db.execute(f"SELECT count(*) FROM {TABLE} WHERE expire_date > ?", (self._clock(),)).fetchone()[0]

    def size(self) -> int:
        """The row count the triggers keep: one row read, whatever the table holds."""
        with self._db() as db:
            return db.execute(f"SELECT n FROM {TABLE}_count").fetchone()[0]

    def purge(self) -> None:
        now = self._clock()
        with self._db() as db:
            while db.execute(PURGE, (now,)).rowcount:
                pass

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
            while not self._idle.empty():
                self._idle.get_nowait()


def _value(text: str) -> dict[str, Any] | None:
    """A row's JSON, or None for a value authcli did not write (never a crash)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class SqliteFile:
    """Where SQLite stores come from: the file at PATH, kept; or a throwaway file in a private
    temporary directory, removed on exit. Each `make()` is a new pool on the same file."""

    facts = FACTS

    def __init__(self, path: str | None = None):
        if path is not None and not path.strip():
            raise StoreConfigError("--store sqlite: takes a file path after the colon")
        self.path = path
        self.note = ""
        self._dir: str | None = None

    def __enter__(self) -> SqliteFile:
        if self.path is None:
            self._dir = tempfile.mkdtemp(prefix="authcli-sqlite-")  # mode 700
            self.path = os.path.join(self._dir, "sessions.sqlite3")
            self.note = (f"SQLite sessions in a throwaway file {self.path}, deleted when authcli stops "
                         "(--store sqlite:PATH keeps them).")
        else:
            self.note = f"Using the SQLite file {self.path}."
        try:
            _create_private(self.path)
            SqliteStore(self.path).close()  # the schema, and a clear line now if the file is unusable
        except (OSError, StoreUnavailable) as err:
            self.__exit__()
            raise StoreConfigError(f"cannot keep sessions in {self.path}: "
                                   f"{getattr(err, 'strerror', None) or err}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def make(self, clock: Callable[[], float] = clock_now, namespace: str = "") -> SqliteStore:
        """A new pool on the file. A namespace (the attack lab's weak servers) needs a file no
        hardened server shares: the throwaway one, never a kept PATH."""
        if namespace and self._dir is None:
            raise StoreConfigError("a weak lab server keeps its sessions apart from hardened servers: "
                                   "use --store sqlite without a PATH (a throwaway file), or memory or redis")
        return SqliteStore(self.path, clock=clock)


def _create_private(path: str) -> None:
    """A new file is created mode 600 (it holds live session IDs); a symlink is never followed."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        if os.path.islink(path):
            raise OSError(f"{path} is a symbolic link") from None


Source = SqliteFile
