"""The real HAProxy in front of authcli servers: its configuration (a pure function) and its process.

authcli writes a throwaway configuration into a private directory, runs `haproxy -f CFG -db` (in
the foreground, never a daemon) on a free loopback port, and always stops it: at the end of a
round, on Ctrl-C, on error. HAProxy's own answers say which server answered (the X-Served-By
header it adds, the SERVERID cookie it sets); its stats socket says which servers it thinks are up.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from authcli.errors import ServerStartError
from authcli.server.lab.crosssite import HSTS

INSTALL = "apt install haproxy, or brew install haproxy"
STICKY_COOKIE = "SERVERID"
SERVED_BY = "X-Served-By"
CHECK_MS = 100  # health checks this often: a stopped server is marked DOWN within a tenth of a second
START_TIMEOUT = 5.0
BIND_TRIES = 5


@dataclass(frozen=True)
class Upstream:
    """One server behind HAProxy: the name it shows (A, B) and where it listens."""

    name: str
    host: str
    port: int


def find_haproxy(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The haproxy binary on PATH, or None (then the in-process balancer stands in)."""
    return which("haproxy")


def version(binary: str) -> str:
    """`HAProxy 2.6.12`, from `haproxy -v`; plain `HAProxy` when it will not say."""
    try:
        said = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "HAProxy"
    found = re.search(r"version (\d+\.\d+(?:\.\d+)?)", said)
    return f"HAProxy {found.group(1)}" if found else "HAProxy"


def config(port: int, upstreams: list[Upstream], *, sticky: bool, stats: str, pem: str | None = None,
           check_ms: int = CHECK_MS) -> str:
    """The whole configuration of one round: a loopback front, two servers, health checks."""
    bind = f"    bind 127.0.0.1:{port}" + (f" ssl crt {pem}" if pem else "")
    check = f"check inter {check_ms}ms fall 1 rise 1"
    servers = [f"    server {u.name} {u.host}:{u.port}" + (f" cookie {u.name}" if sticky else "") + f" {check}"
               for u in upstreams]
    return "\n".join([
        "global",
        "    noreuseport",  # a port another haproxy holds is a clash to retry, never shared
        f"    stats socket {stats} mode 600 level user",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 10s",
        "frontend front",
        bind,
        # Over HTTPS HAProxy adds what an authcli server sends on every HTTPS answer: A and B
        # behind it speak plain HTTP, and HSTS on plain HTTP means nothing (RFC 6797 §7.2).
        *([f'    http-response set-header {HSTS[0]} "{HSTS[1]}"'] if pem else []),
        "    default_backend servers",
        "backend servers",
        "    balance roundrobin",
        # The routing cookie gets the flags the Python balancer's gets: page script has no use for
        # it, and over HTTPS it never travels in the clear.
        *([f"    cookie {STICKY_COOKIE} insert indirect nocache httponly attr SameSite=Lax"
           + (" secure" if pem else "")] if sticky else []),
        "    option redispatch",
        f"    http-response set-header {SERVED_BY} %s",
        *servers,
        "",
    ])


# The lines a round shows: how a request is routed, made sticky, checked and encrypted.
KEY_WORDS = ("bind ", "balance ", "cookie ", "option redispatch", "http-response ", "server ")


def key_lines(text: str) -> list[str]:
    """The configuration lines that matter to the lesson, in file order, with their section."""
    out = []
    for line in text.splitlines():
        if line.startswith(("frontend", "backend")) or line.strip().startswith(KEY_WORDS):
            out.append(line)
    return out


def free_port() -> int:
    """A loopback port free now (bound to 0, then released): HAProxy binds it next."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HAProxy:
    """One haproxy process for one round; a context manager that always kills and waits for it."""

    def __init__(self, upstreams: list[Upstream], *, sticky: bool, binary: str,
                 tls: tuple[str, str] | None = None, check_ms: int = CHECK_MS):
        """`tls`: (certificate, key) PEM files: HAProxy terminates TLS with them."""
        self.upstreams = upstreams
        self.sticky = sticky
        self.binary = binary
        self.tls = tls
        self.pem: str | None = None
        self.check_ms = check_ms
        self.port = 0
        self.text = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.pem else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> HAProxy:
        self._dir = tempfile.TemporaryDirectory(prefix="authcli-haproxy-")  # mode 700: private
        try:
            if self.tls is not None:  # HAProxy reads the certificate and its key from one file
                self.pem = self._path("front.pem")
                fd = os.open(self.pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as pem:
                    for part in self.tls:
                        with open(part, "rb") as src:
                            pem.write(src.read().rstrip(b"\n") + b"\n")
            for attempt in range(BIND_TRIES):
                problem = self._try(free_port())
                if problem is None:
                    return self
                if "bind" not in problem or attempt == BIND_TRIES - 1:  # a clash on the port: try another
                    raise ServerStartError(f"haproxy did not start: {problem}")
        except BaseException:
            self.stop()
            raise
        return self

    def _path(self, name: str) -> str:
        assert self._dir is not None
        return os.path.join(self._dir.name, name)

    def _try(self, port: int) -> str | None:
        """Start haproxy on `port`: None once it accepts, else what it said before it exited."""
        self.port = port
        self.text = config(port, self.upstreams, sticky=self.sticky, stats=self._path("stats.sock"),
                           pem=self.pem, check_ms=self.check_ms)
        with open(self._path("haproxy.cfg"), "w") as cfg:
            cfg.write(self.text)
        with open(self._path("haproxy.log"), "wb") as log:  # never a pipe: nobody would drain it
            self.process = subprocess.Popen([self.binary, "-f", self._path("haproxy.cfg"), "-db"],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = self._said()
                self._reap()
                return said or f"exit status {self.process.returncode}"
            try:
                # Its stats socket answers only once every listener is bound (a clash would have
                # ended it): only then is whatever accepts on `port` HAProxy.
                self.states()
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                if self.process.poll() is None:
                    return None
            except (OSError, IndexError, KeyError):
                pass
            time.sleep(0.01)
        self._reap()
        return f"it did not accept connections on 127.0.0.1:{port} within {START_TIMEOUT:.0f} s"

    def _said(self) -> str:
        """HAProxy's first alert, as one line."""
        with open(self._path("haproxy.log"), errors="replace") as log:
            lines = [line.strip() for line in log]
        alerts = [line for line in lines if "ALERT" in line] or lines
        return " ".join(alerts[:1])[:300]

    def _reap(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()  # SIGKILL: nothing of a throwaway balancer needs a graceful end
        process.wait()

    def stop(self) -> None:
        self._reap()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> HAProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def states(self) -> dict[str, str]:
        """Each server's status as HAProxy's health checks see it (UP, DOWN), from its stats socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(self._path("stats.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        rows = [line.split(",") for line in data.decode("ascii", "replace").splitlines() if line]
        head = [rows[0][0].lstrip("# "), *rows[0][1:]] if rows else []
        at = {name: i for i, name in enumerate(head)}
        return {row[at["svname"]]: row[at["status"]] for row in rows[1:]
                if len(row) > at.get("status", 10**6) and row[at["pxname"]] == "servers"
                and row[at["svname"]] not in ("BACKEND", "FRONTEND")}

    def wait_for(self, name: str, status: str, timeout: float = 5.0) -> float:
        """Wait until HAProxy's checks say `name` is `status` (UP, DOWN); how long it took."""
        start = time.monotonic()
        while True:
            seen = self.states().get(name, "?")
            if seen.split(" ")[0] == status:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise ServerStartError(f"HAProxy still sees server {name} as {seen} after {timeout:.0f} s")
            time.sleep(0.01)
