"""Fix-it mode: every attack against servers built from the student's policy file.

Each attack still runs first against the lab's weak server, where the attacker works out what to
send; the very same requests then go to a server built from the file (one per attack: a server
has one signing algorithm and one way to find its key). The table says which attacks the file
now refuses, which still work, and which value closes each.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

from authcli.errors import WalkthroughError
from authcli.passwords import lab_users
from authcli.server.lab.frameworks import SETTINGS
from authcli.server.lab.policy_file import FIELDS, Field, StudentPolicy, toml_value
from authcli.walkthroughs.lab.attacks import ATTACKS
from authcli.walkthroughs.lab.model import Attack, Outcome, start_pair
from authcli.walkthroughs.lab.model import checks as _checks
from authcli.walkthroughs.model import (
    ChecksBlock, ExchangeBlock, Step, Table, TableBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("lab --fix", "every attack against servers built from your policy file", command="lab")


def fields_of(name: str) -> list[Field]:
    """The file's values that open the attack `name`."""
    return [f for f in FIELDS.values() if name in f.attacks]


def opens(student: StudentPolicy, field: Field, name: str) -> bool:
    """The file's value of `field` leaves attack `name` open (judged by the value, not by a run)."""
    value = student.values[field.name]
    if field.name == "jwt.key_from_token":
        return ATTACKS[name].weakness.change.get("key_source") in value
    return student.differs(field)


def still_open(student: StudentPolicy) -> tuple[str, ...]:
    """The weaknesses the file still has, by name: what its servers' X-Authcli-Weak header says."""
    return tuple(n for n in ATTACKS if any(opens(student, f, n) for f in fields_of(n)))


def closing(field: Field, name: str) -> str:
    """The value that closes attack `name`, as the file writes it."""
    if field.name == "jwt.key_from_token":
        return f'{field.key} without "{ATTACKS[name].weakness.change["key_source"]}"'
    return f"{field.key} = {toml_value(field.hardened)}"


def student_apps(attack: Attack, student: StudentPolicy) -> tuple[Any, Any]:
    """The lab's weak server for this attack, and a server built from the file with the same key."""
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.schemes.kid_table import KeyTableJwtAuth
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.stores.memory import MemoryStore
    from authcli.tokens.signing import make_signing_key

    w = attack.weakness
    weak, hard = attack.apps(w)
    if hasattr(hard, "close"):
        hard.close()
    # X-Authcli-Weak: the file's mistakes this server can have (its mode; of the key sources, its own).
    names = tuple(n for n in still_open(student) if ATTACKS[n].weakness.mode == w.mode
                  and ("key_source" not in ATTACKS[n].weakness.change or n == w.name))
    if w.mode == "oauth" and hasattr(weak, "provider"):  # the client app's checks: it and its own AS
        from authcli.walkthroughs.lab.oauth_client import client_app

        return weak, client_app(student.relying(), student.oauth(), names)
    if w.mode == "oauth":
        from authcli.server.schemes.oauth import OAuthProvider

        return weak, OAuthProvider(policy=student.oauth(), users=lab_users(), weak=names)
    if w.mode == "session":
        return weak, SessionAuth(MemoryStore(), hard.policy.ttl, policy=student.session(), users=lab_users(), weak=names)
    # weak-secret tests the file's secret; every other attack uses the key both lab servers share.
    key = make_signing_key(w.alg, student.secret) if w.name == "weak-secret" else hard.key
    kind = KeyTableJwtAuth if w.name == "kid-sql" else JwtAuth
    return weak, kind(key, 300, policy=student.jwt(w.change.get("key_source", "server")), users=lab_users(), weak=names)


@contextmanager
def tried(attack: Attack, student: StudentPolicy) -> Iterator[tuple[Outcome, Outcome]]:
    """The attack on the lab's weak server (it must work there), then on the file's server."""
    weak_app, your_app = student_apps(attack, student)
    with ExitStack() as stack:
        pair = start_pair(stack, weak_app, your_app)
        weak, yours = attack.run(pair)
        if not weak.won:
            raise WalkthroughError(f"{attack.weakness.name}: the attack did not work on the weak server ({weak.result})")
        yield weak, yours


def _attack_step(number: int, attack: Attack, student: StudentPolicy, yours: Outcome) -> Step:
    name = attack.weakness.name
    last = yours.exchanges[-1][1]
    verdict = (f"still works ({yours.result})" if yours.won else f"refused ({yours.result})")
    weak = _left_open(student, name)
    if weak and not yours.won:
        verdict += f", but {_values(weak, student)} still leaves it open: another value stopped this run"
    return step(number, f"{name}: the attack on your server", [
        f"The mistake it looks for: {attack.weakness.summary}.", attack.knows,
        f"Result on the server built from your file: {verdict}.",
        f"The value that closes it: {'; '.join(closing(f, name) for f in fields_of(name))}. Yours: "
        f"{_values(fields_of(name), student)}.",
    ], ExchangeBlock(last, events=_checks(last) is None),
        ChecksBlock(_checks(last), "Your server's checks:") if _checks(last) else None,
        predict=attack.predict or None)


def culprits(attack: Attack, student: StudentPolicy) -> tuple[list[Field], bool]:
    """The file's values that leave an attack open, and whether they are its own: a forged token
    needs no mistake of its own on a server that never checks signatures."""
    name = attack.weakness.name
    own = [f for f in fields_of(name) if opens(student, f, name)]
    if own:
        return own, True
    unsigned = FIELDS["jwt.verify_signature"]
    if attack.weakness.mode == "jwt" and name != "no-exp" and student.differs(unsigned):
        return [unsigned], False
    return [f for f in FIELDS.values() if f.section.split(".")[0] == attack.weakness.mode
            and any(opens(student, f, n) for n in f.attacks)], False


def _left_open(student: StudentPolicy, name: str) -> list[Field]:
    """The attack's own values still weak, though this run was refused: another value stopped it
    (a planted ID not shaped like a counter's). A secret of the student's own is not judged weak."""
    return [f for f in fields_of(name) if opens(student, f, name)
            and (f.name != "jwt.hmac_secret" or student.values[f.name] == f.weak)]


def _values(fields: list[Field], student: StudentPolicy) -> str:
    return "; ".join(f"{f.key} = {_shown(f, student.values[f.name])}" for f in fields)


def _shown(field: Field, value: Any) -> str:
    """A value as the file writes it; a secret of the student's own only by its length."""
    if field.name == "jwt.hmac_secret" and value not in (field.weak, field.hardened):
        return f"({len(value)} characters, not shown)"
    return toml_value(value)


def _row(attack: Attack, student: StudentPolicy, yours: Outcome) -> list[str]:
    name = attack.weakness.name
    state = "refused"
    weak = _left_open(student, name)
    if weak and not yours.won:
        state = f"refused in this run, but {_values(weak, student)} still leaves it open"
    if yours.won:
        found, own = culprits(attack, student)
        state = ("STILL WORKS" if own else f"STILL WORKS: its values are fixed, but {_values(found, student)} "
                 "lets it through" if len(found) == 1 else "STILL WORKS: its values are fixed; another weak "
                 f"value lets it through ({_values(found, student) or 'none found'})")
    return [name, state, "; ".join(closing(f, name) for f in fields_of(name)), _values(fields_of(name), student)]


def _frameworks(student: StudentPolicy, tried: list[tuple[Attack, Outcome]]) -> list[list[str]]:
    """Where the values that let the attacks through live in frameworks."""
    names = {f.name for attack, yours in tried if yours.won for f in culprits(attack, student)[0]}
    return [[f.name, s.framework, f"{s.name} {s.source}"] for f in FIELDS.values() if f.name in names
            for s in SETTINGS[f.name]]


def fix_walkthrough(student: StudentPolicy, source: str, names: list[str] | None = None) -> Iterator[Step]:
    """Yield a step per attack (the file's server's answer), then the table of all of them."""
    chosen = [ATTACKS[n] for n in (names or list(ATTACKS))]
    changed = [f.name for f in FIELDS.values() if student.differs(f)]
    yield step(None, "Fix-it: your policy against every attack", [
        f"The policy read from {source}: {len(changed)} of its {len(FIELDS)} values differ from "
        f"authcli's hardened server{': ' + ', '.join(changed) if changed else ''}.",
        "Each attack runs first against the lab's weak server, where the attacker works out what "
        "to send, then the very same requests go to a server built from your file (loopback only; "
        "its X-Authcli-Weak header names the mistakes of your file that server can have). Every "
        "result below happened.",
    ])
    rows, done = [], []
    for number, attack in enumerate(chosen, 1):
        with tried(attack, student) as (_, yours):
            yield _attack_step(number, attack, student, yours)
        rows.append(_row(attack, student, yours))
        done.append((attack, yours))
    refused = sum(r[1].startswith("refused") for r in rows)
    blocks = [TableBlock(Table("Your policy against every attack", ["attack", "your server", "closed by", "yours"], rows))]
    settings = _frameworks(student, done)
    if settings:
        blocks.append(TableBlock(Table("The values that let them through, in the frameworks you use",
                                       ["value", "framework", "setting"], settings)))
    yield step(None, "Summary", [
        f"{refused} of {len(rows)} attacks refused by the servers built from your file; "
        f"{len(rows) - refused} still work.",
    ], *blocks)
