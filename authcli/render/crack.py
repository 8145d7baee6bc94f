"""`authcli crack`'s output: a progress bar while guessing, then what was found and what it means."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console, Group, RenderableType
from rich.text import Text

from authcli.render.escape import printable
from authcli.tokens.crack import CrackResult, years_for_random


@contextmanager
def progress(console: Console, total: int) -> Iterator[Callable[[int], None]]:
    """A bar on a terminal (guesses and rate); nothing when piped."""
    if not console.is_terminal:
        yield lambda tried: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("guessing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("guess", total=total)
        yield lambda tried: bar.update(task, completed=tried)


def crack_report(result: CrackResult, alg: object, total: int, source: str, speed: float) -> RenderableType:
    """`speed`: guesses a second this machine manages, measured (a short list says nothing)."""
    rate = f"{result.tried:,} guess{'es' if result.tried != 1 else ''} in {result.seconds * 1000:.1f} ms"
    lines: list[RenderableType] = []
    if result.secret is not None:
        secret = printable(result.secret.decode("utf-8", "replace"))
        lines += [Text.assemble(("FOUND ", "bold red"), f"the {alg} secret is {secret!r}"),
                  Text(f"{rate}, guess {result.tried:,} of {total:,} from {source}."),
                  Text("Anyone holding one token can now sign tokens for any user: authcli sign --sub 1 "
                       "--secret ... Use 32 random bytes (secrets.token_bytes(32)), kept out of the code.")]
    else:
        why = "the wordlist ran out" if result.exhausted else "the time limit stopped it"
        lines += [Text.assemble(("not found", "bold green"), f": {why} ({rate}, {source}).")]
    # One fact a line: the measured rate varies, and must not move the words around it.
    lines.append(Text(f"This machine: about {speed:,.0f} {alg} guesses a second (measured).", style="dim"))
    lines.append(Text("Graphics cards guess far faster. A random 256-bit secret is in no wordlist, and "
                      f"trying half of all 2**256 even at a billion a second would take about "
                      f"{years_for_random(256, 1e9):.0e} years.", style="dim"))
    return Group(*lines)
