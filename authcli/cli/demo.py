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
) -> None:
    """Log in for a JWT, use it as a Bearer token, tamper with it, watch it expire: every request shown.

    \b
    Example: authcli demo jwt --secret mySecretKey
    """
    fmt = output_format(fmt, as_json)
    from contextlib import ExitStack

    from authcli.walkthroughs.jwt import INFO, jwt_walkthrough

    key = signing_key(alg.value, secret)
    with ExitStack() as stack:
        tls = https_files(stack, https)
        play(INFO, jwt_walkthrough(key, ttl, tls=tls), fmt, pause=step,
             all_headers=all_headers, predict=predict)


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
    rounds: str = typer.Option("1,2,3,4", "--rounds", help="Which rounds, e.g. 1,3: 1 memory, 2 sticky, 3 Redis, 4 JWT."),
    redis_url: Optional[str] = redis_url_option(),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    https: bool = https_option(),
) -> None:
    """Two servers behind a load balancer: memory sessions, sticky sessions, Redis, JWT.

    \b
    Example: authcli demo scaling --rounds 1,4
    """
    fmt = output_format(fmt, as_json)
    from contextlib import ExitStack

    from authcli.walkthroughs.scaling import ALL_ROUNDS, INFO, scaling_walkthrough
    from authcli.stores import shared as shared_store

    try:
        chosen = tuple(int(r) for r in rounds.split(",") if r.strip())
    except ValueError:
        raise UsageError(f"--rounds takes numbers from 1 to 4 separated by commas, not {rounds!r}") from None
    if not chosen or any(r not in ALL_ROUNDS for r in chosen):
        raise UsageError(f"--rounds takes numbers from 1 to 4 separated by commas, not {rounds!r}")
    with ExitStack() as stack:
        shared, problem = try_store(stack, shared_store(), redis_url) if 3 in chosen else (None, "")
        tls = https_files(stack, https)
        play(INFO, scaling_walkthrough(chosen, shared=shared, shared_problem=problem, tls=tls), fmt, pause=step,
             all_headers=all_headers, predict=predict)


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
) -> None:
    """The handout's browser half in a real headless Chromium: its cookie store, localStorage, XSS and CSRF.

    Needs Playwright (pip install 'authcli[browser]') and a Chromium (apt-get install chromium,
    or AUTHCLI_CHROMIUM=/path/to/chrome).

    \b
    Example: authcli demo browser --step
    """
    fmt = output_format(fmt, as_json)
    from authcli.browser import check
    from authcli.walkthroughs.browser import INFO, browser_walkthrough

    from contextlib import ExitStack

    check()  # before anything is printed: no browser is one line and exit 2
    with ExitStack() as stack:
        tls = https_files(stack, https)
        play(INFO, browser_walkthrough(ttl, tls=tls), fmt, pause=step, all_headers=all_headers, predict=predict)


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
