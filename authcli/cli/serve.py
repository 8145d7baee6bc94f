"""`authcli serve`: the demo server in the foreground, one log line per request."""

from __future__ import annotations

import signal
from contextlib import ExitStack
import threading
import time
from enum import Enum
from typing import TYPE_CHECKING, Optional

import typer

from authcli.cli.common import (
    Alg, StoreKind, open_store, redis_url_option, reports_errors, signing_key, stdout_console,
)
from authcli.errors import StoreUnavailable, UsageError

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore


class Mode(str, Enum):
    session = "session"
    jwt = "jwt"


@reports_errors
def serve(
    mode: Mode = typer.Option(Mode.session, "--mode", help="Which authentication scheme to serve."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    ttl: int = typer.Option(300, "--ttl", min=1, help="Seconds a session or token lives."),
    store: Optional[StoreKind] = typer.Option(None, "--store", show_default="memory",
                                              help="session mode: server memory or Redis."),
    redis_url: Optional[str] = redis_url_option(),
    alg: Alg = typer.Option(Alg.HS256, "--alg", help="jwt mode: the signing algorithm."),
    secret: Optional[str] = typer.Option(None, "--secret", help="jwt mode, HS256: the secret (default: 32 random bytes)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per request (long runs, load tests)."),
) -> None:
    """Run the demo server until Ctrl-C, printing one line per request.

    \b
    Example: authcli serve --mode session --port 8000, then in another terminal:
    curl -c jar -b jar -d '{"email":"a@b.com","password":"123"}' http://127.0.0.1:8000/login

    With --mode jwt, /login answers {"token": ...}; send it as Authorization: Bearer <token>.
    """
    from authcli.server import JwtAuth, SessionAuth

    with ExitStack() as stack:
        if mode is Mode.session:
            if secret is not None or alg is not Alg.HS256:
                raise UsageError("--alg and --secret belong to --mode jwt")
            sessions: SessionStore = open_store(stack, (store or StoreKind.memory).value, redis_url).make()
            stack.callback(sessions.close)
            _run(SessionAuth(sessions, ttl), sessions, mode, host, port,
                 f"sessions live {ttl} s in {sessions.facts.name}", quiet)
        else:
            if store is not None or redis_url is not None:
                raise UsageError("--store and --redis-url belong to --mode session")
            key = signing_key(alg.value, secret)
            _run(JwtAuth(key, ttl), None, mode, host, port,
                 f"{key.alg} tokens live {ttl} s" + (", WEAK secret" if key.weak else ""), quiet)


def _state(sessions: SessionStore | None) -> str:
    if sessions is None:
        return "[stateless] "
    try:
        size = len(sessions.snapshot().rows)
    except StoreUnavailable:
        return "[store: unavailable] "
    return f"[store: {size} session{'s' if size != 1 else ''}] "


def _run(auth: object, sessions: SessionStore | None, mode: Mode, host: str, port: int, lifetime: str,
         quiet: bool) -> None:
    from rich.text import Text

    from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
    from authcli.server import AuthServer
    from authcli.server.journal import RequestRecord

    console = stdout_console()

    def log(record: RequestRecord) -> None:
        decision = "; ".join(e.message for e in record.events)
        line = Text.assemble(
            (time.strftime("%H:%M:%S "), "dim"),
            (f"{record.request.method} {record.request.target} ", "bold"),
            (str(record.status), "green" if record.status < 400 else "red"),
            (" " + _state(sessions), "dim"), decision)
        line.truncate(max(console.width, 40), overflow="ellipsis")
        console.print(line)

    server = AuthServer(auth, host, port, on_record=None if quiet else log).start()
    stop = threading.Event()
    # Ctrl-C and SIGTERM both end the server cleanly, even when started from a script that
    # ignores SIGINT for its background jobs.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        console.print(Text.assemble(("authcli serve", "bold"), f" --mode {mode.value}: listening on ",
                                    (server.url, "bold cyan"), f" ({lifetime})"))
        if host not in ("127.0.0.1", "localhost", "::1"):
            console.print(Text(f"warning: {host} is reachable from other machines, and the demo "
                               f"user's password is {DEMO_PASSWORD}", style="yellow"))
        console.print(f"Demo user {DEMO_EMAIL} / {DEMO_PASSWORD}. Try it with curl (see README) or "
                      f"open {server.url}/ in a browser. Ctrl-C stops.", markup=False)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("stopped", markup=False)
