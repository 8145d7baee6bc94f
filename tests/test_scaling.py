"""demo scaling: each round's outcome, asserted from the JSON the command prints."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.walkthroughs.scaling import scaling_walkthrough
from authcli.walkthroughs.model import ConfigBlock, ExchangeBlock, ServersBlock
from conftest import require_haproxy

ARGON2_LIGHT = True  # logins here are not about Argon2's cost (tests/conftest.py)


def run(*args: str) -> dict:
    result = CliRunner().invoke(app, ["demo", "scaling", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def round_steps(doc: dict, n: int) -> list[dict]:
    return [s for s in doc["steps"] if s["title"].startswith(f"Round {n} ·")]


def outcome(steps: list[dict]) -> list[tuple[str, int]]:
    return [(s["served_by"], s["response"]["status"]) for s in steps]


def stores(step: dict) -> dict[str, int | None]:
    return {v["name"]: (len(v["store"]["rows"]) if v["store"] else None) for v in step["servers"]}


@pytest.fixture(scope="module", params=["haproxy", "builtin"])
def doc_1_2_4(request):
    """The demo in front of the real HAProxy, and with the in-process balancer standing in
    (haproxy off PATH): every round's outcome is the same."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "haproxy":
            require_haproxy()
        else:
            patch.setenv("PATH", "/nonexistent")
            patch.delenv("AUTHCLI_REQUIRE_HAPROXY", raising=False)
        doc = run("--rounds", "1,2,4")
    doc["mode"] = request.param
    return doc


def set_cookies(step: dict) -> list[str]:
    return [v for k, v in step["response"]["headers"] if k.lower() == "set-cookie"]


def test_round1_memory_round_robin(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 1)
    assert outcome(steps) == [("A", 200), ("B", 401)]
    assert stores(steps[1]) == {"A": 1, "B": 0}  # the session exists only on A
    assert steps[1]["request"]["headers"]  # the cookie was sent all the same
    assert any(k.lower() == "cookie" for k, _ in steps[1]["request"]["headers"])
    configs = steps[0]["configs"]
    if doc_1_2_4["mode"] == "haproxy":  # the lines that matter, from the file HAProxy really ran
        assert "    balance roundrobin" in configs[0]["lines"] and "balance roundrobin" in configs[0]["text"]
        assert not any("cookie" in line for line in configs[0]["lines"])
    else:
        assert configs == []


def test_round2_sticky_until_the_server_dies(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 2)
    cookies = set_cookies(steps[0])
    assert any(c.startswith("sessionId=") for c in cookies)
    assert outcome(steps) == [("A", 200), ("A", 200), ("B", 401)]
    last = steps[-1]
    assert stores(last) == {"A": None, "B": 0} and last["servers"][0]["url"] is None
    if doc_1_2_4["mode"] == "haproxy":
        assert "SERVERID=A; path=/; HttpOnly; SameSite=Lax" in cookies
        assert "    cookie SERVERID insert indirect nocache httponly attr SameSite=Lax" in steps[0]["configs"][0]["lines"]
        # indirect: HAProxy took its cookie out of the request before A saw it
        assert not any("SERVERID" in v for s in steps[1:] for k, v in s["request"]["headers"] if k.lower() == "cookie")
        assert "SERVERID=B; path=/; HttpOnly; SameSite=Lax" in set_cookies(last)  # re-pinned to the server that answered
        assert "marked A DOWN" in last["text"][0]
    else:
        assert "lb=A; Path=/; HttpOnly; SameSite=Lax" in cookies
        assert any("A is stopped" in e["message"] for e in last["server"])


def test_round4_jwt_both_servers_nothing_stored(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 4)
    assert [s["response"]["status"] for s in steps] == [200, 200, 200, 200]
    # round-robin: each server verified the token itself (the step's JSON keeps its last exchange)
    assert "A answered 200" in steps[1]["text"][0] and "B answered 200" in steps[1]["text"][0]
    assert {e["data"].get("backend") for e in steps[1]["server"] if e["kind"] == "verify"} <= {"A", "B"}
    for step in steps:
        if step["servers"] is not None:
            assert stores(step) == {"A": 0, "B": 0}


def test_round4_hs256_b_mints_a_token_that_a_accepts(doc_1_2_4):
    minted = next(s for s in round_steps(doc_1_2_4, 4) if "B mints" in s["title"])
    assert minted["response"]["status"] == 200 and minted["request"]["url"] != round_steps(doc_1_2_4, 4)[0]["request"]["url"]
    token = next(v for k, v in minted["request"]["headers"] if k.lower() == "authorization").split()[1]
    import jwt as pyjwt
    claims = pyjwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 365 * 24 * 3600  # a year: no login ever asked for it


def test_round4_with_a_key_pair_b_cannot_mint():
    doc = run("--rounds", "4", "--alg", "RS256")
    steps = round_steps(doc, 4)
    assert "A holds the RS256 private key; B holds only the public key." in steps[0]["text"][0]
    refused = next(s for s in steps if "cannot mint" in s["title"])
    assert "PyJWT refused (cannot sign with this key" in refused["text"][0] and refused.get("response") is None
    assert [s["response"]["status"] for s in steps if s.get("response")] == [200, 200, 200]
    table = doc["steps"][-1]["tables"][0]
    assert next(r for r in table["rows"] if r[0] == "Server checks")[2].startswith("signature with the public key")


def test_round5_clock_skew_then_leeway():
    steps = round_steps(run("--rounds", "5"), 5)
    skewed, fixed = steps
    assert outcome([fixed]) == [("B", 200)]
    assert skewed["response"]["status"] == 401 and skewed["served_by"] == "B"
    refusal = next(e for e in skewed["server"] if e["kind"] == "verify")
    assert "iat: issued in the future" in refusal["message"]
    assert "[^rfc7519-4.1.4]" in fixed["text"][0] and "[^rfc5905]" in fixed["text"][1]


def test_recap_is_filled_from_the_run(doc_1_2_4):
    table = doc_1_2_4["steps"][-1]["tables"][0]
    scaling = next(r for r in table["rows"] if r[0].startswith("Scaling"))
    assert "Round 1, memory + round-robin: login on A, then B answered 401." in scaling[1]
    assert "Round 4: B and A answered 200; after a restart, " in scaling[2]
    assert all(len(cell) < 400 for cell in scaling)  # sentences, not a run of status codes
    stored = next(r for r in table["rows"] if r[0] == "Data stored in")
    assert "Redis" not in stored[1]  # round 3 did not run: never claim what was not observed


def test_rounds_show_every_request_they_narrate():
    steps = list(scaling_walkthrough((2,)))
    pinned = next(s for s in steps if s.title.startswith("Round 2 · Every request"))
    assert len(pinned.all(ExchangeBlock)) == 2


def test_round3_shared_redis(redis_url):
    steps = round_steps(run("--rounds", "3", "--redis-url", redis_url), 3)
    assert outcome(steps) == [("A", 200), ("B", 200), ("B", 200)]
    assert stores(steps[1]) == {"A": 1, "B": 1}  # one Redis, seen from both
    assert stores(steps[2]) == {"A": None, "B": 1}


def test_round3_without_redis_is_skipped_with_a_reason(monkeypatch, tmp_path):
    from authcli.stores.redis import free_port
    # A PATH without redis-server; HAProxy stays on it (CI requires the real balancer).
    if shutil.which("haproxy"):
        (tmp_path / "haproxy").symlink_to(shutil.which("haproxy"))
    monkeypatch.setenv("PATH", str(tmp_path))
    doc = run("--rounds", "3,1", "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    skipped = next(s for s in doc["steps"] if s["title"].startswith("Round 3 skipped"))
    assert "apt-get install redis-server" in skipped["text"][0]
    assert outcome(round_steps(doc, 1)) == [("A", 200), ("B", 401)]


def urls(steps) -> set[str]:
    found = set()
    for step in steps:
        for view in (step.first(ServersBlock).views if step.first(ServersBlock) else []):
            if view.url:
                found.add(view.url)
        if step.exchange:
            found.add(step.exchange.request.url.rsplit("/", 1)[0])
    return found


def assert_all_closed(addresses: set[str]) -> None:
    assert addresses
    for url in addresses:
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/", timeout=1)


def haproxy_children() -> list[str]:
    """This process's child processes that are haproxy (Linux: /proc)."""
    me = f"/proc/{os.getpid()}/task"
    if not os.path.isdir(me):
        return []
    kids = {pid for task in os.listdir(me) for pid in open(f"{me}/{task}/children").read().split()}
    found = []
    for pid in kids:
        try:
            if "haproxy" in open(f"/proc/{pid}/comm").read():
                found.append(pid)
        except FileNotFoundError:
            pass
    return found


@pytest.mark.parametrize("haproxy", ["find", None])
def test_every_server_is_stopped_at_the_end(haproxy):
    steps = list(scaling_walkthrough((1, 2, 4), haproxy=haproxy))
    assert_all_closed(urls(steps))
    assert haproxy_children() == []


@pytest.mark.parametrize("haproxy", ["find", None])
def test_every_server_is_stopped_when_interrupted(haproxy):
    gen = scaling_walkthrough((1, 2), haproxy=haproxy)
    steps = [next(gen) for _ in range(4)]
    if haproxy and shutil.which("haproxy") and os.path.isdir("/proc"):
        assert haproxy_children()  # one was running mid-round...
    gen.close()  # what Ctrl-C does through play()
    assert_all_closed(urls(steps))
    assert haproxy_children() == []  # ...and it was killed and waited for


def test_each_round_shows_the_haproxy_lines_that_matter(haproxy):
    steps = list(scaling_walkthrough((1, 2), haproxy=haproxy))
    shown = [s.first(ConfigBlock) for s in steps if s.first(ConfigBlock)]
    assert len(shown) == 2 and all("    option redispatch" in c.lines for c in shown)
    assert any("cookie A check" in line for line in shown[1].lines)


@pytest.mark.parametrize("rounds", ["", "6", "1,x", "0"])
def test_bad_rounds(rounds):
    result = CliRunner().invoke(app, ["demo", "scaling", "--rounds", rounds])
    assert result.exit_code == 2 and "--rounds takes numbers from 1 to 5" in result.stderr


def test_balancer_pairs_each_answer_with_its_own_events_under_concurrency():
    """Each forwarded request's events are found by its connection, so eight clients logging in
    at once each get the server events of their own login."""
    from authcli.server.transport.balancer import Backend, Balancer
    from authcli.events import SessionCreated
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.stores.memory import MemoryStore
    from conftest import hammer, login_response

    backends = [Backend(name, AuthServer(SessionAuth(MemoryStore(), 60)).start()) for name in "AB"]
    balancer = AuthServer(Balancer(backends)).start()
    mismatches = []
    try:
        def client(n: int) -> None:
            for _ in range(5):
                mark = balancer.mark()
                resp = login_response(requests, balancer.url)
                sid = resp.cookies["sessionId"]
                mine = [r for r in balancer.records_since(mark)
                        if any(isinstance(e, SessionCreated) and e.session_id == sid for e in r.events)]
                if len(mine) != 1 or mine[0].events[-1].backend != resp.headers["X-Served-By"]:
                    mismatches.append((n, sid))

        assert hammer(client) == []
    finally:
        balancer.stop()
        for backend in backends:
            backend.server.stop()
    assert mismatches == []


def test_the_recap_draws_every_request_through_the_balancer(doc_1_2_4):
    """The recap's sequence diagram: each request to the balancer, on to the server that
    answered (the X-Served-By of the real response), and back."""
    recap = doc_1_2_4["steps"][-1]
    diagram = recap["diagram"]
    front = "HAProxy" if doc_1_2_4["mode"] == "haproxy" else "Balancer"
    assert diagram["lanes"] == ["Client", front, "A", "B"]
    sent = [m for m in diagram["messages"] if m["from"] == "Client"]
    answered = [m["text"] for m in diagram["messages"] if m["to"] == "Client"]
    assert len(sent) == len(answered) >= 7 and sent[0]["text"] == "POST /login (round 1)"
    assert "401 Unauthorized" in answered
