"""What `authcli decode` reports: the token, the key used, the checks and every warning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from authcli.timefmt import utc
from authcli.tokens.claims import TokenView, inspect
from authcli.tokens.parse import split

if TYPE_CHECKING:
    from authcli.tokens.keys import VerifyKey
    from authcli.tokens.checks import Verdict


@dataclass(frozen=True)
class Examination:
    """What `authcli decode` reports: the token, the key used (if any), the checks, the warnings."""

    view: TokenView
    key: str | None
    verdict: Verdict | None
    warnings: list[str]
    at: float | None = None  # the instant the claims were judged at, when not now

    @property
    def verified(self) -> bool | None:
        return None if self.verdict is None else self.verdict.ok

    @property
    def when(self) -> str:
        return "now" if self.at is None else f"at {utc(self.at)}"


def examine(text: str, key: VerifyKey | None, *, now: float, leeway: float = 0,
            audience: str | None = None, issuer: str | None = None, require: Sequence[str] = (),
            ignore: Sequence[str] = (), at: float | None = None) -> Examination:
    """Decode, and verify when a key is given. Claims are judged at `at` when given, else `now`.

    Unlike a server, decode requires no claim unless asked (`require`): a token without exp is
    still genuine, and its missing expiry is a warning. A token is VERIFIED when its signature
    is genuine and its claims are acceptable at that instant.
    """
    parts = split(text, jws=True)
    when = now if at is None else at
    view = inspect(parts, when)
    if key is None:
        return Examination(view, None, None, view.warnings, at)
    from authcli.tokens.checks import verify
    from authcli.tokens.keys import key_warnings

    verdict = verify(parts, key, now=when, leeway=leeway, require=require, audience=audience, issuer=issuer,
                     ignore=ignore)
    return Examination(view, key.description, verdict, view.warnings + key_warnings(key, parts), at)
