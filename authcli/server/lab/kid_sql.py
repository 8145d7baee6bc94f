"""A server's HMAC keys in SQLite, looked up by the token's kid: the careless query and the safe one.

The careless one builds its SQL by string formatting, so a kid such as
`x' UNION SELECT 'known-secret' --` makes the query return a key the attacker chose (WebGoat's
JWT lesson). The safe one checks kid has the form of this server's key names, then binds
it as a parameter: the kid's text never becomes SQL. Even the careless one runs on a connection
that may only read, without recursive queries, within a deadline: a lab server must never hang.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time

from authcli.errors import BadKey

SAFE_QUERY = "SELECT secret FROM keys WHERE kid = ?"
KID_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what this server names its keys: nothing else is looked up
MAX_KEY = 64 * 1024
DEADLINE = 0.25  # seconds one lookup may run before SQLite is interrupted
# Functions an injected SELECT may call: enough for the lesson (a string, char(), hex()...), none
# that makes huge values (randomblob, zeroblob) or touches anything outside the query.
FUNCTIONS = frozenset({"char", "hex", "unhex", "lower", "upper", "substr", "substring", "length",
                       "trim", "ltrim", "rtrim", "replace", "coalesce", "ifnull", "quote", "instr",
                       "concat", "concat_ws", "printf", "format", "min", "max", "count", "typeof"})


def _only_reads(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY  # writes, ATTACH, PRAGMA, recursive queries, other functions


class KeyTable:
    """`keys(kid, secret)` in an in-memory SQLite database, one row per key the server holds."""

    def __init__(self, keys: dict[str, bytes]):
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()  # one connection, workers take turns
        self._db.execute("CREATE TABLE keys (kid TEXT PRIMARY KEY, secret BLOB NOT NULL)")
        self._db.executemany("INSERT INTO keys VALUES (?, ?)", keys.items())
        self._db.commit()
        self._db.set_authorizer(_only_reads)
        # Every statement SQLite ran, bound values expanded as SQLite quotes them (tests read it).
        self.statements: list[str] = []
        self._db.set_trace_callback(self._traced)

    def _traced(self, statement: str) -> None:
        if len(self.statements) < 100:
            self.statements.append(statement)

    def formatted(self, kid: str) -> tuple[bytes, str]:
        """The mistake: kid pasted into the SQL text. The key found, and the query that found it."""
        query = f"SELECT secret FROM keys WHERE kid = '{kid}'"
        return self._run(query, ()), query

    def lookup(self, kid: object) -> bytes:
        """The defence: kid must be one of this server's key names, then it is bound as a value."""
        if not isinstance(kid, str) or not KID_NAME.fullmatch(kid):
            shown = repr(kid[:60]) if isinstance(kid, str) else type(kid).__name__
            raise BadKey(f"kid {shown} is not a key name this server gives (letters, digits, - and _, "
                         "at most 64): never looked up")
        return self._run(SAFE_QUERY, (kid,))

    def _run(self, query: str, params: tuple[str, ...]) -> bytes:
        deadline = time.monotonic() + DEADLINE
        with self._lock:
            self._db.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
            try:
                row = self._db.execute(query, params).fetchone()
            except (sqlite3.Error, sqlite3.Warning, OverflowError, ValueError) as err:
                raise BadKey(f"the key query failed: {str(err)[:120]}") from None
            finally:
                self._db.set_progress_handler(None, 0)
        if row is None or row[0] is None:
            raise BadKey("no key row for this kid")
        value = row[0]
        data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        if len(data) > MAX_KEY:
            raise BadKey(f"the key found is {len(data)} bytes, over {MAX_KEY}")
        return data

    def close(self) -> None:
        with self._lock:
            self._db.close()
