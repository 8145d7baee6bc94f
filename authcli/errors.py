"""The one exception tree of authcli: the CLI catches AuthcliError and prints one line."""

from __future__ import annotations


class AuthcliError(Exception):
    """Root of every error authcli reports to a user."""

    exit_code = 2


class UsageError(AuthcliError):
    """An option or argument the command cannot work with."""


class ServerStartError(AuthcliError):
    """The local server could not bind or start."""


class StoreUnavailable(AuthcliError):
    """The session store cannot be reached right now."""


class WalkthroughError(AuthcliError):
    """A walkthrough saw the server answer differently from what it teaches."""

    exit_code = 1
