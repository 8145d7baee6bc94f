"""The contract every session store keeps (parametrized so the Redis store runs the same tests)."""

import threading

import pytest

from authcli.stores import MemoryStore

RECORD = {"userId": 1, "createdAt": "2027-01-15T08:00:00Z", "expiresAt": "2027-01-15T08:01:00Z"}


@pytest.fixture(params=["memory"])
def store(request, clock):
    made = MemoryStore(clock=clock)
    yield made
    made.close()


def test_create_get_delete(store):
    store.create("id-1", RECORD, ttl=60)
    assert store.get("id-1") == RECORD
    assert store.delete("id-1") is True
    assert store.get("id-1") is None
    assert store.delete("id-1") is False


def test_get_returns_a_copy(store):
    store.create("id-1", RECORD, ttl=60)
    store.get("id-1")["userId"] = 99
    assert store.get("id-1")["userId"] == 1


def test_unknown_id_reads_write_nothing(store):
    assert store.get("never-issued") is None
    assert store.snapshot().rows == []


def test_records_expire_after_ttl(store, clock):
    store.create("id-1", RECORD, ttl=5)
    clock.advance(4.9)
    assert store.get("id-1") == RECORD
    row = store.snapshot().get("id-1")
    assert row.value == RECORD and row.ttl == pytest.approx(0.1)
    clock.advance(0.2)
    assert store.get("id-1") is None
    assert store.snapshot().rows == []


def test_snapshot_lists_live_records(store):
    store.create("a", RECORD, ttl=60)
    store.create("b", {**RECORD, "userId": 2}, ttl=60)
    snap = store.snapshot()
    assert snap.backend == store.backend
    assert sorted(snap.ids()) == ["a", "b"] and snap.get("b").value["userId"] == 2


def test_duplicate_create_is_refused(store):
    store.create("a", RECORD, ttl=60)
    with pytest.raises(KeyError):
        store.create("a", RECORD, ttl=60)


def test_threads_never_cross_records(store):
    errors = []

    def worker(n: int) -> None:
        for i in range(200):
            sid = f"t{n}-{i}"
            store.create(sid, {"userId": n}, ttl=60)
            if store.get(sid) != {"userId": n}:
                errors.append(sid)
            if i % 2:
                store.delete(sid)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.snapshot().rows) == 8 * 100
