"""The one exception tree of authcli: the CLI catches AuthcliError once and prints one line.

Exit codes are not decided here: `authcli.cli.common.exit_code` maps each class to one.
"""

from __future__ import annotations


class AuthcliError(Exception):
    """Root of every error authcli raises on purpose."""


class UsageError(AuthcliError):
    """An option or argument the command cannot work with."""


class ServerStartError(AuthcliError):
    """The local server could not bind or start."""


class StoreUnavailable(AuthcliError):
    """The session store cannot be reached right now."""


class StoreMissing(AuthcliError):
    """The store asked for cannot be had here (no Redis answers and none can be started)."""


class StoreConfigError(AuthcliError):
    """The store was given settings it cannot use (a malformed Redis URL, a URL for memory)."""


class Saturated(AuthcliError):
    """The server is at a limit it keeps on purpose (concurrent password checks): 503, try again."""


class WalkthroughError(AuthcliError):
    """A walkthrough saw the server answer differently from what it teaches."""


class MalformedToken(AuthcliError):
    """The text is not a well-formed signed JWT (segments, base64url or JSON)."""


class BadKey(AuthcliError):
    """A key or secret that cannot be used to sign or verify."""


class DecryptionFailed(AuthcliError):
    """A JWE did not open with the key given: another recipient's key, or changed bytes."""


class HttpError(AuthcliError):
    """A request the server refuses with a 4xx and a one-line reason (status 0: close, no answer)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class OAuthError(AuthcliError):
    """An OAuth request refused with an error code the RFCs name (invalid_request, invalid_grant...)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class NoRedirect(OAuthError):
    """client_id or redirect_uri is wrong: the error is shown at the server, never sent to that URI."""


class BrowserMissing(AuthcliError):
    """No browser to drive here: Playwright's package or a Chromium is not installed."""


class TlsError(AuthcliError):
    """A certificate or key that cannot be used to serve HTTPS."""


class NotRegularFile(AuthcliError, OSError):
    """A name that is not a regular file (a FIFO, a device, a folder): refused before reading."""


class FileTooLarge(AuthcliError, OSError):
    """A file longer than its reader's limit."""


class RecoveryFailed(AuthcliError):
    """Two tokens did not give an RSA public key that verifies them (lab alg-confusion-no-key)."""
