"""What the server keeps grows only so far (issue #22): the journal, /attacker/log's answers, the
memory store's expiry heap, the request log's queue, and the file descriptors it needs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from authcli.cli.logwriter import LogWriter
from authcli.server.lab.crosssite import LOG_PAGE, LOG_VALUE, CrossSiteLab
from authcli.server.journal import RECORD_KEPT, VALUE_KEPT, Journal, Request, RequestRecord, kept
from authcli.stores.memory import MemoryStore
from authcli.stores.base import overwrite
from conftest import FakeClock

NOTE = len("... (99999 bytes cut)")
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12000)


# The journal ------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Host", "Cookie", "Origin", "X-A"]), HEADER_VALUES), max_size=12),
       st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=9000), st.binary(max_size=17000))
def test_the_journal_keeps_a_bounded_part_of_any_request_and_says_what_it_cut(headers, path, body):
    request = Request("GET", "/" + path, "HTTP/1.1", headers, body)
    trimmed, size = kept(request)
    assert size <= RECORD_KEPT + (len(headers) * 2 + 2) * NOTE
    for (name, value), (_, kept_value) in zip(headers, trimmed.headers):
        if kept_value != value:
            cut = int(re.search(r"\((\d+) bytes cut\)$", kept_value).group(1))
            assert kept_value.startswith(value[:len(value) - cut]) and len(value) - cut <= VALUE_KEPT
    if len(body) <= VALUE_KEPT and size < VALUE_KEPT:
        assert trimmed.body == body


def test_the_journal_drops_its_oldest_records_past_its_byte_budget():
    journal = Journal(1000, kept_bytes=50_000)
    big = [("Host", "h" * 10_000), ("Origin", "o" * 10_000), ("X", "x" * 10_000)]
    for _ in range(1000):
        journal.record(RequestRecord(Request("GET", "/profile", "HTTP/1.1", big), 401, []))
    records = journal.since(0)
    assert journal.recorded == 1000 and 1 <= len(records) <= 50_000 // (3 * VALUE_KEPT)
    assert all(len(v) <= VALUE_KEPT + NOTE for r in records for _, v in r.request.headers)


def log(lab: CrossSiteLab, query: str) -> dict:
    return json.loads(lab.handle(Request("GET", "/attacker/log?" + query, "HTTP/1.1", [])).body)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 300), st.integers(0, 400), st.one_of(st.none(), st.integers(-5, 500)))
def test_the_attacker_log_comes_a_page_at_a_time_and_every_request_once(count, since, limit):
    journal = Journal(1000)
    for n in range(count):
        path = "/profile" if n % 3 else "/style.css"  # only the handout's routes are shown
        journal.record(RequestRecord(Request("GET", f"{path}?n={n}", "HTTP/1.1", [("Host", f"h{n}")]), 401, []))
    lab = CrossSiteLab(journal, "session")
    seen, mark, pages = [], since, 0
    query = "" if limit is None else f"&limit={limit}"
    while True:
        page = log(lab, f"since={mark}{query}")
        pages += 1
        assert len(page["requests"]) <= (LOG_PAGE if limit is None or limit < 0 else max(1, min(LOG_PAGE, limit)))
        seen += [entry["host"] for entry in page["requests"]]
        mark = page["next"]
        if not page["more"]:
            break
        assert pages < 400
    assert seen == [f"h{n}" for n in range(min(since, count), count) if n % 3]


def test_one_log_answer_stays_small_however_the_journal_was_filled():
    journal = Journal(1000)
    ten_kb = [("Host", "h" * 10_000), ("Origin", "o" * 10_000), ("Sec-Fetch-Site", "s" * 10_000),
              ("Cookie", "a=" + "c" * 10_000)]
    for _ in range(1000):
        journal.record(RequestRecord(Request("GET", "/profile", "HTTP/1.1", ten_kb), 401, []))
    body = CrossSiteLab(journal, "session").handle(Request("GET", "/attacker/log?since=0", "HTTP/1.1", [])).body
    page = json.loads(body)
    assert len(body) < 100_000 and page["more"] is True and len(page["requests"]) == LOG_PAGE
    assert all(len(entry["host"]) <= LOG_VALUE + 30 for entry in page["requests"])


# The memory store's expiry heap ------------------------------------------------------------------

def test_an_idle_touch_on_every_request_keeps_one_heap_entry_per_session():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.create("s", {"n": 0}, 3600)
    for n in range(5000):
        clock.advance(0.3)
        overwrite(store, "s", {"n": n}, int(3600 - 0.3 * n))
    assert len(store._deadlines) <= 2 and store.get("s") == {"n": 4999}


OPS = st.lists(st.tuples(st.sampled_from(["create", "overwrite", "delete", "advance", "purge"]),
                         st.integers(0, 4), st.integers(1, 30)), max_size=80)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_the_memory_store_expires_like_a_plain_model_with_a_bounded_heap(ops):
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    model: dict[str, float] = {}
    for op, n, seconds in ops:
        sid = f"s{n}"
        if op == "create" and (sid not in model or model[sid] <= clock.now):
            model.pop(sid, None)
            store.delete(sid)
            store.create(sid, {"n": n}, seconds)
            model[sid] = clock.now + seconds
        elif op == "overwrite":
            overwrite(store, sid, {"n": n}, seconds)
            model[sid] = clock.now + seconds
        elif op == "delete":
            store.delete(sid)
            model.pop(sid, None)
        elif op == "advance":
            clock.advance(seconds / 3)
        elif op == "purge":
            store.purge()
            assert store.count() == sum(1 for d in model.values() if d > clock.now)
        for key, deadline in model.items():
            assert (store.get(key) is not None) == (deadline > clock.now)
        model = {k: d for k, d in model.items() if d > clock.now}
        assert len(store._deadlines) <= 2 * 5 + len(ops)  # never one per write over time
        assert len(store._queued) <= 5


# The request log ----------------------------------------------------------------------------------

class StuckTerminal:
    """A terminal paused with Ctrl-S: every write waits until it is resumed."""

    def __init__(self):
        self.resumed = threading.Event()
        self.text = []

    def write(self, text: str) -> None:
        self.resumed.wait(10)
        self.text.append(text)

    def flush(self) -> None:
        pass


def test_a_paused_terminal_never_blocks_the_server_and_dropped_lines_are_said_once():
    out = StuckTerminal()
    writer = LogWriter(out, lambda record, state: f"{record.request.target} {state}\n", lambda: "[s]", size=100)
    record = RequestRecord(Request("GET", "/profile", "HTTP/1.1", []), 401, [])
    start = time.monotonic()
    for _ in range(5000):
        writer(record)
    assert time.monotonic() - start < 1.0 and writer.dropped >= 4000
    out.resumed.set()
    end = time.monotonic() + 5
    while writer.backlog and time.monotonic() < end:
        time.sleep(0.01)
    writer(record)
    writer.close()
    said = [line for line in out.text if "dropped" in line]
    assert len(said) == 1 and re.search(r"\d+ log lines dropped: the terminal was not reading", said[0])


def test_serve_with_nobody_reading_its_log_still_answers(tmp_path):
    """`authcli serve | less` waiting at a full screen: the pipe is full, the server still serves."""
    from authcli.stores.redis import free_port

    import requests

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "authcli", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 10
        while True:
            try:
                requests.get(url + "/nope", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "authcli serve did not start"
                time.sleep(0.05)
        with requests.Session() as http:  # 1,200 lines of ~160 bytes: far past a 64 KiB pipe
            slowest = max(_timed(lambda: http.get(url + "/profile?x=" + "a" * 60, timeout=5)) for _ in range(1200))
        assert slowest < 2.0
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert out.count(b"/profile?x=") == 1200 and b"Traceback" not in err  # written once it was read


def _timed(call) -> float:
    start = time.monotonic()
    assert call().status_code == 401
    return time.monotonic() - start


# Out of file descriptors -------------------------------------------------------------------------

EMFILE_SERVER = textwrap.dedent("""
    import os, resource, sys, time
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.stores.memory import MemoryStore
    server = AuthServer(SessionAuth(MemoryStore(), 60), request_timeout=30).start()
    hog = []
    try:
        while True:  # whatever else the process opened: every descriptor is now in use
            hog.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    for fd in hog[-3:]:
        os.close(fd)
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()
""")


def test_out_of_descriptors_the_server_rests_instead_of_spinning_and_makes_room():
    proc = subprocess.Popen([sys.executable, "-c", EMFILE_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    socks = []
    try:
        port = int(proc.stdout.readline())
        for _ in range(3):  # the last three descriptors, held idle
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 404")
            socks.append(sock)
        fresh = socket.create_connection(("127.0.0.1", port), timeout=5)  # waits in the backlog
        socks.append(fresh)
        fresh.sendall(b"GET /profile HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        before = _cpu(proc.pid)
        assert fresh.recv(100).startswith(b"HTTP/1.1 401")  # an idle one was closed for it
        blocked = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(blocked)
        for sock in socks[:3]:  # no idle connection left to close: it waits, the server rests
            sock.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(1.0)
        assert _cpu(proc.pid) - before < 0.5, "the server spun while out of descriptors"
    finally:
        for sock in socks:
            sock.close()
        out, err = proc.communicate("", timeout=10)
    assert "Traceback" not in err


def _cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The login queue ------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from("abcd"), st.just("get")), max_size=120))
def test_the_login_queue_is_bounded_per_address_and_takes_addresses_in_turn(ops):
    from authcli.server.transport.limits import SlowQueue

    queue = SlowQueue(size=12, per_address=4)
    waiting: dict[str, int] = {}
    owed: dict[str, set[str]] = {}  # who was waiting when an address was last served
    for n, op in enumerate(ops):
        if op == "get":
            if not len(queue):
                continue
            _, (address, _) = queue.get()
            # Round-robin: served again only after every address that was waiting last time.
            assert not owed.get(address, set()) & set(waiting)
            for others in owed.values():
                others.discard(address)
            waiting[address] -= 1
            if not waiting[address]:
                del waiting[address]
            owed[address] = set(waiting) - {address}
        else:
            accepted = queue.put(op, (op, n))
            assert accepted == (sum(waiting.values()) < 12 and waiting.get(op, 0) < 4)
            if accepted:
                waiting[op] = waiting.get(op, 0) + 1
        assert len(queue) == sum(waiting.values()) <= 12
