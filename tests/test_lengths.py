"""A lesson, not a log: each demo, piped at 80 columns with default options, fits the length a
teacher can teach from (#23); --verbose brings every header and every credential back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import require_browser

# Lines of `COLUMNS=80 authcli demo NAME | wc -l`; short lifetimes only make the waits shorter.
TARGETS = {
    "session": (["--ttl", "1"], 250),
    # 1 s can expire before step 3 on a busy machine; 205 since the forged tokens of steps 4-5 show
    # whole where they are born, the request that carries them (a student decodes them)
    "jwt": (["--ttl", "2"], 210),
    "refresh": ([], 230),  # its default 2 s: 1 s can expire before step 2 on a busy machine
    "scaling": (["--rounds", "1,2,4"], 320),  # round 3 needs Redis; it is no longer than round 2
    # three servers, nine hops: 368 lines when written, 385 with the AS sign-in cookie (#27), 397 with
    # the ID token whole in its token view (step 7 says "try authcli decode": it must be copyable)
    "oauth": ([], 400),
}


_RUNS: dict[tuple[str, ...], str] = {}


def _demo(name: str, *args: str) -> str:
    """The output of one demo run; the same command in two tests (jwt --ttl 2: its length, and
    the short side of --verbose) runs once per worker, as the tests only read it."""
    if (name, *args) not in _RUNS:
        _RUNS[(name, *args)] = _run_demo(name, *args)
    return _RUNS[(name, *args)]


def _run_demo(name: str, *args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "authcli", "demo", name, *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", list(TARGETS))
def test_each_demo_fits_its_length_at_80_columns(name):
    args, most = TARGETS[name]
    text = _demo(name, *args)
    lines = text.splitlines()
    assert len(lines) <= most, f"demo {name}: {len(lines)} lines, the target is {most}"
    assert all(len(line) <= 80 for line in lines)
    assert "User-Agent:" not in text and "HTTP/1.1  (+" in text  # boilerplate folds in every mode


def test_the_browser_demo_fits_its_length():
    require_browser()
    lines = _demo("browser").splitlines()
    assert len(lines) <= 370, f"demo browser: {len(lines)} lines, the target is 370"


def test_verbose_brings_every_header_and_credential_back():
    short, full = _demo("jwt", "--ttl", "2"), _demo("jwt", "--ttl", "2", "--verbose")
    assert "User-Agent: python-requests" in full and "HTTP/1.1  (+" not in full
    token = next(w for w in full.split('"') if w.startswith("eyJ") and w.count(".") == 2)
    assert short.count(token[:60]) == 1  # whole once, where it is born (the token view)...
    assert full.count(token[:60]) > 3  # ...every time with --verbose

