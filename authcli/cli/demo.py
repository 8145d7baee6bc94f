"""`authcli demo ...`: the narrated walkthroughs."""

from __future__ import annotations

from typing import Optional

import typer

from authcli.cli.common import (
    STORE_CHOICES, Alg, Format, https_files, https_option, json_option, open_store, output_format, play,
    redis_url_option, reports_errors, signing_key, store_option, try_store,
)
from authcli.errors import UsageError
from authcli.render import base as formats

app = typer.Typer(help="Narrated walkthroughs on a real local server.", no_args_is_help=True,
                  rich_markup_mode=None)

FORMAT = typer.Option(formats.DEFAULT, "--format", "-f", help=formats.help_text() + ".")
JSON = json_option()
STEP = typer.Option(False, "--step", help="Classroom mode, on a terminal: a clean screen per step, Enter for the "
                    "next, b for the previous.")
PREDICT = typer.Option(False, "--predict", help="With --step: before each step, the class predicts what "
                       "will happen (status, store change), types the answer, then sees; scored at the end. "
                       "Answers come from stdin, so they can be piped.")
ALL_HEADERS = typer.Option(False, "--all-headers", "--verbose", help="Every header, every credential whole "
                           "each time, every store dump: nothing folded or shortened (-f json always has all).")


@app.command("session")
@reports_errors
def session(
    ttl: int = typer.Option(3, "--ttl", min=1, max=3600, metavar="SECONDS",
                            help="Seconds a session lives on the server before it expires."),
    store: str = store_option(f"Where sessions live: {STORE_CHOICES.replace('|', ', ')}; sqlite:PATH keeps a file."),
    redis_url: Optional[str] = redis_url_option(),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    https: bool = https_option(),
    idle: Optional[int] = typer.Option(None, "--idle", min=1, max=3600, metavar="SECONDS",
                                       help="An idle timeout beside the absolute one (--ttl): a quiet session "
                                            "ends after this long; the demo adds a quiet and a busy client."),
) -> None:
    """Log in with a session cookie, use it, watch it expire, log out, restart the server: every request shown.

    \b
    Example: authcli demo session --ttl 5 --step --store redis
    """
    fmt = output_format(fmt, as_json)
    from contextlib import ExitStack
    from dataclasses import replace

    from authcli.walkthroughs.session import INFO, session_walkthrough

    with ExitStack() as stack:
        source = open_store(stack, store, redis_url)
        if idle is not None and idle >= ttl:
            raise UsageError(f"--idle ({idle} s) must be shorter than --ttl ({ttl} s), the absolute timeout")
        tls = https_files(stack, https)
        info = INFO if idle is None else replace(INFO, steps=7)  # --idle: steps 1-7, then its own segment
        play(info, session_walkthrough(ttl, make_store=source.make, tls=tls, idle=idle), fmt, pause=step,
             all_headers=all_headers, predict=predict)


@app.command("jwt")
@reports_errors
def jwt_demo(
    ttl: int = typer.Option(3, "--ttl", min=1, max=3600, metavar="SECONDS", help="Seconds until the token's exp."),
    alg: Alg = typer.Option(Alg.HS256, "--alg", help="HS256 uses a shared secret; the others a key pair made at start."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HS256 secret text, e.g. the handout's mySecretKey "
                                         "(flagged when short or in the wordlist). Default: 256 random bits, "
                                         "written as 43 characters."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    https: bool = https_option(),
    rotate: bool = typer.Option(False, "--rotate", help="Key rotation (RS256, ES256, EdDSA): the issuer "
                                "publishes a JWKS, rotates and withdraws keys; a second server verifies "
                                "through the JWKS it caches. Tokens live 15 minutes (--ttl is not used)."),
    dpop: bool = typer.Option(False, "--dpop", help="Bind the token to a key the client holds (DPoP, RFC 9449): "
                              "a proof on every request, and the stolen token's replays refused."),
    cookie: bool = typer.Option(False, "--cookie", help="The token in an HttpOnly cookie instead of the "
                                "Authorization header: login sets it, the jar sends it, logout clears it."),
) -> None:
    """Log in for a JWT, use it as a Bearer token, tamper with it, watch it expire: every request shown.

    \b
    Example: authcli demo jwt --secret mySecretKey
    Example: authcli demo jwt --alg RS256 --rotate
    Example: authcli demo jwt --cookie
    """
    fmt = output_format(fmt, as_json)
    from contextlib import ExitStack

    if rotate + dpop + cookie > 1:
        raise UsageError("--rotate, --dpop and --cookie are separate demos: pick one")
    if rotate:
        _rotation(alg.value, secret, https, fmt, step, predict, all_headers)
        return
    from authcli.walkthroughs.jwt import INFO, jwt_walkthrough

    key = signing_key(alg.value, secret)
    with ExitStack() as stack:
        tls = https_files(stack, https)
        if cookie:
            from authcli.walkthroughs import jwt_cookie

            info, steps = jwt_cookie.INFO, jwt_cookie.jwt_cookie_walkthrough(key, ttl, tls=tls)
        elif dpop:
            from authcli.walkthroughs import dpop as dpop_walk

            info, steps = dpop_walk.INFO, dpop_walk.dpop_walkthrough(key, ttl, tls=tls)
        else:
            info, steps = INFO, jwt_walkthrough(key, ttl, tls=tls)
        play(info, steps, fmt, pause=step, all_headers=all_headers, predict=predict)


def _rotation(alg: str, secret: Optional[str], https: bool, fmt: Format, step: bool, predict: bool,
              all_headers: bool) -> None:
    """demo jwt --rotate: its own walkthrough (walkthroughs/rotation.py)."""
    if alg.startswith("HS") or secret is not None:
        raise UsageError("--rotate publishes public keys in a JWKS: use --alg RS256, ES256 or EdDSA, "
                         "without --secret (an HMAC secret cannot be published)")
    if https:
        raise UsageError("--rotate runs over plain HTTP on 127.0.0.1 only: leave out --https")
    from authcli.walkthroughs.rotation import INFO, rotation_walkthrough

    play(INFO, rotation_walkthrough(alg), fmt, pause=step, all_headers=all_headers, predict=predict)


@app.command("refresh")
@reports_errors
def refresh(
    ttl: int = typer.Option(2, "--ttl", min=1, max=3600, metavar="SECONDS", help="Seconds an access token lives."),
    store: str = store_option("Where refresh records and the denylist live."),
    redis_url: Optional[str] = redis_url_option(),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
) -> None:
    """Short-lived access tokens, rotating refresh tokens with reuse detection, and a jti denylist.

    \b
    Example: authcli demo refresh --store redis
    """
    fmt = output_format(fmt, as_json)
    from contextlib import ExitStack

    from authcli.walkthroughs.refresh import INFO, refresh_walkthrough

    with ExitStack() as stack:
        source = open_store(stack, store, redis_url)
        play(INFO, refresh_walkthrough(ttl, make_store=source.make), fmt, pause=step,
             all_headers=all_headers, predict=predict)


@app.command("scaling")
@reports_errors
def scaling(
    rounds: str = typer.Option("1,2,3,4", "--rounds", help="Which rounds, e.g. 1,3: 1 memory, 2 sticky, 3 Redis, 4 JWT, "
                               "5 clock skew (only when asked for)."),
    alg: Alg = typer.Option(Alg.HS256, "--alg", help="Round 4's algorithm: HS256 puts the secret on both servers; "
                            "a key pair (RS256...) gives B the public key only."),
    redis_url: Optional[str] = redis_url_option(),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    https: bool = https_option(),
) -> None:
    """Two servers behind a load balancer: memory sessions, sticky sessions, Redis, JWT.

    The balancer is the real HAProxy when it is installed (apt install haproxy, or brew install
    haproxy), else a small one written for the demo, and the first step says so.
    AUTHCLI_REQUIRE_HAPROXY=1 makes that fallback an error.

    \b
    Example: authcli demo scaling --rounds 1,4
    Example: authcli demo scaling --rounds 4,5 --alg RS256
    """
    fmt = output_format(fmt, as_json)
    import os
    from contextlib import ExitStack

    from authcli.errors import ServerStartError
    from authcli.server.transport.haproxy import INSTALL, find_haproxy
    from authcli.walkthroughs.scaling import ALL_ROUNDS, INFO, scaling_walkthrough
    from authcli.stores import shared as shared_store

    try:
        chosen = tuple(int(r) for r in rounds.split(",") if r.strip())
    except ValueError:
        raise UsageError(f"--rounds takes numbers from 1 to 5 separated by commas, not {rounds!r}") from None
    if not chosen or any(r not in ALL_ROUNDS for r in chosen):
        raise UsageError(f"--rounds takes numbers from 1 to 5 separated by commas, not {rounds!r}")
    haproxy = find_haproxy()
    if haproxy is None and os.environ.get("AUTHCLI_REQUIRE_HAPROXY"):
        raise ServerStartError(f"AUTHCLI_REQUIRE_HAPROXY is set but haproxy is not on PATH ({INSTALL})")
    with ExitStack() as stack:
        shared, problem = try_store(stack, shared_store(), redis_url) if 3 in chosen else (None, "")
        tls = https_files(stack, https)
        play(INFO, scaling_walkthrough(chosen, shared=shared, shared_problem=problem, tls=tls, haproxy=haproxy,
                                       alg=alg.value),
             fmt, pause=step, all_headers=all_headers, predict=predict)


@app.command("browser")
@reports_errors
def browser(
    ttl: int = typer.Option(300, "--ttl", min=30, max=3600, metavar="SECONDS",
                            help="Seconds a session or token lives (nothing here waits for expiry)."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    https: bool = https_option(),
    cookie: bool = typer.Option(False, "--cookie", help="The JWT half keeps the token in an HttpOnly cookie "
                                "instead of localStorage: what injected script, other sites and 4 KB do to it."),
    dpop: bool = typer.Option(False, "--dpop", help="The JWT half binds the token to a non-extractable WebCrypto "
                              "key (DPoP, RFC 9449): a copy replayed without a proof gets 401."),
) -> None:
    """The handout's browser half in a real headless Chromium: its cookie store, localStorage, XSS and CSRF.

    Needs Playwright (pip install 'authcli[browser]') and a Chromium (apt-get install chromium,
    or AUTHCLI_CHROMIUM=/path/to/chrome).

    \b
    Example: authcli demo browser --step
    Example: authcli demo browser --cookie
    Example: authcli demo browser --dpop
    """
    fmt = output_format(fmt, as_json)
    if cookie and dpop:
        raise UsageError("--cookie and --dpop are separate demos: pick one")
    from authcli.browser import check
    from authcli.walkthroughs.browser import INFO, browser_walkthrough

    from contextlib import ExitStack

    check()  # before anything is printed: no browser is one line and exit 2
    with ExitStack() as stack:
        tls = https_files(stack, https)
        if cookie:
            from authcli.walkthroughs.browser_cookie import INFO as COOKIE_INFO, browser_cookie_walkthrough

            info, steps = COOKIE_INFO, browser_cookie_walkthrough(ttl, tls=tls)
        elif dpop:
            from authcli.walkthroughs.browser_dpop import INFO as DPOP_INFO, browser_dpop_walkthrough

            info, steps = DPOP_INFO, browser_dpop_walkthrough(ttl, tls=tls)
        else:
            info, steps = INFO, browser_walkthrough(ttl, tls=tls)
        play(info, steps, fmt, pause=step, all_headers=all_headers, predict=predict)


@app.command("compare")
@reports_errors
def compare(
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
) -> None:
    """Run the session demo and the JWT demo, then fill the handout's closing table from both.

    \b
    Example: authcli demo compare -f markdown
    """
    fmt = output_format(fmt, as_json)
    from authcli.walkthroughs.compare import INFO, compare_walkthrough

    play(INFO, compare_walkthrough(), fmt, pause=step,
             all_headers=all_headers, predict=predict)


@app.command("oauth")
@reports_errors
def oauth(
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    browser: bool = typer.Option(False, "--browser", help="The browser is a real headless Chromium (as in demo "
                                 "browser): its redirects, the tab's URL, history and each site's cookies, and a "
                                 "second login on the AS's own sign-in cookie."),
) -> None:
    """'Log in with...': OAuth 2.0 and OpenID Connect, the code flow with PKCE, across an authorization server, a client app and an API.

    --browser needs Playwright (pip install 'authcli[browser]') and a Chromium, as demo browser does.

    \b
    Example: authcli demo oauth --step
    Example: authcli demo oauth --browser
    """
    fmt = output_format(fmt, as_json)
    if browser:
        from authcli.browser import check
        from authcli.walkthroughs.oauth_browser import INFO as BROWSER_INFO, oauth_browser_walkthrough

        check()  # before anything is printed: no browser is one line and exit 2
        play(BROWSER_INFO, oauth_browser_walkthrough(), fmt, pause=step, all_headers=all_headers, predict=predict)
        return
    from authcli.walkthroughs.oauth import INFO, oauth_walkthrough

    play(INFO, oauth_walkthrough(), fmt, pause=step, all_headers=all_headers, predict=predict)
