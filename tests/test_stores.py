"""The contract every session store keeps, run against the memory store and a real Redis."""

from __future__ import annotations

import json
import time

import pytest

from authcli.server.schemes.cookies import new_session_id
from authcli.stores.memory import MemoryStore
from conftest import hammer

RECORD = {"userId": 1, "createdAt": "2027-01-15T08:00:00Z", "expiresAt": "2027-01-15T08:01:00Z"}


class Subject:
    """A store under test, and how to let time pass for it."""

    def __init__(self, store, expire):
        self.store = store
        self.expire = expire


@pytest.fixture(params=["memory", "redis", "sqlite"])
def subject(request, clock, tmp_path):
    if request.param == "memory":
        made = Subject(MemoryStore(clock=clock), clock.advance)
    elif request.param == "sqlite":
        from authcli.stores.sqlite import SqliteStore
        made = Subject(SqliteStore(str(tmp_path / "sessions.sqlite3"), clock=clock), clock.advance)
    else:
        from authcli.stores.redis import RedisStore
        # Redis keeps its own clock: expiry tests really wait (about a second, never more).
        made = Subject(RedisStore(request.getfixturevalue("redis_url")), time.sleep)
    yield made
    made.store.close()


def test_create_get_delete(subject):
    store, sid = subject.store, new_session_id()
    store.create(sid, RECORD, ttl=60)
    assert store.get(sid) == RECORD
    assert store.delete(sid) is True
    assert store.get(sid) is None
    assert store.delete(sid) is False


def test_get_returns_a_copy(subject):
    store, sid = subject.store, new_session_id()
    store.create(sid, RECORD, ttl=60)
    store.get(sid)["userId"] = 99
    assert store.get(sid)["userId"] == 1


def test_unknown_id_reads_write_nothing(subject):
    assert subject.store.get(new_session_id()) is None
    assert subject.store.snapshot().rows == []


def test_records_expire_after_ttl(subject):
    store, sid = subject.store, new_session_id()
    store.create(sid, RECORD, ttl=1)
    subject.expire(0.5)
    assert store.get(sid) == RECORD
    row = store.snapshot().get(sid)
    assert row.value == RECORD and 0 < row.ttl <= 0.5
    subject.expire(0.6)
    assert store.get(sid) is None
    assert store.snapshot().rows == []


def test_snapshot_lists_live_records(subject):
    store, a, b = subject.store, new_session_id(), new_session_id()
    store.create(a, RECORD, ttl=60)
    store.create(b, {**RECORD, "userId": 2}, ttl=60)
    snap = store.snapshot()
    assert snap.facts == store.facts
    assert sorted(snap.ids()) == sorted([a, b]) and snap.get(b).value["userId"] == 2
    assert snap.get(a).key == store.key(a)


def test_duplicate_create_is_refused(subject):
    sid = new_session_id()
    subject.store.create(sid, RECORD, ttl=60)
    with pytest.raises(KeyError):
        subject.store.create(sid, RECORD, ttl=60)


NOTATIONS = {
    # The handout's own object for memory; the redis-cli commands the Redis store really runs.
    "memory": {
        "write": 'sessionStore["{sid}"] = {json}  (expires in 60 s)',
        "found": 'sessionStore["{sid}"] -> {json}',
        "missing": 'sessionStore["{sid}"] -> no such record',
        "deleted": 'delete sessionStore["{sid}"] -> deleted',
        "not deleted": 'delete sessionStore["{sid}"] -> there was no record',
        "label": 'sessionStore["{sid}"]',
        "title": "Session store (memory, on the server): 1 record",
    },
    "redis": {
        "write": "SET session:{sid} '{json}' EX 60 NX -> OK",
        "found": "GET session:{sid} -> '{json}'",
        "missing": "GET session:{sid} -> (nil)",
        "deleted": "DEL session:{sid} -> (integer) 1",
        "not deleted": "DEL session:{sid} -> (integer) 0",
        "label": "session:{sid}",
        "title": "Redis, read back with SCAN, GET and PTTL: 1 session key",
    },
    "sqlite": {  # the SQL the store runs, `now` standing for the server's clock bound to a ?
        "write": "INSERT INTO authcli_session (session_key, session_data, expire_date) "
                 "VALUES ('{sid}', '{json}', now + 60) -> 1 row",
        "found": "SELECT session_data FROM authcli_session WHERE session_key = '{sid}' AND expire_date > now "
                 "-> '{json}'",
        "missing": "SELECT session_data FROM authcli_session WHERE session_key = '{sid}' AND expire_date > now "
                   "-> no row",
        "deleted": "DELETE FROM authcli_session WHERE session_key = '{sid}' -> 1 row deleted",
        "not deleted": "DELETE FROM authcli_session WHERE session_key = '{sid}' -> 0 rows deleted",
        "label": "{sid}",
        "title": "SQLite table authcli_session, read back with SELECT: 1 row",
    },
}


def test_describe_speaks_the_backends_notation(subject):
    store, sid = subject.store, new_session_id()
    want = {k: v.format(sid=sid, json=json.dumps(RECORD)) for k, v in NOTATIONS[store.facts.name].items()}
    assert store.describe("write", sid, RECORD, 60) == want["write"]
    assert store.describe("read", sid, RECORD) == want["found"]
    assert store.describe("read", sid) == want["missing"]
    assert store.describe("delete", sid, True) == want["deleted"]
    assert store.describe("delete", sid, False) == want["not deleted"]
    store.create(sid, RECORD, ttl=60)
    snapshot = store.snapshot()
    assert snapshot.labels() == [want["label"]] and snapshot.title == want["title"]


FACTS = {  # survives_restart, expires_by_itself, takes_url, takes_path
    "memory": (False, False, False, False),
    "redis": (True, True, True, False),
    "sqlite": (True, False, False, True),
}


def test_facts_tell_the_stores_apart(subject):
    facts = subject.store.facts
    assert (facts.survives_restart, facts.expires_by_itself, facts.takes_url, facts.takes_path) == FACTS[facts.name]


def test_threads_never_cross_records(subject):
    store, errors = subject.store, []

    def worker(n: int) -> None:
        for i in range(100):
            sid = new_session_id()
            store.create(sid, {"userId": n, "i": i}, ttl=60)
            if store.get(sid) != {"userId": n, "i": i}:
                errors.append(sid)
            if i % 2:
                store.delete(sid)

    assert hammer(worker) == []
    assert errors == []
    assert len(store.snapshot().rows) == 8 * 50


def test_redis_keys_are_prefixed_json_with_a_ttl(redis_url):
    import redis

    from authcli.stores.redis import RedisStore
    store, sid = RedisStore(redis_url), new_session_id()
    store.create(sid, RECORD, ttl=60)
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert set(raw.keys("*")) == {"session:index", f"session:{sid}"}
    assert raw.type("session:index") == "zset" and raw.zrange("session:index", 0, -1) == [sid]
    assert json.loads(raw.get(f"session:{sid}")) == RECORD  # JSON, never pickle
    assert 58 <= raw.ttl(f"session:{sid}") <= 60
    raw.close()
    store.close()


def test_memory_purge_drops_what_expired_and_keeps_the_rest(clock):
    store = MemoryStore(clock=clock)
    short = [new_session_id() for _ in range(2500)]  # more than one purge batch
    for sid in short:
        store.create(sid, RECORD, ttl=1)
    keep = new_session_id()
    store.create(keep, RECORD, ttl=60)
    again = short[0]
    store.delete(again)
    store.create(again, RECORD, ttl=60)  # re-created with a later deadline: must survive
    assert store.count() == 2501
    clock.advance(2)
    store.purge()
    assert store.count() == 2 and store.get(keep) == RECORD and store.get(again) == RECORD


def test_size_counts_what_is_held_without_reading_it(subject):
    """size() is what `serve`'s log shows, O(1) in every store: created and deleted records
    counted, an expired one gone after a purge."""
    store, ids = subject.store, [new_session_id() for _ in range(5)]
    for sid in ids:
        store.create(sid, RECORD, ttl=60)
    store.create(new_session_id(), RECORD, ttl=1)
    assert store.size() == 6
    store.delete(ids[0])
    assert store.size() == 5
    subject.expire(1.1)
    store.purge()
    assert store.size() == 4 == store.count()



def test_delete_says_true_only_for_a_live_record(subject):
    """Login narrates "its old record was deleted" from this answer: an expired record a purge
    has not reached yet answers as Redis does (already gone), whatever the purge's timing."""
    store, live, stale = subject.store, new_session_id(), new_session_id()
    store.create(live, RECORD, ttl=60)
    store.create(stale, RECORD, ttl=1)
    subject.expire(1.1)
    assert store.delete(live) is True
    assert store.delete(stale) is False
    assert store.delete(new_session_id()) is False
