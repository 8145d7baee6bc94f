"""The user-enum exercise's judge: which of twenty emails have an account in this run, found by
asking /login, and sent to POST /answer.

The journal decides: an answer counts when it names exactly this run's accounts (drawn at random
per run, so another run's answer is wrong here), no more than MAX_ANSWERS answers are judged (no
trying every subset), and every one of the twenty emails was tried at /login first: the answers
came from the server's words, not from a guess.
"""

from __future__ import annotations


from authcli.server.journal import RequestRecord
from authcli.server.lab.answer import body_field, emails

MAX_ANSWERS = 3


class Enumeration:
    """This run's candidates and accounts; what the student asked /login and sent to /answer."""

    def __init__(self, candidates: list[str], accounts: list[str]):
        self.candidates = candidates
        self.accounts = set(accounts)
        self.probed: set[str] = set()
        self.unknown_probe = None  # the first /login for an email with no account: the replay
        self.answers = 0

    def saw_login(self, record: RequestRecord) -> None:
        email = body_field(record.request.body, "email")
        if email in self.candidates:
            self.probed.add(email)
            if email not in self.accounts and self.unknown_probe is None:
                self.unknown_probe = record.request

    def judge(self, record: RequestRecord) -> tuple[bool, str]:
        listed = emails(record.request.body or b"")
        if record.status != 200 or isinstance(listed, str):
            return False, f"{record.status}: not an answer"
        self.answers += 1
        if self.answers > MAX_ANSWERS:
            return False, f"not judged: {MAX_ANSWERS} answers per run (run the exercise again for new accounts)"
        left = f"{MAX_ANSWERS - self.answers} answer{'s' if MAX_ANSWERS - self.answers != 1 else ''} left"
        if {e.strip().lower() for e in listed} != self.accounts:
            return False, f"wrong: not exactly this run's accounts ({left})"
        unasked = [e for e in self.candidates if e not in self.probed]
        if unasked:
            return False, (f"right, but {len(unasked)} of the {len(self.candidates)} emails were never tried "
                           f"at /login in this run: not found by user-enum, not counted ({left})")
        return True, f"solved: this run's {len(self.accounts)} accounts, found by user-enum"
