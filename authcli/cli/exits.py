"""Exit codes, decided once for every command (and typer-free, for decode's fast path)."""

from __future__ import annotations

from authcli.errors import AuthcliError, DecryptionFailed, WalkthroughError

# 1 when the story or a check went another way than taught, 2 for everything the user can fix
# (usage, keys, tokens, an unreachable store...).
EXIT_CODES: dict[type[AuthcliError], int] = {WalkthroughError: 1, DecryptionFailed: 1}


def exit_code(err: AuthcliError) -> int:
    return next((code for cls, code in EXIT_CODES.items() if isinstance(err, cls)), 2)
