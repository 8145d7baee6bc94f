"""Microseconds to parse one keep-alive request head: h11 (new parser each time, or one reused
with start_next_cycle) against httptools (llhttp, the parser uvicorn uses with its extras).

    python benchmarks/parse_heads.py [--rounds 7] [--number 20000]

Each variant parses the GET /profile wrk sends in serve_throughput.py (Host, a bearer token)
into method, target and header list, as authcli's wire.py needs them. Rounds are interleaved
(each variant once per round, the order turning) and the median of the rounds is reported with
the spread. Needs httptools (pip install httptools) for its row; without it, the row is skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from pathlib import Path

import h11

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from authcli.server.transport.wire import MAX_HEAD, Reader  # noqa: E402

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "e" * 120 + "." + "s" * 43
HEAD = (b"GET /profile HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: Bearer "
        + TOKEN.encode() + b"\r\n\r\n")
DONE = h11.Response(status_code=200, headers=[("Content-Length", "0")])


def h11_new() -> None:
    parser = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    parser.receive_data(HEAD)
    event = parser.next_event()
    list(event.headers.raw_items())
    parser.next_event()  # EndOfMessage


_reused = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)


def h11_reused() -> None:
    """What uvicorn's h11 protocol does: the response goes through send() (its bytes unused
    here: authcli writes its own), then start_next_cycle."""
    _reused.receive_data(HEAD)
    event = _reused.next_event()
    list(event.headers.raw_items())
    _reused.next_event()
    _reused.send(DONE)
    _reused.send(h11.EndOfMessage())
    _reused.start_next_cycle()


def authcli_reader() -> None:
    """authcli's wire.Reader as the loop uses it: its own checks on top of a new h11 parser."""
    reader = Reader()
    reader.feed(HEAD)
    assert reader.next_request() is not None


def h11_construct() -> None:
    """Only making the h11.Connection: what reusing one could save at most."""
    h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)


def httptools_parser():
    import httptools

    class Head:
        def __init__(self):
            self.headers, self.url, self.done = [], b"", False

        def on_url(self, url):
            self.url += url

        def on_header(self, name, value):
            self.headers.append((name, value))

        def on_message_complete(self):
            self.done = True

    head = Head()
    parser = httptools.HttpRequestParser(head)

    def parse() -> None:
        head.headers, head.url, head.done = [], b"", False
        parser.feed_data(HEAD)
        parser.get_method()
        assert head.done

    return parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--number", type=int, default=20000)
    opts = ap.parse_args()
    variants = {"h11, new Connection per request": h11_new, "h11, one Connection, start_next_cycle": h11_reused,
                "h11.Connection() alone": h11_construct, "authcli wire.Reader (new h11 + checks)": authcli_reader}
    try:
        variants["httptools (llhttp), one parser"] = httptools_parser()
    except ImportError:
        print("httptools not installed: its row is skipped")
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(opts.rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            times[name].append(timeit.timeit(variants[name], number=opts.number) / opts.number * 1e6)
    print(f"{len(HEAD)}-byte head, {opts.rounds} rounds x {opts.number}, median (min-max) µs per head")
    for name, values in times.items():
        print(f"{name:<44} {statistics.median(values):6.2f} ({min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()
