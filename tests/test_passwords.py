from authcli.passwords import DEMO_EMAIL, demo_users, hash_password, verify_password


def test_hash_is_a_salted_argon2id_phc_string_with_owasps_parameters():
    a, b = hash_password("123"), hash_password("123")
    assert a.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and a != b  # a fresh salt each time
    assert verify_password("123", a) and not verify_password("1234", a)
    assert not verify_password("123", a[:-4] + "AAAA")  # a damaged hash matches nothing


def test_argon2_cffi_reads_our_hash_as_its_own():
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    encoded = hash_password("123")
    assert hasher.verify(encoded, "123") and not hasher.check_needs_rehash(encoded)


def test_at_most_one_hash_per_slot_and_the_rest_wait_then_get_busy():
    import threading

    import pytest

    from authcli.errors import Saturated
    from authcli.passwords import HashBound

    bound, encoded = HashBound(slots=1, wait=0.05), hash_password("123")
    release = threading.Event()
    holder = threading.Thread(target=bound.run, args=(release.wait,))
    holder.start()
    try:
        with pytest.raises(Saturated):
            verify_password("123", encoded, bound)
        assert verify_password("123", encoded)  # unbounded (a script, not a server): no queue
    finally:
        release.set()
        holder.join()


def test_two_servers_in_one_process_each_have_their_own_bound():
    """A and B behind the balancer, or two tests' servers: a login queue full on one server
    makes no login on the other wait."""
    import threading

    import requests

    from authcli.passwords import HashBound
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.stores.memory import MemoryStore

    a, b = SessionAuth(MemoryStore(), 60), SessionAuth(MemoryStore(), 60)
    assert isinstance(a.hashing, HashBound) and a.hashing is not b.hashing
    busy = HashBound(slots=1, wait=0.05)
    a = SessionAuth(MemoryStore(), 60, hashing=busy)
    release = threading.Event()
    holder = threading.Thread(target=busy.run, args=(release.wait,))  # A's one slot, taken
    holder.start()
    body = {"email": DEMO_EMAIL, "password": "123"}
    try:
        with AuthServer(a) as server_a, AuthServer(b) as server_b:
            assert requests.post(f"{server_a.url}/login", json=body, timeout=5).status_code == 503
            assert requests.post(f"{server_b.url}/login", json=body, timeout=5).status_code == 200
    finally:
        release.set()
        holder.join()


def test_directory_checks_known_and_unknown_users_alike():
    users = demo_users()
    assert users.check(DEMO_EMAIL, "123").user_id == 1
    assert users.check(DEMO_EMAIL, "wrong") is None
    assert users.check("nobody@b.com", "123") is None
    # Stored as an Argon2id hash, never the password: (its base64 may hold "123" by chance)
    stored = users.users()[0].password_hash
    assert stored.startswith("$argon2id$") and stored.split("$")[-1] != "123"


def test_only_serves_entry_point_changes_the_allocator():
    """mallopt changes the host process's allocator: never from a library module."""
    from pathlib import Path

    import authcli

    root = Path(authcli.__file__).parent
    callers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "mallopt(" in p.read_text())
    assert callers == ["cli/allocator.py"]
    assert "@gives_hash_memory_back" in (root / "cli" / "serve.py").read_text()
