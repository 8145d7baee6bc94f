"""Shared fixtures: a movable clock and a session server on port 0 that is always stopped."""

from __future__ import annotations

import os
import sys
import time

import pytest
import requests

from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore

CREDS = {"email": "a@b.com", "password": "123"}


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers per core. Measured on 2 cores (quiet, one run each): the suite spends
    about two thirds of its time waiting on real clocks, sockets, browsers and subprocesses
    (~320 CPU-s in ~900 worker-s), so 4 workers took 3:56 where 2 took 4:53 (one run each)."""
    return 2 * (os.cpu_count() or 1)


class FakeClock:
    """A clock tests move by hand, so expiry needs no sleeping."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True, scope="session")
def pyjwt_on_authcli_clock():
    """Under AUTHCLI_CLOCK_SHIFT (CI runs the suite 400 days ahead), PyJWT, the reference the
    tests compare authcli with, reads the same clock, as a second verifier on a machine whose
    clock says that date would."""
    from authcli import clock as authcli_clock

    if not authcli_clock.SHIFT:
        yield
        return
    import datetime as dt

    import jwt.api_jwt

    class Shifted(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(seconds=authcli_clock.SHIFT)

    real = jwt.api_jwt.datetime
    jwt.api_jwt.datetime = Shifted
    try:
        yield
    finally:
        jwt.api_jwt.datetime = real


@pytest.fixture(autouse=True, scope="session")
def authcli_command_built_once():
    """typer's CliRunner rebuilds the whole click command tree from the functions' signatures at
    every invoke (~11 ms of CPU: type hints evaluated, every option made), thousands of times
    across the hypothesis tests. authcli's app is built once per worker instead; click makes a
    fresh context per invocation, so nothing carries over from one run to the next. Any other
    Typer app (a test's own) is built as before."""
    import typer.testing

    from authcli.cli.app import app

    real = typer.testing._get_command
    built = real(app)
    typer.testing._get_command = lambda given: built if given is app else real(given)
    try:
        yield
    finally:
        typer.testing._get_command = real


# Argon2id at OWASP's parameters costs ~25 ms of CPU per login; ~1,100 logins in the pytest
# processes took ~29 CPU-s of the suite's ~95 (measured per test). A module about something else
# (a policy file, a store, a bad request body) sets ARGON2_LIGHT = True and its logins run
# Argon2id with the smallest parameters the algorithm allows: still a real salted hash checked by
# argon2-cffi, and a wrong password still fails. The product's parameters are untouched, and so is
# every test that is about them: the hash format and its cost (test_passwords), the bounded
# hashing queue and its 503s (test_availability), every CLI subprocess and
# examples.md transcript.
LIGHT_ARGON2 = {"ARGON2_M": 8, "ARGON2_T": 1}  # KiB, passes: argon2's minimum for one lane


@pytest.fixture(autouse=True, scope="module")
def argon2_light_where_the_module_says(request):
    if not getattr(request.module, "ARGON2_LIGHT", False):
        yield
        return
    from authcli import passwords

    passwords.demo_users.cache_clear()  # a directory hashed at full cost is not reused, nor kept after
    passwords.lab_users.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LIGHT_ARGON2.items():
            patch.setattr(passwords, name, value)
        yield
    passwords.demo_users.cache_clear()
    passwords.lab_users.cache_clear()


@pytest.fixture
def memory_store(clock):
    return MemoryStore(clock=clock)


@pytest.fixture
def session_server(memory_store, clock):
    auth = SessionAuth(memory_store, ttl=60, clock=clock)
    with AuthServer(auth, request_timeout=2.0) as server:
        yield server


def browser_missing() -> str | None:
    """What to install for `demo browser` (Playwright, Chromium), or None when it can run."""
    from authcli.browser import check
    from authcli.errors import BrowserMissing

    try:
        check()
    except BrowserMissing as err:
        return str(err)
    return None


@pytest.fixture(scope="module")
def browser():
    """The system's Chromium, launched through Playwright (its own downloads are not needed);
    a skip without it, a failure when AUTHCLI_REQUIRE_BROWSER is set (CI)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    from authcli.browser import check

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=check(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def require_browser() -> None:
    """Skip without a browser; fail instead when AUTHCLI_REQUIRE_BROWSER is set (CI)."""
    missing = browser_missing()
    if missing:
        if os.environ.get("AUTHCLI_REQUIRE_BROWSER"):
            pytest.fail("AUTHCLI_REQUIRE_BROWSER is set but: " + missing)
        pytest.skip(missing)


GMPY2_HINT = ("the lab's alg-confusion-no-key needs gmpy2: pip install 'authcli[gmpy2]' "
              "(set AUTHCLI_REQUIRE_GMPY2=1 to make its absence a failure, as CI does)")


def require_gmpy2() -> None:
    """Skip without gmpy2; fail instead when AUTHCLI_REQUIRE_GMPY2 is set (CI)."""
    from authcli.tokens.recover import has_gmpy2

    if not has_gmpy2():
        if os.environ.get("AUTHCLI_REQUIRE_GMPY2"):
            pytest.fail("AUTHCLI_REQUIRE_GMPY2 is set but " + GMPY2_HINT)
        pytest.skip(GMPY2_HINT)


REDIS_HINT = ("Redis tests need a redis-server binary: apt-get install redis-server "
              "(set AUTHCLI_REQUIRE_REDIS=1 to make its absence a failure, as CI does)")


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server for the whole run, on a free port, stopped at the end."""
    import shutil

    from authcli.stores.redis import ThrowawayRedis

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("AUTHCLI_REQUIRE_REDIS"):
            pytest.fail("AUTHCLI_REQUIRE_REDIS is set but " + REDIS_HINT)
        pytest.skip(REDIS_HINT)
    server = ThrowawayRedis(binary)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The shared test Redis, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def login(http: requests.Session, url: str) -> str:
    """Log in as a well-behaved client does: a 503 (every password check busy, on a loaded
    machine) is tried again shortly, as its Retry-After asks."""
    return login_response(http, url).cookies["sessionId"]


def login_response(http, url: str) -> requests.Response:
    """POST /login until it is not a 503 (the login queue is bounded in size and in waiting
    time: on a loaded machine concurrent logins may be told to come back); the answer."""
    for _ in range(10):
        resp = http.post(url + "/login", json=CREDS, timeout=10)
        if resp.status_code != 503:
            break
        time.sleep(0.2)
    assert resp.status_code == 200, resp.text
    return resp


def hammer(client, threads: int = 8) -> list:
    """Run client(n) in `threads` threads at once; every exception is returned, none lost."""
    import threading

    errors: list = []

    def run(n: int) -> None:
        try:
            client(n)
        except Exception as err:
            errors.append((n, repr(err)))

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


class ServeProcess:
    """`authcli serve ...` in a real process; every read is bounded, so a silent server fails
    the test instead of hanging the suite."""

    def __init__(self, *args: str, timeout: float = 10):
        import queue
        import subprocess
        import sys
        import threading

        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        self.timeout = timeout
        self.proc = subprocess.Popen([sys.executable, "-m", "authcli", "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self._lines: queue.Queue[str] = queue.Queue()
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=lambda: self._err.extend(self.proc.stderr), daemon=True)]
        for reader in self._readers:
            reader.start()
        self.out = self.err = ""

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)

    def line(self) -> str:
        import queue
        import time

        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                return self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    raise AssertionError(f"authcli serve exited ({self.proc.returncode}): {''.join(self._err)}")
        raise AssertionError(f"authcli serve printed nothing for {self.timeout} s")

    def url(self) -> str:
        import re

        return re.search(r"http://127\.0\.0\.1:\d+", self.line()).group(0)

    def stop(self, sig: int) -> int:
        """Send `sig`, wait for the exit; the rest of stdout and all of stderr are kept."""
        self.proc.send_signal(sig)
        self.proc.wait(timeout=self.timeout)
        for reader in self._readers:
            reader.join(timeout=self.timeout)
        self.err = "".join(self._err)
        rest = []
        while not self._lines.empty():
            rest.append(self._lines.get())
        self.out = "".join(rest)
        return self.proc.returncode

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def raw_exchange(server, data: bytes) -> bytes:
    """Send raw bytes, close our side, read everything the server answers (bounded in time)."""
    import socket

    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse (413) and close before we finish sending
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


HAPROXY_HINT = ("the HAProxy tests need haproxy: apt-get install haproxy "
                "(set AUTHCLI_REQUIRE_HAPROXY=1 to make its absence a failure, as CI does)")


def require_haproxy() -> str:
    """The haproxy on PATH: a skip without it, a failure when AUTHCLI_REQUIRE_HAPROXY is set (CI)."""
    import shutil

    binary = shutil.which("haproxy")
    if binary is None:
        if os.environ.get("AUTHCLI_REQUIRE_HAPROXY"):
            pytest.fail("AUTHCLI_REQUIRE_HAPROXY is set but " + HAPROXY_HINT)
        pytest.skip(HAPROXY_HINT)
    return binary


@pytest.fixture
def haproxy() -> str:
    return require_haproxy()


@pytest.fixture
def curl():
    import shutil

    if shutil.which("curl") is None:
        if os.environ.get("AUTHCLI_REQUIRE_CURL"):
            pytest.fail("AUTHCLI_REQUIRE_CURL is set but curl is not installed")
        pytest.skip("the README's curl sessions need curl (apt-get install curl)")


@pytest.fixture
def tmux():
    """A real terminal of a given size: runs a command in a detached tmux session, presses
    Enter at every pause, and returns each screen as shown (capture-pane) when it paused."""
    import shlex
    import shutil
    import subprocess
    import uuid

    if shutil.which("tmux") is None:
        if os.environ.get("AUTHCLI_REQUIRE_TMUX"):
            pytest.fail("AUTHCLI_REQUIRE_TMUX is set but tmux is not installed")
        pytest.skip("the terminal-size tests need tmux (apt-get install tmux)")
    sessions = []

    def screens(command: str, width: int, height: int, timeout: float = 60, keys=None) -> list[str]:
        """`keys(screen)`, if given, sees each paused screen with soft-wrapped rows joined (as a
        copy from the terminal would be) and returns what to type before Enter ("" for nothing)."""
        # A tmux server of its own (-L): two workers starting the default server at once can
        # make one of them fail ("server exited unexpectedly").
        name = f"authcli-{uuid.uuid4().hex[:8]}"
        sessions.append(name)
        bin_dir = os.path.dirname(sys.executable)
        # pytest exports COLUMNS=80 and LINES=24; the terminal itself must say its size.
        script = f"unset COLUMNS LINES; export PATH={shlex.quote(bin_dir)}:$PATH; {command}; echo __EXIT__$?; sleep 60"
        subprocess.run(["tmux", "-L", name, "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
                        "bash -c " + shlex.quote(script)], check=True)
        shown, last, deadline = [], None, time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = subprocess.run(["tmux", "-L", name, "capture-pane", "-p", "-t", name], capture_output=True,
                                    text=True).stdout
            filled = [line for line in screen.splitlines() if line.strip()]
            if filled and filled[-1].startswith("__EXIT__"):
                assert filled[-1] == "__EXIT__0", screen
                return shown + [screen]
            if filled and filled[-1].startswith("Enter:") and screen != last:
                shown.append(screen)
                last = screen
                typed = ""
                if keys is not None:
                    joined = subprocess.run(["tmux", "-L", name, "capture-pane", "-p", "-J", "-t", name],
                                            capture_output=True, text=True).stdout
                    typed = keys(joined)
                if typed:
                    subprocess.run(["tmux", "-L", name, "send-keys", "-t", name, "-l", typed], check=True)
                subprocess.run(["tmux", "-L", name, "send-keys", "-t", name, "Enter"], check=True)
            time.sleep(0.03)
        raise AssertionError(f"{command} did not finish in {timeout} s; last screen:\n{last}")

    yield screens
    for name in sessions:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)


def render_all(info, steps) -> tuple[str, str, dict, str]:
    """One run's steps through every renderer: the terminal's text, Markdown, JSON (parsed), HTML."""
    import io
    import json

    from rich.console import Console

    from authcli.render.html import HtmlRenderer
    from authcli.render.jsonout import JsonRenderer
    from authcli.render.markdown import MarkdownRenderer
    from authcli.render.terminal import TerminalRenderer

    console = Console(file=io.StringIO(), width=100, record=True)
    outs = {"md": io.StringIO(), "json": io.StringIO(), "html": io.StringIO()}
    for renderer in [TerminalRenderer(console), MarkdownRenderer(outs["md"]), JsonRenderer(outs["json"]),
                     HtmlRenderer(outs["html"])]:
        renderer.start(info)
        for step in steps:
            renderer.step(step)
        renderer.end()
    return console.export_text(), outs["md"].getvalue(), json.loads(outs["json"].getvalue()), outs["html"].getvalue()

