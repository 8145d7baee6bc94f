"""demo scaling: each round's outcome, asserted from the JSON the command prints."""

from __future__ import annotations

import json

import pytest
import requests
from typer.testing import CliRunner

from authcli.cli.app import app
from authcli.walkthroughs.scaling import scaling_walkthrough
from authcli.walkthroughs.model import ExchangeBlock, ServersBlock


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


@pytest.fixture(scope="module")
def doc_1_2_4():
    return run("--rounds", "1,2,4")


def test_round1_memory_round_robin(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 1)
    assert outcome(steps) == [("A", 200), ("B", 401)]
    assert stores(steps[1]) == {"A": 1, "B": 0}  # the session exists only on A
    assert steps[1]["request"]["headers"]  # the cookie was sent all the same
    assert any(k == "Cookie" for k, _ in steps[1]["request"]["headers"])


def test_round2_sticky_until_the_server_dies(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 2)
    cookies = [v for k, v in steps[0]["response"]["headers"] if k == "Set-Cookie"]
    assert any(c.startswith("sessionId=") for c in cookies) and "lb=A; Path=/; HttpOnly; SameSite=Lax" in cookies
    assert outcome(steps) == [("A", 200), ("A", 200), ("B", 401)]
    last = steps[-1]
    assert stores(last) == {"A": None, "B": 0} and last["servers"][0]["url"] is None
    assert any("A is stopped" in e["message"] for e in last["server"])


def test_round4_jwt_both_servers_nothing_stored(doc_1_2_4):
    steps = round_steps(doc_1_2_4, 4)
    assert [s["response"]["status"] for s in steps] == [200, 200, 200]
    served = {e["data"].get("backend") for s in steps[1:] for e in s["server"] if e["kind"] == "verify"}
    assert served == {"A", "B"}  # round-robin: each server verified the token itself
    for step in steps:
        assert stores(step) == {"A": 0, "B": 0}


def test_recap_is_filled_from_the_run(doc_1_2_4):
    table = doc_1_2_4["steps"][-1]["tables"][0]
    scaling = next(r for r in table["rows"] if r[0].startswith("Scaling"))
    assert "Round 1, memory + round-robin: login on A, then B answered 401." in scaling[1]
    assert "Round 4: B and A answered 200; after a restart, B answered 200" in scaling[2]
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


def test_round3_without_redis_is_skipped_with_a_reason(monkeypatch):
    from authcli.stores.redis import free_port
    monkeypatch.setenv("PATH", "/nonexistent")
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


def test_every_server_is_stopped_at_the_end():
    steps = list(scaling_walkthrough((1, 2, 4)))
    assert_all_closed(urls(steps))


def test_every_server_is_stopped_when_interrupted():
    gen = scaling_walkthrough((1, 2))
    steps = [next(gen) for _ in range(4)]
    gen.close()  # what Ctrl-C does through play()
    assert_all_closed(urls(steps))


@pytest.mark.parametrize("rounds", ["", "5", "1,x", "0"])
def test_bad_rounds(rounds):
    result = CliRunner().invoke(app, ["demo", "scaling", "--rounds", rounds])
    assert result.exit_code == 2 and "--rounds takes numbers from 1 to 4" in result.stderr


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
    assert diagram["lanes"] == ["Client", "Balancer", "A", "B"]
    sent = [m for m in diagram["messages"] if m["from"] == "Client"]
    answered = [m["text"] for m in diagram["messages"] if m["to"] == "Client"]
    assert len(sent) == len(answered) >= 7 and sent[0]["text"] == "POST /login (round 1)"
    assert "401 Unauthorized" in answered
