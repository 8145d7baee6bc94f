"""`authcli serve`: the command, its options and their checks. Running it in the foreground
is serve_run.py, the weak lab server serve_weak.py, what it tells the user serve_hints.py."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from authcli.cli.allocator import gives_hash_memory_back
from authcli.stores import DEFAULT
from authcli.cli.common import (
    Alg, https_files, https_option, open_store, redis_url_option, reports_errors, signing_key, store_option,
)
from authcli.cli.serve_hints import https_hints, verify_hints
from authcli.cli.serve_run import Mode, run
from authcli.cli.serve_weak import refuse_ignored, run_weak, weak_mode
from authcli.errors import UsageError

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore


# A day: a class, with room to spare. Unbounded, a huge --ttl made Redis refuse every login (its
# EX limit) and put exp past year 9999, so the server refused its own tokens.
MAX_TTL = 86400
TTL = typer.Option(300, "--ttl", min=1, max=MAX_TTL, metavar="SECONDS",
                   help="Seconds a session or token lives (at most a day).")
IDLE = typer.Option(None, "--idle", min=1, max=MAX_TTL, metavar="SECONDS",
                    help="session mode: end a session after this long without a request (beside the absolute --ttl).")

# curl cannot sign a proof: where to see the DPoP server work.
DPOP_HINTS = ["DPoP: every request needs a fresh proof signed by the client's key, so curl without one is refused "
              "(400 at /login, 401 at /profile). "
              "Open URL/ in a browser (the page signs proofs with a non-extractable WebCrypto key), "
              "or see authcli demo jwt --dpop."]


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
    cookie: bool = typer.Option(False, "--cookie", help="jwt mode: the token in an HttpOnly cookie, not a Bearer header."),
    dpop: bool = typer.Option(False, "--dpop", help="jwt mode: DPoP-bound tokens (RFC 9449): each request needs a proof."),
    weak: Optional[str] = typer.Option(None, "--weak", metavar="NAME[,NAME...]",
                                       help="Attack lab only: a server with these deliberate mistakes (authcli lab "
                                            "--list), on loopback only, marked X-Authcli-Weak."),
) -> None:
    """Run the demo server until Ctrl-C, printing one line per request.

    \b
    Example: authcli serve --mode session --port 8000, then in another terminal:
    curl -c jar -b jar -H 'Content-Type: application/json' -d '{"email":"a@b.com","password":"123"}' http://127.0.0.1:8000/login

    With --mode jwt, /login answers {"token": ...}; send it as Authorization: Bearer <token> (--cookie: a cookie).
    """
    from authcli.server.schemes.session_auth import SessionAuth

    mode = weak_mode(weak, mode, host, https) if weak is not None else (mode or Mode.session)
    _refuse_dpop_with(dpop, weak, mode, cookie)
    with ExitStack() as stack:
        tls = https_files(stack, https, cert, key_file, ca)
        if weak is not None:
            refuse_ignored(mode, alg=alg, key=key, idle=idle, open=open_page or None, secret=secret,
                           store=store, redis_url=redis_url, cookie=cookie or None)
            run_weak(stack, weak, mode, host, port, ttl, store, redis_url, secret, quiet)
        elif mode is Mode.oauth:  # its own key and records; none of the others' options
            _run_oauth(host, port, ttl, quiet, open_page, tls, (store, redis_url, idle), (secret, alg, key, cookie or dpop))
        elif mode is Mode.session:
            _refuse_jwt_options(secret, alg, key, cookie)
            sessions: SessionStore = open_store(stack, store or DEFAULT, redis_url).make()
            stack.callback(sessions.close)
            run(SessionAuth(sessions, ttl, policy=_session_policy(tls, idle, ttl)), sessions, mode, host, port,
                 f"sessions live {ttl} s{f', ended after {idle} s idle' if idle else ''} in {sessions.facts.name}",
                 quiet, https_hints(tls), open_page, tls=tls)
        else:
            signer = _jwt_key(alg, secret, key, store is not None or redis_url is not None or idle is not None)
            auth, kind = _jwt_auth(signer, ttl, tls, cookie, dpop)
            run(auth, None, mode, host, port, f"{signer.alg} tokens live {ttl} s{', WEAK secret' * signer.weak}{kind}",
                quiet, https_hints(tls) + verify_hints(signer, secret) + DPOP_HINTS * dpop, open_page, tls=tls)


def _refuse_jwt_options(secret: str | None, alg: Alg | None, key: Path | None, cookie: bool | None,
                        mode: str = "session") -> None:
    if secret is not None or alg is not None or key is not None or cookie:
        which = "--cookie and --dpop belong" if mode == "oauth" and cookie else (
            "--cookie belongs" if cookie else "--alg, --secret and --key belong")
        raise UsageError(which + " to --mode jwt")


def _run_oauth(host: str, port: int, ttl: int, quiet: bool, open_page: bool, tls, unused: tuple,
               jwt: tuple) -> None:
    """authcli's OpenID provider for a class's own clients: they register at /register. `tls`:
    --https (the issuer, every URL in discovery and the sign-in cookie then say https). `unused`
    and `jwt`: the other modes' options, refused."""
    from dataclasses import replace

    secret, alg, key, cookie = jwt
    _refuse_jwt_options(secret, alg, key, cookie or None, "oauth")
    if any(option is not None for option in unused):
        raise UsageError("--mode oauth keeps its records in memory: leave out --store, --redis-url and --idle")
    from authcli.cli.serve_hints import https_hints, oauth_hints
    from authcli.server.policy import HARDENED_OAUTH
    from authcli.server.schemes.oauth import OAuthProvider

    if host in ("0.0.0.0", "::"):
        raise UsageError("--mode oauth names itself by its URL (the issuer in every token): give one address "
                         "with --host, 127.0.0.1 or this machine's address on the classroom network")
    policy = replace(HARDENED_OAUTH, access_ttl=ttl, id_token_ttl=ttl)
    run(OAuthProvider(policy=policy), None, Mode.oauth, host, port,
        f"access and ID tokens live {ttl} s, codes {policy.code_ttl} s", quiet,
        https_hints(tls, "/.well-known/openid-configuration") + oauth_hints(policy, tls), open_page, tls=tls)


def _refuse_dpop_with(dpop: bool, weak: str | None, mode: Mode, cookie: bool) -> None:
    """--dpop is the hardened jwt server's: not a lab server's, not a session's, not with a cookie."""
    if not dpop:
        return
    if weak is not None:
        raise UsageError("--weak servers are the lab's: leave out --dpop")
    if mode is not Mode.jwt:
        raise UsageError("--dpop belongs to --mode jwt")
    if cookie:
        raise UsageError("give --dpop or --cookie, not both: a DPoP token travels in Authorization: DPoP")


def _jwt_auth(signer, ttl: int, tls, cookie: bool, dpop: bool):
    """The jwt server and the banner's words for it. --dpop: the server of `demo jwt --dpop`
    (over HTTPS the proofs' htu say https)."""
    from authcli.server.schemes.dpop import DpopJwtAuth
    from authcli.server.schemes.jwt_auth import JwtAuth

    if dpop:
        return DpopJwtAuth(signer, ttl, https=tls is not None), ", DPoP-bound (ES256 proofs)"
    return JwtAuth(signer, ttl, policy=_jwt_policy(tls, cookie)), ", in a cookie" * cookie


def _jwt_policy(tls, cookie: bool):
    """The hardened verifier; with --cookie the token travels in a cookie (__Host- and Secure over HTTPS)."""
    from authcli.server.policy import COOKIE_JWT, HARDENED_JWT, HTTPS_COOKIE_JWT

    return (HTTPS_COOKIE_JWT if tls else COOKIE_JWT) if cookie else HARDENED_JWT


def _session_policy(tls, idle: int | None, ttl: int):
    """The hardened policy, with the __Host- Secure cookie over HTTPS and the idle timeout asked for."""
    from dataclasses import replace

    from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS

    if idle is not None and idle >= ttl:
        raise UsageError(f"--idle ({idle} s) must be shorter than --ttl ({ttl} s)")
    return replace(HTTPS_SESSIONS if tls else HARDENED_SESSIONS, idle=idle)


def _jwt_key(alg: Alg | None, secret: str | None, key: Path | None, session_options: bool = False):
    if session_options:
        raise UsageError("--store, --redis-url and --idle belong to --mode session")
    if key is None:
        return signing_key((alg or Alg.HS256).value, secret)
    if secret is not None:
        raise UsageError("give --secret or --key, not both")
    from authcli.cli.inspecting import _read
    from authcli.tokens.signing import load_signing_key

    return load_signing_key(_read(key, "key file"), alg.value if alg else None)

