"""Where `authcli serve`'s time goes under wrk: py-spy samples the running server, by function.

    python benchmarks/profile_serve.py [--mode jwt|session] [--connections 10] [--seconds 8]

Starts `authcli serve` (log on, to /dev/null), logs in, runs wrk on GET /profile while
`py-spy record` samples every thread, then prints the functions with the most samples: "self"
counts samples where the function itself was running, "total" where it was anywhere on the
stack. Idle samples (a thread waiting in select, a queue or a lock) are left out. Needs wrk and
py-spy (pip install py-spy), and permission to trace the process (root, or ptrace allowed).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_throughput import start_authcli  # noqa: E402

IDLE = re.compile(r"\b(select|poll|wait|_wait_for_tstate_lock|get|acquire|sleep)\b \(")


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250",
                             "--format", "raw", "--threads", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(raw: Path, top: int) -> None:
    self_, total = collections.Counter(), collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]  # the first is the thread
        if not frames or IDLE.search(frames[-1]):
            continue
        n = int(count)
        busy += n
        names = [re.sub(r" \((.*/)?([^/]+):\d+\)$", r" (\2)", f) for f in frames]
        self_[names[-1]] += n
        for name in set(names):
            total[name] += n
    print(f"{busy} busy samples")
    print("self %   function")
    for name, n in self_.most_common(top):
        print(f"{100 * n / busy:6.1f}  {name}")
    print("total %  function")
    for name, n in total.most_common(top * 2):
        print(f"{100 * n / busy:6.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="jwt", choices=["jwt", "session"])
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=25)
    opts = parser.parse_args()
    proc, url, header = start_authcli(opts.mode, None)
    out = Path(tempfile.mkdtemp()) / "profile.txt"
    try:
        spy = record(proc.pid, opts.seconds, out)
        wrk = subprocess.run(["wrk", "-t2", f"-c{opts.connections}", f"-d{opts.seconds}s", "-H", header,
                              url + "/profile"], capture_output=True, text=True, check=True).stdout
        spy.wait()
        print(re.search(r"Requests/sec:.*", wrk).group(0), "(while sampled)")
        summary(out, opts.top)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
