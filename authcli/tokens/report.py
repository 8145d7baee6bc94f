"""What `authcli decode` reports: the token, the key used, the checks and every warning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

    @property
    def verified(self) -> bool | None:
        return None if self.verdict is None else self.verdict.ok


def examine(text: str, key: VerifyKey | None, *, now: float, leeway: float = 0,
            audience: str | None = None, issuer: str | None = None) -> Examination:
    parts = split(text)
    view = inspect(parts, now)
    if key is None:
        return Examination(view, None, None, view.warnings)
    from authcli.tokens.keys import key_warnings
    from authcli.tokens.checks import verify

    verdict = verify(parts, key, now=now, leeway=leeway, require=("exp",), audience=audience, issuer=issuer)
    return Examination(view, key.description, verdict, view.warnings + key_warnings(key, parts))
