"""`authcli serve` in the foreground: the server started, its log written by a thread of its own
(logwriter.py), the banner and hints printed, Ctrl-C and SIGTERM ending it cleanly."""

from __future__ import annotations

import signal
import threading
from contextlib import ExitStack
from enum import Enum
from typing import TYPE_CHECKING

from authcli.cli.common import stdout_console
from authcli.cli.serve_hints import open_in_browser, reachable
from authcli.errors import StoreUnavailable

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Mode(str, Enum):
    session = "session"
    jwt = "jwt"
    oauth = "oauth"


def run(auth: object, sessions: SessionStore | None, mode: Mode, host: str, port: int, lifetime: str,
         quiet: bool, hints: list[str], open_page: bool = False, warning: str | None = None,
         tls=None) -> None:
    from authcli.cli.logwriter import LogWriter
    from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
    from authcli.render.serve import banner, classroom_warning, log_line, store_state
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.journal import RequestRecord

    console = stdout_console()
    with ExitStack() as stack:
        def count() -> int | None:  # read by the log's thread, once per batch of lines
            try:
                return sessions.size() if sessions is not None else None
            except StoreUnavailable:
                return None

        color = console.is_terminal and not console.no_color and console.color_system is not None

        def line(record: RequestRecord, state: str) -> str:
            # One logical line per request, wrapped by the terminal, never cut at its width.
            return log_line(record, state, color=color)

        # Written off the event loop: a paused terminal or a pager must not stall the clients.
        records = getattr(auth, "records", None)  # an authorization server counts what it keeps
        log = LogWriter(console.file, line, (lambda: f"[{records()}]") if records is not None
                        else lambda: store_state(count(), stateless=sessions is None))
        stack.callback(log.close)
        server = AuthServer(auth, host, port, on_record=None if quiet else log,
                            tls=tls.server_context() if tls else None).start()
        stack.callback(server.stop)
        bind = getattr(auth, "bind", None)  # an OpenID provider's issuer is its own URL, port included
        if bind is not None:
            bind(server.url)
        stop = threading.Event()
        # Ctrl-C and SIGTERM both end the server cleanly, even when started from a script that
        # ignores SIGINT for its background jobs.
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if warning:
                console.print(warning, style="bold white on red", markup=False)
            console.print(banner(mode.value, server.url, lifetime))
            console.print(f"Demo user {DEMO_EMAIL} / {DEMO_PASSWORD}. Try it with curl (see README) or "
                          f"open {server.url}/ in a browser. Ctrl-C stops.", markup=False)
            for hint in hints:
                console.print(hint.replace("URL", server.url), markup=False, soft_wrap=True)
            if open_page:
                console.print(open_in_browser(f"{server.url}/"), markup=False)
            if host not in LOOPBACK:
                console.print(classroom_warning(host, DEMO_EMAIL, DEMO_PASSWORD, reachable(host, server.port)))
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    console.print("stopped", markup=False)
