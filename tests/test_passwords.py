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


def test_at_most_one_hash_per_core_and_the_rest_wait_then_get_busy(monkeypatch):
    import threading

    import pytest

    from authcli import passwords
    from authcli.errors import Saturated

    monkeypatch.setattr(passwords, "QUEUE_WAIT", 0.05)
    monkeypatch.setattr(passwords, "_hashing", threading.BoundedSemaphore(1))
    release = threading.Event()
    holder = threading.Thread(target=passwords._bounded, args=(release.wait,))
    holder.start()
    try:
        with pytest.raises(Saturated):
            passwords.verify_password("123", hash_password("123"))
    finally:
        release.set()
        holder.join()


def test_directory_checks_known_and_unknown_users_alike():
    users = demo_users()
    assert users.check(DEMO_EMAIL, "123").user_id == 1
    assert users.check(DEMO_EMAIL, "wrong") is None
    assert users.check("nobody@b.com", "123") is None
    assert "123" not in users.users()[0].password_hash
