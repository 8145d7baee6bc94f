"""The lab's plain data: an attack, a pair of running servers, and what happened on each.

Below runner.py (the walkthrough) and the attack modules alike, so they import it and not each other.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Callable

from authcli.client import ScriptedClient
from authcli.events import TokenChecked
from authcli.http import Exchange
from authcli.server.transport.httpd import AuthServer
from authcli.server.lab.weaknesses import Weakness


@dataclass
class Outcome:
    """One server's side of an attack: the exchanges shown, in order, and whether it worked."""

    exchanges: list[tuple[str, Exchange]]
    won: bool
    result: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Pair:
    """The weak and the hardened server of one attack, running, and a way to send requests."""

    weak: AuthServer
    hard: AuthServer
    stack: ExitStack
    _clients: list[ScriptedClient] = field(default_factory=list)

    def client(self, server: AuthServer) -> ScriptedClient:
        """A new client with an empty jar (the victim, or the attacker)."""
        client = ScriptedClient(server)
        self._clients.append(client)
        return client

    def send(self, server: AuthServer, method: str, path: str, **kwargs: Any) -> Exchange:
        return self.client(server).send(method, path, **kwargs)

    def close(self) -> None:
        for client in self._clients:
            client.close()


def start_pair(stack: ExitStack, weak_app: Any, hard_app: Any) -> Pair:
    """Both apps on real servers, closed with `stack` (apps first, then servers); an authorization
    server's issuer is bound to its own URL once it listens. The pair's clients close first."""
    for app in (weak_app, hard_app):
        if hasattr(app, "close"):
            stack.callback(app.close)
    weak = stack.enter_context(AuthServer(weak_app))
    hard = stack.enter_context(AuthServer(hard_app))
    for app, server in ((weak_app, weak), (hard_app, hard)):
        if hasattr(app, "bind"):
            app.bind(server.url)
    pair = Pair(weak, hard, stack)
    stack.callback(pair.close)
    return pair


@dataclass(frozen=True)
class Attack:
    """What the attacker knows and does, and the function that does it against a pair."""

    weakness: Weakness
    knows: str
    run: Callable[[Pair], tuple[Outcome, Outcome]]
    apps: Callable[[Weakness], tuple[Any, Any]]
    predict: str = ""


def outcome(exchanges: list[tuple[str, Exchange]], *, won_if: Callable[[Exchange], bool],
            notes: list[str] | None = None) -> Outcome:
    """The last exchange decides: `won_if` says whether the attacker got what they wanted."""
    last = exchanges[-1][1]
    won = won_if(last)
    failed = next((c for c in checks(last) or [] if c.ok is False), None)
    if failed is not None:
        result = f"{last.response.status}: {failed.name} FAIL"
    else:
        body = last.response.body.strip().splitlines()[0] if last.response.body.strip() else last.response.reason
        result = f"{last.response.status} {body if len(body) <= 50 else body[:47].rsplit(' ', 1)[0] + '...'}"
    return Outcome(exchanges, won, result, notes or [])


def welcomed(user: int) -> Callable[[Exchange], bool]:
    return lambda ex: ex.response.status == 200 and ex.response.body.strip() == f"Welcome user {user}"


def checks(exchange: Exchange) -> list | None:
    found = exchange.events(TokenChecked)
    return list(found[0].checks) if found and found[0].checks else None
