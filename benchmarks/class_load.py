"""A lecture hall answering at once (issue #28): 200 students answer one question within a second.

    python benchmarks/class_load.py [--students 200] [--rounds 3] [--same-address]

The class server (and a session demo server beside it, as `class start` runs one) runs in its
own process; every student is a socket from its own loopback address (127.0.1.x: a device of
its own on the room's network) holding an open Server-Sent Events stream and a keep-alive
connection for its answers. Each round the teacher opens a question; the students answer
within one second (every fifth sends a second answer, which must replace the first); the
teacher closes it. Measured, pooled over every round:

  fan-out    question opened -> the last student's stream has it
  answer     each POST /class/answer's latency (send -> whole response)
  histogram  the last answer's response -> the teacher has the tally (count and histogram)
  reveal     the last answer's response -> the last student's stream has the histogram
  demo       the demo server's GET /profile (a new connection each, every 10 ms) while the room
             is quiet and while it answers, interleaved
  rss        the server process's RSS after each round

Each round checks that every answer was recorded once, the last one each student sent.
"""

from __future__ import annotations

import argparse
import json
import random
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"


def serve() -> None:
    """The server process: a class room and a demo server; commands on stdin, answers on stdout."""
    from authcli.classroom.room import Question, Room
    from authcli.server.schemes.classroom import ClassApp
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.transport.httpd import AuthServer
    from authcli.stores.memory import MemoryStore

    room = Room()
    with AuthServer(ClassApp(room)) as server, AuthServer(SessionAuth(MemoryStore(), 3600)) as demo:
        print(json.dumps({"port": server.port, "token": room.token, "demo": demo.port}), flush=True)
        n = 0
        for line in sys.stdin:
            if line.strip() == "ask":
                n += 1
                room.ask([Question(f"predict:{n}", "Status of GET /profile now?", ("200", "401"), "401")],
                         "predict")
                print(json.dumps({"key": f"predict:{n}"}), flush=True)
            elif line.strip() == "close":
                [tally] = room.close(reveal=True)
                rss = int(next(x for x in open("/proc/self/status") if x.startswith("VmRSS")).split()[1])
                print(json.dumps({"count": len(tally.answers), "histogram": tally.histogram,
                                  "answers": {s: c for s, (c, _) in tally.answers.items()},
                                  "rss_kib": rss, "errors": server.handler_errors}), flush=True)
            else:
                break


def request(method: str, path: str, body: bytes = b"", cookie: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    return (head + "\r\n").encode() + body


def whole(sock: socket.socket) -> bytes:
    """One Content-Length framed response."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


class Device:
    """One student: an address, a seat, a stream and an answer connection."""

    def __init__(self, port: int, token: str, i: int, same: bool):
        self.address = HOST if same else f"127.0.{1 + i // 250}.{1 + i % 250}"
        self.name = f"student {i}"
        self.port = port
        join = self.connect()
        join.sendall(request("POST", "/class/join", json.dumps({"name": self.name, "token": token}).encode()))
        answer = whole(join)
        self.cookie = next(l.split(b":", 1)[1].split(b";")[0].strip().decode()
                           for l in answer.split(b"\r\n") if l.lower().startswith(b"set-cookie"))
        self.answers = join  # keep-alive: the same connection answers
        self.stream = self.connect()
        self.stream.sendall(request("GET", "/class/events", cookie=self.cookie))
        self.stream.setblocking(False)
        self.seen = b""

    def connect(self) -> socket.socket:
        sock = socket.socket()
        sock.bind((self.address, 0))
        sock.connect((HOST, self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def watch(devices: list[Device], marker: bytes, deadline: float) -> float:
    """Read every stream until each has `marker`; when the last one did."""
    sel = selectors.DefaultSelector()
    waiting = {d for d in devices if marker not in d.seen}
    for d in waiting:
        sel.register(d.stream, selectors.EVENT_READ, d)
    last = time.perf_counter()
    while waiting and time.perf_counter() < deadline:
        for key, _ in sel.select(0.5):
            d = key.data
            d.seen += d.stream.recv(65536)
            if marker in d.seen:
                waiting.discard(d)
                sel.unregister(d.stream)
                last = time.perf_counter()
    sel.close()
    if waiting:
        raise SystemExit(f"{len(waiting)} streams never saw {marker!r}")
    return last


def answer_burst(devices: list[Device], key: str, rng: random.Random) -> tuple[list[float], dict, float]:
    """Every student answers within one second (some twice); latencies, final choices, last done."""
    plan = []
    for d in devices:
        at = rng.uniform(0, 1.0)
        plan.append((at, d, rng.choice(["200", "401"])))
        if rng.random() < 0.2:
            plan.append((min(1.0, at + rng.uniform(0, 0.2)), d, rng.choice(["200", "401"])))
    plan.sort(key=lambda p: p[0])
    final = {}
    lock = threading.Lock()
    latencies: list[float] = []
    last = [0.0]
    per_device: dict[Device, list] = {}
    for at, d, choice in plan:
        per_device.setdefault(d, []).append((at, choice))
        final[d.name] = choice

    def student(d: Device, answers: list, start: float) -> None:
        for at, choice in answers:
            time.sleep(max(0.0, start + at - time.perf_counter()))
            sent = time.perf_counter()
            d.answers.sendall(request("POST", "/class/answer", json.dumps({"key": key, "choice": choice}).encode(),
                                      d.cookie))
            reply = whole(d.answers)
            done = time.perf_counter()
            assert b" 200 " in reply.split(b"\r\n")[0], reply[:200]
            with lock:
                latencies.append(done - sent)
                last[0] = max(last[0], done)

    start = time.perf_counter() + 0.05
    threads = [threading.Thread(target=student, args=(d, a, start)) for d, a in per_device.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, final, last[0]


def demo_probe(port: int, stop: threading.Event, out: list[float]) -> None:
    login = socket.create_connection((HOST, port))
    body = b'{"email": "a@b.com", "password": "123"}'
    login.sendall(request("POST", "/login", body))
    cookie = next(l.split(b":", 1)[1].split(b";")[0].strip().decode()
                  for l in whole(login).split(b"\r\n") if l.lower().startswith(b"set-cookie"))
    login.close()
    while not stop.is_set():
        t = time.perf_counter()
        with socket.create_connection((HOST, port)) as s:
            s.sendall(request("GET", "/profile", cookie=cookie))
            assert b" 200 " in whole(s)[:20]
        out.append(time.perf_counter() - t)
        stop.wait(0.01)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--same-address", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    info = json.loads(proc.stdout.readline())
    devices = [Device(info["port"], info["token"], i, args.same_address) for i in range(args.students)]
    watch(devices, b'"phase": "waiting"', time.perf_counter() + 10)
    rng = random.Random(28)
    results: dict[str, list[float]] = {k: [] for k in ("fanout", "answer", "histogram", "reveal", "quiet", "busy")}
    rss = []
    for r in range(args.rounds):
        quiet: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=demo_probe, args=(info["demo"], stop, quiet))
        probe.start()
        time.sleep(0.5)
        stop.set()
        probe.join()
        results["quiet"] += quiet
        for d in devices:
            d.seen = b""
        t = time.perf_counter()
        proc.stdin.write("ask\n")
        proc.stdin.flush()
        key = json.loads(proc.stdout.readline())["key"]
        results["fanout"].append(watch(devices, key.encode(), t + 10) - t)
        busy: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=demo_probe, args=(info["demo"], stop, busy))
        probe.start()
        latencies, final, last = answer_burst(devices, key, rng)
        stop.set()
        probe.join()
        results["busy"] += busy
        results["answer"] += latencies
        proc.stdin.write("close\n")
        proc.stdin.flush()
        tally = json.loads(proc.stdout.readline())
        results["histogram"].append(time.perf_counter() - last)
        results["reveal"].append(watch(devices, b'"phase": "reveal"', time.perf_counter() + 10) - last)
        expected = {"200": sum(c == "200" for c in final.values()), "401": sum(c == "401" for c in final.values())}
        assert tally["count"] == args.students and tally["histogram"] == expected, (tally["histogram"], expected)
        assert tally["answers"] == {n.casefold(): c for n, c in final.items()} and tally["errors"] == 0
        rss.append(tally["rss_kib"] / 1024)
        print(f"round {r + 1}: {len(latencies)} answers from {args.students} students, count {tally['count']}, "
              f"histogram {tally['histogram']}, RSS {rss[-1]:.1f} MiB", flush=True)
    proc.stdin.write("quit\n")
    proc.stdin.close()
    proc.wait(10)
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    for name in ("fanout", "answer", "histogram", "reveal", "quiet", "busy"):
        v = results[name]
        print(f"{name:10} n={len(v):4}  median {ms(statistics.median(v))}  p90 {ms(pct(v, 0.9))}  "
              f"max {ms(max(v))}")
    print(f"server RSS: {min(rss):.1f}-{max(rss):.1f} MiB over {args.rounds} rounds")


if __name__ == "__main__":
    main()
