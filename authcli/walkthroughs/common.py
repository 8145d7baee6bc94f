"""What every walkthrough needs: checking that the server answered as the story says, and a
picture of the traffic that really happened."""

from __future__ import annotations

from authcli.errors import WalkthroughError
from authcli.http import Exchange
from authcli.events import (
    ProofChecked, SessionCreated, SessionDeleted, SessionLookedUp, TokenChecked, TokenSigned,
)
from authcli.walkthroughs.model import ExchangeBlock, Sequence, Step, Wait


def expect(exchange: Exchange, status: int, what: str) -> Exchange:
    """Stop the story rather than narrate something that did not happen."""
    got = exchange.response.status
    if got == 503:
        raise WalkthroughError(f"{what}: the server answered 503: {exchange.response.body.strip()}")
    if got != status:
        raise WalkthroughError(f"{what}: expected HTTP {status}, the server answered {got}{_ran_out(exchange)}")
    return exchange


def _ran_out(exchange: Exchange) -> str:
    """Why a credential the story still needed was refused, when the cause is the clock: a machine
    slower than the demo's short lifetimes (a busy laptop, a projector's), not a bug to report."""
    expired = any("exp" in e.failed for e in exchange.events(TokenChecked))
    gone = any(not e.found for e in exchange.events(SessionLookedUp))
    if not (expired or gone):
        return ""
    what = "the token's exp passed" if expired else "the session's record was gone (its lifetime ran out)"
    return (f": {what} before this step ran. This machine took longer than the demo's lifetime; "
            "run it again, with a longer --ttl if the command has one")


class Shown:
    """The steps a walkthrough has yielded so far, kept for its recap's diagram."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def __call__(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def all(self, steps: list[Step]) -> list[Step]:
        self.steps += steps
        return steps


def _server_side(exchange: Exchange, store: str) -> list[tuple[str, str, str, bool]]:
    """What the server did between request and answer, as arrows: store calls, signing, checks."""
    out = []
    for event in exchange.server:
        if isinstance(event, SessionCreated):
            out.append(("Server", store, "write session record", False))
        elif isinstance(event, SessionLookedUp):
            out += [("Server", store, "read session record", False),
                    (store, "Server", "found" if event.found else "no such record", True)]
        elif isinstance(event, SessionDeleted) and event.session_id is not None:
            out.append(("Server", store, "delete session record", False))
        elif isinstance(event, TokenSigned):
            out.append(("Server", "Server", "sign a token (nothing stored)", False))
        elif isinstance(event, ProofChecked):
            failed = event.failed
            out.append(("Server", "Server", "check the DPoP proof: " + (f"{', '.join(failed)} failed" if failed
                                                                        else "all checks pass"), False))
        elif isinstance(event, TokenChecked):
            failed = event.failed
            out.append(("Server", "Server", "verify: " + (f"{', '.join(failed)} failed" if failed else
                                                          "all checks pass" if event.checks else "malformed"), False))
    return out


def sequence(steps: list[Step], store: str | None, between: dict[int, str] | None = None) -> Sequence:
    """Every exchange the steps showed, in order: client to server, what the server did, the
    answer. `store` names the store lane (None: a stateless server). A step that waits is a
    note in its place; `between` adds one before a step's traffic (step number: what
    happened, such as a restart)."""
    messages: list[tuple[str, str, str, bool]] = []
    notes: list[tuple[int, str]] = []
    for step in steps:
        if step.number is not None and step.number in (between or {}):
            notes.append((len(messages), f"{between[step.number]} (step {step.number})"))
        if step.first(Wait) is not None:
            notes.append((len(messages), step.title + (f" (step {step.number})" if step.number is not None else "")))
        for block in step.all(ExchangeBlock):
            ex = block.exchange
            label = f"{ex.request.method} {ex.request.target.split('?')[0]}"
            if step.number is not None:
                label += f" (step {step.number})"
            messages.append(("Client", "Server", label, False))
            messages += _server_side(ex, store or "Store")
            answer = f"{ex.response.status} {ex.response.reason}"
            if ex.response.header("Set-Cookie"):
                answer += ", Set-Cookie"
            messages.append(("Server", "Client", answer, True))
    lanes = ["Client", "Server"] + ([store] if store and any(store in m[:2] for m in messages) else [])
    return Sequence(lanes, messages, notes)
