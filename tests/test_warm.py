"""Nothing runs for the first time inside a request: a server's threads import no module while
they answer. A lazy import of PyJWT between a login's clock reading (iat) and its answer once took
seconds on a busy machine, and a 2-second token expired before the client could use it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Each scheme's first logins and checks, in one fresh interpreter, with a finder that records
# every import made on a thread other than the main one (the servers' loop and workers).
SPY = textwrap.dedent("""
    import importlib.abc, json, sys, threading
    seen = []

    class Spy(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if threading.current_thread() is not threading.main_thread():
                seen.append([threading.current_thread().name, name])
            return None

    sys.meta_path.insert(0, Spy())
    from typer.testing import CliRunner
    from authcli.cli.app import app
    codes = [CliRunner().invoke(app, args).exit_code for args in json.loads(sys.argv[1])]
    print(json.dumps({"codes": codes, "seen": seen}))
""")

RUNS = {
    "session": [["demo", "session", "--ttl", "1", "-f", "json"]],
    "jwt": [["demo", "jwt", "--ttl", "1", "-f", "json"]],
    "refresh": [["demo", "refresh", "--ttl", "1", "-f", "json"]],
    "lab": [["lab", "alg-none", "jku-header", "kid-path", "kid-sql", "fixation", "-f", "json"]],
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_server_threads_import_nothing_while_answering(name):
    out = subprocess.run([sys.executable, "-c", SPY, json.dumps(RUNS[name])], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["codes"] == [0] * len(RUNS[name])
    on_servers = [(thread, module) for thread, module in result["seen"] if thread.startswith("authcli-")]
    assert on_servers == []
