"""`authcli lab` and `authcli crack`: attacks against a weak server and the hardened one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from authcli.cli.common import Format, output_format, play, reports_errors, stdout_console
from authcli.cli.demo import ALL_HEADERS, FORMAT, JSON, PREDICT, STEP
from authcli.cli.exercise import EXERCISE, HINT, PROGRESS, SOLUTION, TIMEOUT, exercise_names, exercises
from authcli.errors import UsageError


@reports_errors
def lab(
    attacks: Optional[List[str]] = typer.Argument(None, metavar="[ATTACK]...",
                                                  help="Which attacks (default: all, in order); see --list."),
    list_them: bool = typer.Option(False, "--list", help="List the attacks, one line each, and exit."),
    summary: bool = typer.Option(False, "--summary", help="Run the attacks, show only the closing table."),
    write_policy: Optional[Path] = typer.Option(None, "--write-policy", metavar="FILE", help="Write the weak "
                                                "policy as TOML to edit (- for stdout), each value explained, and exit."),
    fix: Optional[Path] = typer.Option(None, "--fix", metavar="FILE", help="Run the attacks against servers "
                                       "built from a policy file (- for stdin): which are refused now, which value closes each."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
    step: bool = STEP,
    predict: bool = PREDICT,
    all_headers: bool = ALL_HEADERS,
    exercise: bool = EXERCISE,
    hint: Optional[str] = HINT,
    solution: bool = SOLUTION,
    progress: bool = PROGRESS,
    timeout: float = TIMEOUT,
) -> None:
    """Run each attack against a server with the mistake, then the same attack against the hardened one.

    Every server listens on 127.0.0.1 only; weak ones say so in an X-Authcli-Weak header.

    \b
    Example: authcli lab alg-confusion --step
    Fix-it:  authcli lab --write-policy policy.toml; authcli lab --fix policy.toml

    \b
    Do it yourself: authcli lab alg-none --exercise (h for a hint, q to quit)
    """
    fmt = output_format(fmt, as_json)
    if exercises(attacks, exercise=exercise, hint=hint, solution=solution, progress=progress,
                 timeout=timeout, fmt=fmt.value):
        return
    from authcli.server.lab.weaknesses import WEAKNESSES, known

    if list_them:
        width = max(map(len, WEAKNESSES))
        for w in WEAKNESSES.values():
            typer.echo(f"{w.name:<{width}}  {w.mode:<7}  {'exercise' if w.name in exercise_names() else '':<8}  {w.summary}")
        return
    names = [w.name for w in known([n.strip() for a in attacks for n in a.split(",") if n.strip()])] if attacks else None
    if write_policy is not None or fix is not None:  # fix-it mode: authcli/cli/fixit.py
        from authcli.cli import fixit

        if write_policy is not None:
            return fixit.write_policy(write_policy, fix)
        return fixit.fix(fix, names, fmt, pause=step, all_headers=all_headers, predict=predict, summary=summary)
    from authcli.walkthroughs.lab.runner import INFO, lab_walkthrough

    steps = lab_walkthrough(names)
    if summary:
        if step or predict:
            raise UsageError("--summary shows one table: it goes without --step and --predict")
        steps = (s for s in steps if s.title in ("The attack lab", "Summary"))
    play(INFO, steps, fmt, pause=step, all_headers=all_headers, predict=predict)


@reports_errors
def crack(
    token: str = typer.Argument(..., metavar="TOKEN", help="An HS256/384/512 JWT, or - to read it from stdin."),
    wordlist: Optional[Path] = typer.Option(None, "--wordlist", "-w", help="Candidate secrets, one per line "
                                            "(default: the list authcli ships, secrets people really use)."),
    max_seconds: float = typer.Option(60, "--max-seconds", min=0.1, max=3600, metavar="SECONDS",
                                      help="Stop guessing after this long."),
) -> None:
    """Guess a JWT's HMAC secret offline from a wordlist: what hashcat -m 16500 and jwt_tool -C do.

    Exit codes: 0 found, 1 not found, 2 not an HMAC token or unreadable input.

    \b
    Example: authcli crack "$(authcli sign --sub 1 --exp 15m --secret mySecretKey)"
    """
    from authcli.cli.inspecting import MAX_INPUT, _read
    from authcli.render.crack import crack_report
    from authcli.tokens.parse import split
    from authcli.tokens.crack import crack as guess, wordlist as words

    if token == "-":
        token = sys.stdin.read(MAX_INPUT + 1)
    parts = split(token, jws=True)
    candidates = words(_read(wordlist, "wordlist") if wordlist else None)
    console = stdout_console()
    from authcli.render.crack import progress

    with progress(console, len(candidates)) as advance:
        result = guess(parts, candidates, max_seconds=max_seconds, progress=advance)
    from authcli.tokens.crack import measure_rate

    console.print(crack_report(result, parts.header.get("alg"), len(candidates),
                               str(wordlist or "authcli's list"), measure_rate(parts)))
    if result.secret is None:
        raise typer.Exit(1)
