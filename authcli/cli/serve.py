"""`authcli serve`: the demo server in the foreground, one log line per request."""

from __future__ import annotations

import signal
import threading
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from authcli.cli.allocator import gives_hash_memory_back
from authcli.stores import DEFAULT
from authcli.cli.common import (
    Alg, https_files, https_option, open_store, redis_url_option, reports_errors, signing_key,
    stdout_console, store_option,
)
from authcli.errors import StoreUnavailable, UsageError

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore


LOOPBACK = ("127.0.0.1", "localhost", "::1")
# A day: a class, with room to spare. Unbounded, a huge --ttl made Redis refuse every login (its
# EX limit) and put exp past year 9999, so the server refused its own tokens.
MAX_TTL = 86400
TTL = typer.Option(300, "--ttl", min=1, max=MAX_TTL, metavar="SECONDS",
                   help="Seconds a session or token lives (at most a day).")
IDLE = typer.Option(None, "--idle", min=1, max=MAX_TTL, metavar="SECONDS",
                    help="session mode: end a session after this long without a request (beside the absolute --ttl).")


class Mode(str, Enum):
    session = "session"
    jwt = "jwt"


@reports_errors
@gives_hash_memory_back  # the one process-wide allocator setting, at serve's entry point
def serve(
    mode: Optional[Mode] = typer.Option(None, "--mode", show_default="session",
                                        help="Which authentication scheme to serve."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 for a classroom "
                             "(every student on the network can reach it: a warning says so)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, metavar="PORT", help="Port to listen on (0: any free port)."),
    ttl: int = TTL,
    idle: Optional[int] = IDLE,
    store: Optional[str] = store_option("session mode: where sessions live; sqlite:PATH keeps a file.", None),
    redis_url: Optional[str] = redis_url_option(),
    alg: Optional[Alg] = typer.Option(None, "--alg", show_default="HS256", help="jwt mode: the signing algorithm."),
    secret: Optional[str] = typer.Option(None, "--secret", help="jwt mode, HS256: the secret (default: 256 random bits)."),
    key: Optional[Path] = typer.Option(None, "--key", help="jwt mode: sign with this private key (PEM or JWK, "
                                       "e.g. from authcli keys); its public half is served as a JWKS."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per request (long runs, load tests)."),
    open_page: bool = typer.Option(False, "--open", help="Open the server's page in the default browser: a "
                                   "login form and what the browser holds, live."),
    https: bool = https_option(),
    cert: Optional[Path] = typer.Option(None, "--cert", help="With --https: your certificate (PEM) instead of a throwaway one."),
    key_file: Optional[Path] = typer.Option(None, "--cert-key", help="With --https --cert: the certificate's "
                                            "private key (PEM). (--key is the JWT signing key.)"),
    ca: Optional[Path] = typer.Option(None, "--ca", help="With --cert: the CA clients should trust (default: the certificate itself)."),
    weak: Optional[str] = typer.Option(None, "--weak", metavar="NAME[,NAME...]",
                                       help="Attack lab only: a server with these deliberate mistakes (authcli lab "
                                            "--list), on loopback only, marked X-Authcli-Weak."),
) -> None:
    """Run the demo server until Ctrl-C, printing one line per request.

    \b
    Example: authcli serve --mode session --port 8000, then in another terminal:
    curl -c jar -b jar -H 'Content-Type: application/json' -d '{"email":"a@b.com","password":"123"}' http://127.0.0.1:8000/login

    With --mode jwt, /login answers {"token": ...}; send it as Authorization: Bearer <token>.
    """
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.schemes.session_auth import SessionAuth

    mode = _weak_mode(weak, mode, host, https) if weak is not None else (mode or Mode.session)
    with ExitStack() as stack:
        tls = https_files(stack, https, cert, key_file, ca)
        if weak is not None:
            _refuse_ignored(mode, alg=alg, key=key, idle=idle, open=open_page or None, secret=secret,
                            store=store, redis_url=redis_url)
            _run_weak(stack, weak, mode, host, port, ttl, store, redis_url, secret, quiet)
        elif mode is Mode.session:
            if secret is not None or alg is not None or key is not None:
                raise UsageError("--alg, --secret and --key belong to --mode jwt")
            sessions: SessionStore = open_store(stack, store or DEFAULT, redis_url).make()
            stack.callback(sessions.close)
            idle_text = f", ended after {idle} s idle" if idle else ""
            _run(SessionAuth(sessions, ttl, policy=_session_policy(tls, idle, ttl)), sessions, mode, host, port,
                 f"sessions live {ttl} s{idle_text} in {sessions.facts.name}", quiet, _https_hints(tls),
                 open_page, tls=tls)
        else:
            if store is not None or redis_url is not None or idle is not None:
                raise UsageError("--store, --redis-url and --idle belong to --mode session")
            signer = _jwt_key(alg, secret, key)
            _run(JwtAuth(signer, ttl), None, mode, host, port,
                 f"{signer.alg} tokens live {ttl} s" + (", WEAK secret" if signer.weak else ""), quiet,
                 _https_hints(tls) + _verify_hints(signer, secret), open_page, tls=tls)


def _session_policy(tls, idle: int | None, ttl: int):
    """The hardened policy, with the __Host- Secure cookie over HTTPS and the idle timeout asked for."""
    from dataclasses import replace

    from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS

    if idle is not None and idle >= ttl:
        raise UsageError(f"--idle ({idle} s) must be shorter than --ttl ({ttl} s)")
    return replace(HTTPS_SESSIONS if tls else HARDENED_SESSIONS, idle=idle)


def _https_hints(tls) -> list[str]:
    if tls is None:
        return []
    return [f"HTTPS: clients verify this server against the CA in {tls.ca}"
            + (" (a throwaway one, deleted when the server stops)" if tls.directory else "") + ". Try: "
            f"curl --cacert {tls.ca} -i URL/profile   (never -k: that would trust anyone)"]


def _weak_mode(names: str, mode: Mode | None, host: str, https: bool = False) -> Mode:
    """The mode the named weaknesses need; they never listen beyond loopback."""
    from authcli.server.lab.weaknesses import parse

    if https:
        raise UsageError("--weak servers speak plain HTTP on loopback: leave out --https")
    chosen = parse(names)
    if not chosen:
        raise UsageError("--weak needs at least one name: authcli lab --list")
    needed = Mode(chosen[0].mode)
    if mode is not None and mode is not needed:
        raise UsageError(f"--weak {names} is a {needed.value} weakness: leave out --mode {mode.value}")
    if host not in LOOPBACK:
        raise UsageError(f"a deliberately weak server listens on loopback only, never on {host}: "
                         "leave out --host")
    return needed


def _refuse_ignored(mode: Mode, **given: object) -> None:
    """A weak server's key and policy are the lab's: options it would not honour are refused,
    never silently dropped."""
    unused = ("alg", "key", "idle", "open") + (("secret",) if mode is Mode.session else ("store", "redis_url"))
    ignored = ["--" + name.replace("_", "-") for name in unused if given[name] is not None]
    if ignored:
        raise UsageError(f"--weak servers take their algorithm, key and timeouts from the lab: leave out "
                         f"{', '.join(ignored)}")


def _run_weak(stack: ExitStack, names: str, mode: Mode, host: str, port: int, ttl: int,
              store: Optional[str], redis_url: Optional[str], secret: Optional[str], quiet: bool) -> None:
    from authcli.passwords import lab_users
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.lab.weaknesses import jwt_policy, parse, session_policy
    from authcli.tokens.signing import make_signing_key

    chosen = parse(names)
    tags = tuple(w.name for w in chosen)
    banner = (f"DELIBERATELY WEAK SERVER ({', '.join(tags)}): for the attack lab only. It answers on "
              "loopback only and marks every response X-Authcli-Weak.")
    if mode is Mode.session:
        # Its own namespace: a hardened server on the same store never reads what it wrote.
        sessions: SessionStore = open_store(stack, store or DEFAULT, redis_url).make(namespace="weak:")
        stack.callback(sessions.close)
        app = SessionAuth(sessions, ttl, policy=session_policy(chosen), users=lab_users(), weak=tags)
        _run(app, sessions, mode, host, port, f"sessions live {ttl} s in {sessions.facts.name}", quiet,
             [], False, warning=banner)
        return
    w = chosen[0]
    key = make_signing_key(w.alg, secret.encode() if secret else next((c.secret for c in chosen if c.secret), None))
    app = JwtAuth(key, ttl, policy=jwt_policy(chosen), users=lab_users(), weak=tags)
    stack.callback(app.close)
    _run(app, None, mode, host, port, f"{key.alg} tokens live {ttl} s", quiet,
         _verify_hints(key, secret), False, warning=banner)


def _jwt_key(alg: Alg | None, secret: str | None, key: Path | None):
    if key is None:
        return signing_key((alg or Alg.HS256).value, secret)
    if secret is not None:
        raise UsageError("give --secret or --key, not both")
    from authcli.cli.inspecting import _read
    from authcli.tokens.signing import load_signing_key

    return load_signing_key(_read(key, "key file"), alg.value if alg else None)


def _verify_hints(key, given_secret: str | None) -> list[str]:
    """How to check (and make) this server's tokens yourself: what the README's last step needs."""
    if key.secret is None:
        return [f"Tokens are signed with a {key.alg} private key; the public key is at "
                "/.well-known/jwks.json. Verify one: curl -s URL/.well-known/jwks.json > jwks.json && "
                'authcli decode "$TOKEN" --key jwks.json']
    secret = key.secret.decode("utf-8", "replace")
    where = "the secret you gave" if given_secret is not None else (
        "256 random bits made at start, written as 43 characters, shown here so you can verify and "
        "sign tokens yourself; anyone who sees it can sign tokens for any user, and it dies with this "
        "server" if key.generated else "the handout's, the weak-secret lab's mistake: authcli crack finds it")
    return [f"HS256 secret ({where}): {secret}",
            f'Verify a token: authcli decode "$TOKEN" --secret {secret}   '
            f"Make one: authcli sign --sub 1 --exp 15m --secret {secret}"]


class _Counter:
    """The size of a store that counts slowly (Redis: SCAN), refreshed twice a second off the
    request path: a request's cost must not depend on how many sessions are stored."""

    def __init__(self, sessions: SessionStore):
        self.value: int | None = None
        self._sessions = sessions
        self._stop = threading.Event()
        self._refresh()
        self._thread = threading.Thread(target=self._run, name="authcli-store-counter")
        self._thread.start()

    def _refresh(self) -> None:
        try:
            self.value = self._sessions.count()
        except StoreUnavailable:
            self.value = None

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._refresh()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _reachable(host: str, port: int) -> list[str]:
    """The URLs students can type, for a server bound beyond loopback: the very addresses the
    server answers to (server/transport/hosts.py), so every printed URL works and no other name does."""
    from authcli.server.transport.hosts import interface_addresses

    if host not in ("0.0.0.0", "::"):
        return [f"http://{host}:{port}/"]
    return [f"http://{address}:{port}/" for address in interface_addresses()]


def _open(url: str) -> str:
    """Open `url` in the default browser; what to tell the user."""
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    return f"Opened {url} in your browser." if opened else f"No browser could be started from here: open {url} yourself."


def _run(auth: object, sessions: SessionStore | None, mode: Mode, host: str, port: int, lifetime: str,
         quiet: bool, hints: list[str], open_page: bool = False, warning: str | None = None,
         tls=None) -> None:
    from authcli.cli.logwriter import LogWriter
    from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
    from authcli.render.serve import banner, classroom_warning, log_line, store_state
    from authcli.server.transport.httpd import AuthServer
    from authcli.server.journal import RequestRecord

    console = stdout_console()
    with ExitStack() as stack:
        counter = None
        if sessions is not None and not quiet and not sessions.facts.cheap_count:
            counter = _Counter(sessions)
            stack.callback(counter.close)

        def count() -> int | None:
            if counter is not None:
                return counter.value
            try:
                return sessions.count() if sessions is not None else None
            except StoreUnavailable:
                return None

        color = console.is_terminal and not console.no_color and console.color_system is not None

        def line(record: RequestRecord, state: str) -> str:
            # One logical line per request, wrapped by the terminal, never cut at its width.
            return log_line(record, state, color=color)

        # Written off the event loop: a paused terminal or a pager must not stall the clients.
        log = LogWriter(console.file, line, lambda: store_state(count(), stateless=sessions is None))
        stack.callback(log.close)
        server = AuthServer(auth, host, port, on_record=None if quiet else log,
                            tls=tls.server_context() if tls else None).start()
        stack.callback(server.stop)
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
                console.print(_open(f"{server.url}/"), markup=False)
            if host not in LOOPBACK:
                console.print(classroom_warning(host, DEMO_EMAIL, DEMO_PASSWORD, _reachable(host, server.port)))
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    console.print("stopped", markup=False)
