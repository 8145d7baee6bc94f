"""Exit codes, decided once for every command (and typer-free, for decode's fast path)."""

from __future__ import annotations

import sys
from typing import Callable

from authcli.errors import AuthcliError, DecryptionFailed, WalkthroughError

# 1 when the story or a check went another way than taught, 2 for everything the user can fix
# (usage, keys, tokens, an unreachable store...).
EXIT_CODES: dict[type[AuthcliError], int] = {WalkthroughError: 1, DecryptionFailed: 1}


def exit_code(err: AuthcliError) -> int:
    return next((code for cls, code in EXIT_CODES.items() if isinstance(err, cls)), 2)


def reported(run: Callable[[], int]) -> int:
    """A typer-free fast path's run: an AuthcliError as one escaped `error:` line and its exit
    code, Ctrl-C as 130 (what `reports_errors` does for the typer commands)."""
    try:
        return run()
    except AuthcliError as err:
        from authcli.render.escape import printable

        sys.stderr.write(f"error: {printable(str(err))}\n")
        return exit_code(err)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
