import pytest

from authcli.server.schemes.cookies import clear_cookie, new_session_id, read_session_cookie, set_cookie

# Fixed, not drawn at import: test IDs must be the same in every process that collects them.
VALID = "UD4nMRBL75J7Tq4uvHxwcuATmSzk6uUV6HCofUzxRO8"
OTHER = "q1Wl2mX0cYbN7Jr9pT4vKe8sAhZ3uGdLf6oRiEwC5yM"


def test_new_ids_are_256_bit_and_unique():
    ids = {new_session_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 43 for i in ids)


def test_set_cookie_flags():
    header = set_cookie(VALID)
    assert header == f"sessionId={VALID}; Path=/; HttpOnly; SameSite=Lax"
    assert "Domain" not in header and "Max-Age=0" in clear_cookie()


@pytest.mark.parametrize("headers, expected", [
    ([f"sessionId={VALID}"], VALID),
    ([f"theme=dark; sessionId={VALID}; lang=en"], VALID),
    ([f'a="x; sessionId={VALID}'], VALID),  # quotes never span a `;`, as in browsers
    ([f"sessionId = {VALID} "], VALID),
])
def test_reads_one_well_formed_id(headers, expected):
    assert read_session_cookie(headers).session_id == expected


@pytest.mark.parametrize("headers, problem", [
    ([], "no sessionId"),
    (["theme=dark"], "no sessionId"),
    ([f"sessionId={VALID}; sessionId={OTHER}"], "ambiguous"),
    ([f"sessionId={VALID}", f"sessionId={VALID}"], "ambiguous"),
    (["sessionId="], "malformed"),
    (["sessionId=abc123"], "malformed"),
    ([f"sessionId={VALID[:-1]}"], "malformed"),
    ([f'sessionId="{VALID}"'], "malformed"),
    ([f"sessionId={VALID}\x01"], "malformed"),
    ([f"sessionId={'A' * 5000}"], "malformed"),
])
def test_refuses_everything_else(headers, problem):
    lookup = read_session_cookie(headers)
    assert lookup.session_id is None and problem in lookup.problem
