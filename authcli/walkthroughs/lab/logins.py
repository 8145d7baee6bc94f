"""The lab's attacks on /login itself: finding which emails have accounts, and guessing a
password from a list. Both are the session server's; each sends the very same requests to the
weak server and to the hardened one.
"""

from __future__ import annotations

import statistics
import time

from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.lab.weaknesses import WEAKNESSES
from authcli.walkthroughs.lab.model import Attack, Outcome, Pair, outcome, welcomed
from authcli.walkthroughs.lab.sessions import session_apps

# Twenty emails an attacker might try (a leaked list, a company's naming scheme); one has an account.
EMAILS = ["admin@b.com", "alice@b.com", "bob@b.com", "carol@b.com", "dave@b.com", "root@b.com",
          "info@b.com", "support@b.com", "sales@b.com", "test@b.com", "jo@b.com", "b@b.com",
          DEMO_EMAIL, "c@b.com", "a@a.com", "a@c.com", "me@b.com", "hr@b.com", "web@b.com", "ops@b.com"]
GUESS = "not-their-password"
TIMING_TRIES = 3  # a@b.com answers this many times for the timing medians (the list's try included)


def _answer(exchange) -> str:
    return exchange.response.body.strip()


def _probe(pair: Pair, server) -> tuple[dict[str, object], dict[str, float]]:
    """Every email once, with one wrong password; then a@b.com again for the timing."""
    answers, times = {}, {}
    for email in EMAILS + [DEMO_EMAIL] * (TIMING_TRIES - 1):
        start = time.perf_counter()
        exchange = pair.send(server, "POST", "/login", json={"email": email, "password": GUESS})
        times.setdefault(email, []).append(time.perf_counter() - start)
        answers.setdefault(email, exchange)
    return answers, {e: statistics.median(t) for e, t in times.items()}


def user_enum(pair: Pair):
    out = []
    for server in (pair.weak, pair.hard):
        answers, medians = _probe(pair, server)
        common = statistics.mode(_answer(ex) for ex in answers.values())
        found = [e for e, ex in answers.items() if _answer(ex) != common]
        unknown_ms = 1000 * statistics.median(m for e, m in medians.items() if e != DEMO_EMAIL)
        kinds = sorted({f"{ex.response.status} {_answer(ex)}" for ex in answers.values()})
        result = (f"found {', '.join(found)} among {len(EMAILS)}" if found
                  else f"one answer for all {len(EMAILS)}: {kinds[0]}")
        out.append(Outcome([("an email with no account", answers[EMAILS[0]]), ("a@b.com", answers[DEMO_EMAIL])],
                           bool(found), result, [
                               f"{len(EMAILS)} emails, one wrong password each: "
                               + (f"{len(kinds)} different answers ({'; '.join(kinds)})." if len(kinds) > 1
                                  else f"the same answer every time ({kinds[0]})."),
                               f"Timing (data, not proof): median {unknown_ms:.1f} ms for the "
                               f"{len(EMAILS) - 1} emails with no account, {1000 * medians[DEMO_EMAIL]:.1f} ms "
                               f"for a@b.com over {TIMING_TRIES} tries."]))
    out[0].notes.append("The weak server hashes only for an account that exists, so even one answer for "
                        "both would leave the timing to tell them apart.")
    return out[0], out[1]


def passwords() -> list[str]:
    """Nine guesses from authcli's wordlist, then the demo's own password: a short stuffing list."""
    from authcli.tokens.wordlist import wordlist

    return [w.decode("utf-8", "replace") for w in wordlist()[:9]] + [DEMO_PASSWORD]


def no_rate_limit(pair: Pair):
    out = []
    for server in (pair.weak, pair.hard):
        attacker = pair.client(server)
        tried = []
        for guess in passwords():
            tried.append(attacker.send("POST", "/login", json={"email": DEMO_EMAIL, "password": guess}))
            if tried[-1].response.status == 200:
                break
        shown = [(f"guess 1 ({passwords()[0]!r})", tried[0]), (f"guess {len(tried)}", tried[-1])]
        if tried[-1].response.status == 200:
            shown.append(("the attacker's session", attacker.send("GET", "/profile")))
        out.append(outcome(shown, won_if=welcomed(1), notes=[_tally(tried)]))
    return out[0], out[1]


def _tally(tried) -> str:
    statuses = [ex.response.status for ex in tried]
    counts = ", ".join(f"{statuses.count(s)} x {s}" for s in dict.fromkeys(statuses))
    wait = next((ex.response.header("Retry-After") for ex in tried if ex.response.status == 429), None)
    return (f"{len(tried)} guesses for a@b.com from one address: {counts}"
            + (f"; the 429s say Retry-After: {wait}. The real user logging in from another address "
               "is not counted with these; from this address, they wait the same window." if wait else "."))


def _login(name: str, run, knows: str, predict: str) -> Attack:
    return Attack(WEAKNESSES[name], knows, run, session_apps, predict)


LOGIN_ATTACKS = [
    _login("user-enum", user_enum, f"The attacker has {len(EMAILS)} emails and wants to know which have "
           "accounts here (to guess their passwords, or to phish them), and tries each with a wrong password.",
           "Twenty emails, one wrong password each: do the answers differ?"),
    _login("no-rate-limit", no_rate_limit, f"The attacker tries {len(passwords())} common passwords "
           "against a@b.com, one after the other, from one address.",
           "Ten password guesses for a@b.com in a row."),
]
