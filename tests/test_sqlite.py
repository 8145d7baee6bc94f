"""The SQLite store beyond the contract: its table, a file that outlives the server, expiry by
the query itself, threads, and a database it cannot use (one line, 503; never a traceback)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from authcli.errors import StoreConfigError, StoreUnavailable
from authcli.server.schemes.cookies import new_session_id
from authcli.stores import open_source
from authcli.stores.sqlite import SqliteStore
from conftest import hammer

RECORD = {"userId": 1, "createdAt": "2027-01-15T08:00:00Z"}


def test_rows_are_json_in_a_django_shaped_table_in_wal_mode(tmp_path, clock):
    path = str(tmp_path / "s.db")
    store, sid = SqliteStore(path, clock=clock), new_session_id()
    store.create(sid, RECORD, ttl=60)
    raw = sqlite3.connect(path)
    assert [c[1] for c in raw.execute("PRAGMA table_info(authcli_session)")] == [
        "session_key", "session_data", "expire_date"]
    (data, expire), = raw.execute("SELECT session_data, expire_date FROM authcli_session").fetchall()
    assert json.loads(data) == RECORD and expire == clock.now + 60  # JSON, never pickle
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    store.close()


def test_a_path_survives_a_restart(tmp_path):
    path = str(tmp_path / "kept.db")
    with open_source("sqlite", path) as source:
        first, sid = source.make(), new_session_id()
        first.create(sid, RECORD, ttl=60)
        first.close()
    assert os.stat(path).st_mode & 0o777 == 0o600  # it holds live session IDs
    with open_source("sqlite", path) as source:  # a new process would do just this
        again = source.make()
        assert again.get(sid) == RECORD
        again.close()
    assert os.path.exists(path)


def test_the_default_file_is_private_and_gone_at_exit():
    with open_source("sqlite") as source:
        path = source.path
        assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
        assert "deleted when authcli stops" in source.note
    assert not os.path.exists(path)


def test_the_query_refuses_an_expired_row_before_any_purge(tmp_path, clock):
    store, sid = SqliteStore(str(tmp_path / "s.db"), clock=clock), new_session_id()
    store.create(sid, RECORD, ttl=1)
    clock.advance(1)
    assert store.get(sid) is None and store.snapshot().rows == []
    raw = sqlite3.connect(str(tmp_path / "s.db"))
    assert raw.execute("SELECT count(*) FROM authcli_session").fetchone()[0] == 1  # still there
    store.purge()
    assert raw.execute("SELECT count(*) FROM authcli_session").fetchone()[0] == 0
    store.create(sid, RECORD, ttl=60)  # an expired key is free again; a live one is not
    with pytest.raises(KeyError):
        store.create(sid, RECORD, ttl=60)
    raw.close()
    store.close()


def test_purge_goes_in_batches_and_keeps_the_live(tmp_path, clock):
    store = SqliteStore(str(tmp_path / "s.db"), clock=clock)
    for _ in range(2500):
        store.create(new_session_id(), RECORD, ttl=1)
    keep = new_session_id()
    store.create(keep, RECORD, ttl=60)
    clock.advance(2)
    store.purge()
    assert store.count() == 1 and store.get(keep) == RECORD
    store.close()


def test_two_stores_on_one_file_from_many_threads(tmp_path, clock):
    path = str(tmp_path / "s.db")
    a, b = SqliteStore(path, clock=clock), SqliteStore(path, clock=clock)

    def worker(n: int) -> None:
        for i in range(50):
            sid = new_session_id()
            (a if i % 2 else b).create(sid, {"n": n, "i": i}, ttl=60)
            assert (b if i % 2 else a).get(sid) == {"n": n, "i": i}

    assert hammer(worker) == []
    assert a.count() == 8 * 50
    a.close()
    b.close()


@pytest.mark.parametrize("damage", ["corrupt", "read-only", "no-such-directory"])
def test_an_unusable_file_is_one_clear_line(tmp_path, damage):
    path = tmp_path / ("nowhere/bad.db" if damage == "no-such-directory" else "bad.db")
    if damage == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "read-only":
        SqliteStore(str(path)).close()
        path.chmod(0o400)
    if damage == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes read-only files")
    with pytest.raises(StoreConfigError) as err:
        with open_source("sqlite", str(path)):
            pass
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_file_ruined_while_serving_gets_503(tmp_path):
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.session_auth import SessionAuth
    import requests

    path = tmp_path / "s.db"
    store = SqliteStore(str(path))
    with AuthServer(SessionAuth(store=store)) as server:
        store.close()  # every pooled connection gone, and the file replaced by garbage
        for name in os.listdir(tmp_path):
            os.remove(tmp_path / name)
        path.write_bytes(b"garbage" * 1000)
        answer = requests.get(f"{server.url}/profile", cookies={"sessionId": new_session_id()}, timeout=5)
        assert answer.status_code == 503 and "Traceback" not in answer.text
    store.close()


def test_a_symlink_is_never_followed(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "link.db").symlink_to(target)
    with pytest.raises(StoreConfigError):
        with open_source("sqlite", str(tmp_path / "link.db")):
            pass
    assert not target.exists()


def test_a_store_error_is_unavailable_not_a_crash(tmp_path):
    store = SqliteStore(str(tmp_path / "s.db"))
    store.close()
    (tmp_path / "s.db").write_bytes(b"x" * 4096)
    for name in os.listdir(tmp_path):
        if name != "s.db":
            os.remove(tmp_path / name)
    with pytest.raises(StoreUnavailable):
        store.get(new_session_id())


def test_walkthrough_with_sqlite_shows_its_sql_and_survives_the_restart():
    from authcli.events import SessionCreated, SessionDeleted, SessionLookedUp
    from authcli.walkthroughs.session import session_walkthrough

    with open_source("sqlite") as source:
        steps = list(session_walkthrough(1, make_store=source.make))
    by = {s.number: s for s in steps if s.number}
    sid = by[2].exchange.event(SessionCreated).session_id
    assert by[2].exchange.event(SessionCreated).message.startswith(
        f"INSERT INTO authcli_session (session_key, session_data, expire_date) VALUES ('{sid}', '")
    assert by[2].store.facts.name == "sqlite" and by[2].store.rows[0].key == sid
    assert by[2].store.transcript()[0].startswith("sqlite> SELECT session_key, session_data")
    assert by[4].exchange.event(SessionLookedUp).message.endswith("AND expire_date > now -> '"
                                                                  + json.dumps(by[4].exchange.event(SessionLookedUp).record) + "'")
    # Expired: the query itself found no row, whether or not the purge had run yet.
    assert "AND expire_date > now -> no row" in by[7].exchange.event(SessionLookedUp).message
    assert by[7].exchange.response.status == 401 and by[7].store.rows == []
    assert by[9].exchange.event(SessionDeleted).message.endswith("-> 1 row deleted")
    assert by[12].exchange.response.status == 200 and len(by[12].store.rows) == 1
    assert "every server process on this machine can share it" in " ".join(by[12].text)


def test_rows_authcli_did_not_write_are_no_session(tmp_path, clock):
    path = str(tmp_path / "s.db")
    store, sid = SqliteStore(path, clock=clock), new_session_id()
    raw = sqlite3.connect(path)
    for value in ("not json", "[1, 2]", "\"a string\""):
        raw.execute("DELETE FROM authcli_session")
        raw.execute("INSERT INTO authcli_session VALUES (?, ?, ?)", (sid, value, clock.now + 60))
        raw.commit()
        assert store.get(sid) is None and store.snapshot().rows == []
    raw.close()
    store.close()
