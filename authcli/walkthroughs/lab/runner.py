"""The attack lab: each attack against a server with the mistake, then the very same attack
against the hardened server, both real, both asserted from the traffic.

An attack is a function of a `Pair` (the weak and the hardened server, running) that returns
what happened on each: the attacker's exchanges and whether the attacker won. The walkthrough
refuses to narrate an attack that did not go as taught.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

from authcli.errors import WalkthroughError
from authcli.events import KeyChosen
from authcli.walkthroughs.lab.attacks import ATTACKS
from authcli.walkthroughs.lab.model import Attack, Outcome, start_pair
from authcli.walkthroughs.lab.model import checks as _checks
from authcli.walkthroughs.model import (
    ChecksBlock, Defences, ExchangeBlock, Note, NotesBlock, Step, Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("lab", "each attack on a server with the mistake, then on the hardened one",
                       command="lab")


def _attack_steps(number: int, attack: Attack, weak: Outcome, hard: Outcome) -> list[Step]:
    w = attack.weakness
    refused = _refusal(hard)
    # Where the weak server got its key (its own, the token's jwk, a jku URL, a file...).
    said = [f"What the weak server did: {e.message}." for _, ex in weak.exchanges for e in ex.events(KeyChosen)]
    return [
        step(number, f"{w.name}: the attack on a server with the mistake", [
            f"The mistake: {w.summary}. This server has it (X-Authcli-Weak: {w.name}).",
            attack.knows, *weak.notes, *said,
            f"Result: the attack worked ({weak.result}).",
        ], *(ExchangeBlock(ex, events=_checks(ex) is None) for _, ex in weak.exchanges),
            *([ChecksBlock(_checks(weak.exchanges[-1][1]), "The weak server's checks:")]
              if _checks(weak.exchanges[-1][1]) else []),
            predict=attack.predict or None),
        step(number + 1, f"{w.name}: the same attack on the hardened server", [
            "The same attacker, the same requests, against authcli's default server.", *hard.notes,
            f"Result: refused ({hard.result}).{' ' + refused if refused else ''}",
        ], *(ExchangeBlock(ex, events=_checks(ex) is None) for _, ex in hard.exchanges[-1:]),
            *([ChecksBlock(_checks(hard.exchanges[-1][1]), "The hardened server's checks:")]
              if _checks(hard.exchanges[-1][1]) else []),
            NotesBlock([Note("The lesson", w.lesson_line)]), Defences(list(w.guards)) if w.guards else None,
            predict=f"The same attack ({w.name}) against the hardened server."),
    ]


def _refusal(hard: Outcome) -> str:
    checks = _checks(hard.exchanges[-1][1])
    failed = next((c for c in checks or [] if c.ok is False), None)
    return f"The check that stopped it: {failed.name}, {failed.detail}." if failed else ""


def lab_walkthrough(names: list[str] | None = None) -> Iterator[Step]:
    """Yield the lab's steps: for each attack (all, in order, by default) the weak server's
    defeat and the hardened server's refusal; then the table of all of them."""
    chosen = [ATTACKS[n] for n in (names or list(ATTACKS))]
    jwt = [a.weakness.name for a in chosen if a.weakness.mode == "jwt"]
    yield step(None, "The attack lab", [
        "Each attack runs twice on real servers: first against a server with one deliberate "
        "mistake, built from the hardened policy with that mistake's values, listening on loopback "
        "only and saying so in an X-Authcli-Weak header; then, request for request, against "
        "authcli's default server. Every success and refusal below happened.",
        *(["The JWT attacks follow PortSwigger's eight JWT labs [^portswigger-jwt-labs] (two of "
           "them are algorithm confusion: with the public key published, and with no exposed key); "
           "kid-sql is WebGoat's [^webgoat-jwt], and no-exp is authcli's own."] if jwt else []),
    ])
    rows, number, skipped = [], 1, []
    for attack in chosen:
        if missing(attack):
            skipped.append(attack.weakness.name)
            yield step(None, f"{attack.weakness.name}: skipped", [missing(attack)])
            continue
        with attacked(attack) as (weak, hard):
            yield from _attack_steps(number, attack, weak, hard)
        number += 2
        rows.append([attack.weakness.name, weak.result, hard.result, attack.weakness.fix])
    yield step(None, "Summary", [
        (f"{len(rows)} attacks: each worked" if len(rows) != 1 else "1 attack: it worked")
        + " against the server with the mistake and was refused by the hardened one."
        + (f" Skipped: {', '.join(skipped)} (see above)." if skipped else ""),
    ], TableBlock(Table("Attack lab", ["attack", "weak server", "hardened server", "defence"], rows)))


def missing(attack: Attack) -> str:
    """One line when the attacker's side needs a module that is not installed, else ""."""
    import importlib.util

    needs = attack.weakness.needs
    if not needs or importlib.util.find_spec(needs) is not None:
        return ""
    return (f"Skipped: {attack.weakness.name} needs {needs} for its big-number arithmetic: "
            f"pip install 'authcli[{needs}]'")


@contextmanager
def attacked(attack: Attack) -> Iterator[tuple[Outcome, Outcome]]:
    """Both servers up, the attack run against each; the servers keep running until the
    caller is done showing it (a paused step's curl line still works), then stop. Refuses a
    lesson that did not go as taught."""
    weak_app, hard_app = attack.apps(attack.weakness)
    with ExitStack() as stack:
        pair = start_pair(stack, weak_app, hard_app)
        won, lost = attack.run(pair)
        name = attack.weakness.name
        if not won.won:
            raise WalkthroughError(f"{name}: the attack did not work on the weak server ({won.result})")
        if lost.won:
            raise WalkthroughError(f"{name}: the hardened server let the attack through ({lost.result})")
        yield won, lost


def run_attack(attack: Attack) -> tuple[Outcome, Outcome]:
    with attacked(attack) as outcomes:
        return outcomes

