from authcli.passwords import DEMO_EMAIL, demo_users, hash_password, verify_password


def test_hash_is_salted_scrypt_and_verifies():
    a, b = hash_password("123"), hash_password("123")
    assert a.startswith("scrypt$16384$8$1$") and a != b  # a fresh salt each time
    assert verify_password("123", a) and not verify_password("1234", a)


def test_directory_checks_known_and_unknown_users_alike():
    users = demo_users()
    assert users.check(DEMO_EMAIL, "123").user_id == 1
    assert users.check(DEMO_EMAIL, "wrong") is None
    assert users.check("nobody@b.com", "123") is None
    assert "123" not in users.users()[0].password_hash
