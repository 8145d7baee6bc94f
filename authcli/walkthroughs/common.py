"""What every walkthrough needs: checking that the server answered as the story says."""

from __future__ import annotations

from authcli.errors import WalkthroughError
from authcli.walkthroughs.model import Exchange


def expect(exchange: Exchange, status: int, what: str) -> Exchange:
    """Stop the story rather than narrate something that did not happen."""
    got = exchange.response.status
    if got == 503:
        raise WalkthroughError(f"{what}: the server answered 503: {exchange.response.body.strip()}")
    if got != status:
        raise WalkthroughError(f"{what}: expected HTTP {status}, the server answered {got}")
    return exchange
