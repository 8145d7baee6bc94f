"""One exercise run: the lab's weak server with this run's flag and audience, the hardened server
beside it, and the weak server's journal read for the request that solved it.

Nothing a student could find elsewhere works: the flag is made for this run (secrets), user 1's
password is random (the handout's demo password gets 401), and every token this run's servers
accept must name this run's audience, so a token forged against another run is refused.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, replace

from authcli import clock
from authcli.client import ScriptedClient
from authcli.events import (AuthorizationRefused, GrantChecked, IdTokenChecked, Refused, SessionCreated, TokenChecked,
                            TokenSigned)
from authcli.http import Exchange
from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, ATTACKER_USER_ID, DEMO_EMAIL, DEMO_USER_ID
from authcli.server.journal import RequestRecord
from authcli.server.lab.admin import ADMIN_ID, WithAdmin
from authcli.server.lab.answer import ANSWER_PATH, VICTIM_PATH, WithAnswer, body_field
from authcli.server.lab.weaknesses import WEAKNESSES, jwt_policy
from authcli.server.policy import HARDENED_JWT
from authcli.server.transport.httpd import AuthServer
from authcli.walkthroughs.lab.exercise_model import Exercise, checked
from authcli.walkthroughs.lab.exercises import EXERCISES
from authcli.walkthroughs.lab.practice_client import CLIENT_LABS
from authcli.walkthroughs.lab.practice_enum import Enumeration

MAX_PLANTS = 20  # fixation: user 1 logs in (two Argon2id hashes) at most this often per run
TOKEN_TTL = 900  # long enough to work with one token for a while; log in again for another
# What a request carries that belongs to one connection, not to the request: never replayed.
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


def flag() -> str:
    """A flag made for one run: 144 random bits, in no source file and no other run."""
    return "authcli{" + secrets.token_urlsafe(18) + "}"


def wordlist_path() -> str:
    """authcli's list of secrets people really use, where it is installed."""
    import os

    import authcli.data as package

    return os.path.join(os.path.dirname(package.__file__), "secrets.txt")


def guessable() -> str:
    """User 1's password for a guessing exercise: from authcli's list, past its first ten (more
    guesses in list order than the hardened server's 5 per account), shell- and JSON-plain."""
    from authcli.passwords import DEMO_PASSWORD
    from authcli.tokens.wordlist import wordlist

    pool = [w.decode() for w in wordlist()[10:30] if w.isascii() and w.decode().isalnum()]
    return secrets.choice([p for p in pool if p != DEMO_PASSWORD])


@dataclass(frozen=True)
class Attempt:
    """One request to /admin on the weak server, and what the exercise made of it."""

    record: RequestRecord
    solved: bool
    verdict: str


def _users(password: str, more: tuple = ()):
    from authcli.passwords import User, UserDirectory, hash_password

    # User 1 keeps the handout's email, but not its password: only the weakness gets in.
    return UserDirectory([User(DEMO_EMAIL, DEMO_USER_ID, hash_password(password)),
                          User(ATTACKER_EMAIL, ATTACKER_USER_ID, hash_password(ATTACKER_PASSWORD)), *more])


class Practice:
    """The servers of one exercise run; a context manager. `poll()` reads what came in since."""

    def __init__(self, name: str):
        if name not in EXERCISES:
            from authcli.errors import UsageError

            raise UsageError(f"{name} has no exercise yet: choose from {', '.join(EXERCISES)}")
        self.exercise: Exercise = EXERCISES[name]
        self.run_id = secrets.token_hex(8)
        self.flag = flag()
        self.audience: str | None = f"authcli-exercise-{self.run_id}"  # JWT labs only
        self.login = {"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD, "user": ATTACKER_USER_ID}
        self.leaked: str | dict[str, str] | None = None  # what the student is handed: an old token, a copied cookie
        self._hard_copy: str | None = None  # the same, from the hardened server's story
        self._password = ""
        self._failures = 0                  # failed logins for user 1 so far
        self._sessions: dict[str, int] = {}  # user 1's session IDs -> failed logins before each
        self._guesses: list = []            # the requests that logged in as user 1, or tried
        self._issued: dict[str, str] = {}  # jti -> sub of every token /login signed this run
        self.enum: Enumeration | None = None  # user-enum: this run's accounts, the probes, the answers
        self.planted: set[str] = set()      # fixation: IDs user 1's browser carried into a login
        self._plants = 0                    # fixation: how often user 1 was made to log in
        self.oauth = None                   # OAuth labs: the app, user 1's codes (practice_oauth.OAuthStory)
        self.xss = None                     # no-httponly: user 1 in Chromium (practice_xss.XssVictim)
        self._mark = 0
        self._stack = ExitStack()

    def _apps(self) -> tuple[WithAdmin, WithAdmin]:
        from authcli.server.schemes.jwt_auth import JwtAuth
        from authcli.server.schemes.kid_table import KeyTableJwtAuth
        from authcli.server.lab.jwt_weak import lab_key
        from authcli.tokens.signing import make_signing_key

        w = WEAKNESSES[self.exercise.name]
        self._password = guessable() if self.exercise.guessing else secrets.token_urlsafe(24)
        if self.exercise.guessing:
            self.leaked = wordlist_path()
        users = _users(self._password, self._accounts())
        if w.mode == "oauth" and w.name in CLIENT_LABS:
            from authcli.walkthroughs.lab.practice_client import AppWithLink, client_apps

            self.audience = None
            weak, hard, self._provider = client_apps(w, users)
            if self.exercise.route:
                return AppWithLink(weak, self.flag), AppWithLink(hard, flag())
            return weak, hard
        if w.mode == "oauth":
            from authcli.server.lab.answer import WithLink
            from authcli.walkthroughs.lab.practice_oauth import oauth_apps

            self.audience = None
            weak, hard = oauth_apps(w, users)
            if self.exercise.route:
                return WithLink(weak, self.flag), WithLink(hard, flag())
            return WithAdmin(weak, self.flag), WithAdmin(hard, flag())
        if w.mode == "session":
            from authcli.walkthroughs.lab.practice_sessions import session_apps

            self.audience = None
            weak, hard = session_apps(w, users)
            route = self.exercise.route
            if w.name in ("no-httponly", "login-csrf"):
                from authcli.server.lab.answer import WithScript

                field = "script" if w.name == "no-httponly" else "page"
                return WithScript(weak, self.flag, field), WithScript(hard, flag(), field)
            if route:
                return WithAnswer(weak, self.flag, route), WithAnswer(hard, flag(), route)
            return WithAdmin(weak, self.flag), WithAdmin(hard, flag())
        key = lab_key([w])  # alg-confusion-no-key: a 512-bit RSA key that publishes no JWKS
        hard_key = make_signing_key(w.alg) if w.secret else key
        if w.name == "kid-path":
            key = hard_key = replace(key, kid="server-key")
        base = replace(HARDENED_JWT, audience=self.audience, extra_claims=(("aud", self.audience),),
                       required_claims=(*HARDENED_JWT.required_claims, "aud"))
        kind = KeyTableJwtAuth if w.name == "kid-sql" else JwtAuth  # its keys in SQLite, found by kid
        weak = kind(key, TOKEN_TTL, policy=jwt_policy([w], base), users=users, weak=(w.name,))
        hard = kind(hard_key, TOKEN_TTL, policy=base, users=users)
        if self.exercise.leaked:
            self.leaked = self._hard_copy = self._old_token(weak)
        return WithAdmin(weak, self.flag), WithAdmin(hard, flag())

    def _accounts(self) -> tuple:
        """user-enum: this run's accounts among the candidates, which the student is handed."""
        if self.exercise.path != ANSWER_PATH:
            return ()
        from authcli.walkthroughs.lab.practice_sessions import accounts, candidates

        drawn = accounts(ATTACKER_USER_ID + 1)
        self.enum = Enumeration(candidates(), [u.email for u in drawn])
        self.leaked = " ".join(self.enum.candidates)
        return tuple(drawn)

    def _old_token(self, app) -> str:
        """User 1's token from a year ago, signed by this run's key for this run's audience."""
        from authcli.tokens.signing import issue

        year_ago = int(clock.now()) - 365 * 24 * 3600
        return issue(app.key, {"sub": str(DEMO_USER_ID), "userId": DEMO_USER_ID, "iat": year_ago,
                               "exp": year_ago + 300, "jti": secrets.token_urlsafe(16), "aud": self.audience})

    def __enter__(self) -> Practice:
        try:
            weak, hard = self._apps()
            for app in (weak, hard):
                self._stack.callback(getattr(getattr(app, "app", app), "close", lambda: None))
            self.weak = self._stack.enter_context(AuthServer(weak))
            self.hard = self._stack.enter_context(AuthServer(hard))
            if self.exercise.name in CLIENT_LABS:
                from authcli.walkthroughs.lab.practice_client import ClientStory

                provider = self._stack.enter_context(AuthServer(self._provider))
                self._provider.bind(provider.url)
                self.oauth = ClientStory(self.exercise.name, (self.weak, self.hard), provider, self._password)
                self._stack.callback(self.oauth.close)
                self.leaked = self.oauth.leaked
            elif WEAKNESSES[self.exercise.name].mode == "oauth":
                from authcli.walkthroughs.lab.practice_oauth import OAuthStory

                for server in (self.weak, self.hard):
                    server.app.bind(server.url)
                self.oauth = OAuthStory(self.exercise.name, (self.weak, self.hard), self._password)
                self.leaked = self.oauth.leaked
            if self.exercise.name in ("no-httponly", "login-csrf"):
                from authcli.walkthroughs.lab.practice_xss import XssVictim

                self.xss = self._stack.enter_context(XssVictim((self.weak, self.hard), self._password))
            elif WEAKNESSES[self.exercise.name].mode == "session":
                from authcli.walkthroughs.lab.practice_sessions import victim

                copies = victim(self.exercise.name, (self.weak, self.hard), self._password)
                if copies[0] is not None:
                    self.leaked, self._hard_copy = copies
            self._mark = self.weak.mark()  # what the exercise itself sent is not the student's
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def poll(self) -> list[Attempt]:
        """The requests to /admin since the last poll, each judged; tokens issued at /login are
        noted on the way (a token this server signed at a login never counts)."""
        records, self._mark = self.weak.journal.page(self._mark)
        attempts = []
        for record in records:
            for event in record.events:
                if isinstance(event, TokenSigned) and isinstance(event.claims.get("jti"), str):
                    self._issued[event.claims["jti"]] = str(event.claims.get("sub"))
            if record.request.path == "/login":
                self._count_login(record)
            if record.request.path == VICTIM_PATH == self.exercise.route:
                attempts.append(self._victim(record))
            elif record.request.path == self.exercise.path:
                attempts.append(self.judge(record))
        return attempts

    def _count_login(self, record: RequestRecord) -> None:
        """Logins for user 1 in order: how many failed before each one that made a session."""
        if self.enum is not None:
            self.enum.saw_login(record)
        if body_field(record.request.body, "email") != DEMO_EMAIL:
            return
        self._guesses.append(record.request)
        if record.status == 401:
            self._failures += 1
        for event in record.events:
            if isinstance(event, SessionCreated) and event.record.get("userId") == DEMO_USER_ID:
                self._sessions[event.session_id] = self._failures

    def _victim(self, record: RequestRecord) -> Attempt:
        """fixation: user 1's browser carries the planted ID and logs in, on both servers (the
        hardened server's story is the same); what the student is told."""
        from authcli.server.lab.answer import link, planted
        from authcli.walkthroughs.lab.practice_sessions import logs_in_carrying

        if self.xss is not None:
            from authcli.server.lab.answer import script

            field = self.weak.app.field
            code = script(record.request.body or b"", field) if record.status == 202 else None
            if code and field == "page":
                login, said = self.xss.opens(code)
                self._mark = self.weak.mark()
                return Attempt(login or record, login is not None, said)
            said = self.xss.runs(code) if code else f"{record.status}: no {field} sent"
            self._mark = self.weak.mark()  # what user 1's page sent (its /admin too) is not the student's
            return Attempt(record, False, said)
        if self.exercise.name in CLIENT_LABS:
            value = link(record.request.body or b"") if record.status == 202 else None
            if value is None:
                return Attempt(record, False, f"{record.status}: no link sent")
            found, said = self.oauth.follow(value)
            self._mark = self.weak.mark()  # user 1's browser's requests are not the student's
            solved = found is not None and self.exercise.evidence(found, self)
            if found is not None and not solved:
                said += ": not counted"
            return Attempt(found or record, solved, said)
        if self.oauth is not None:
            value = link(record.request.body or b"") if record.status == 202 else None
            said = self.oauth.follow(value, self.weak.url) if value else f"{record.status}: no link sent"
            return Attempt(record, False, said)
        value = planted(record.request.body or b"") if record.status == 202 else None
        if value is None:
            return Attempt(record, False, f"{record.status}: nothing planted")
        if self._plants >= MAX_PLANTS:
            return Attempt(record, False, f"not planted: {MAX_PLANTS} plants per run")
        self._plants += 1
        status = logs_in_carrying(self.weak, value, self._password)
        logs_in_carrying(self.hard, value, self._password)
        if status == 200:
            self.planted.add(value)
        return Attempt(record, False, f"user 1 logged in, their browser carrying sessionId={value} ({status})")

    def failures_before(self, session_id: str) -> int:
        """Failed logins for user 1 before the login that made `session_id` (-1: not a login's)."""
        return self._sessions.get(session_id, -1)

    def judge(self, record: RequestRecord) -> Attempt:
        if self.enum is not None:
            return Attempt(record, *self.enum.judge(record))
        if record.status not in (200, 302):  # 302: a client app's new session, sent on to /profile
            said = next((e.message for kind in (Refused, TokenChecked, AuthorizationRefused, GrantChecked,
                                                IdTokenChecked)
                         for e in record.events if isinstance(e, kind)), "refused")
            return Attempt(record, False, f"{record.status}: {said.removesuffix(f' -> {record.status}')}")
        event = checked(record)
        jti = (event.payload or {}).get("jti") if event is not None else None
        if isinstance(jti, str) and self._issued.get(jti) == ADMIN_ID:
            return Attempt(record, False, "user 1's own token, from a login: not counted")
        if self.exercise.name in CLIENT_LABS and not any(isinstance(e, SessionCreated) and e.record.get("sub") == ADMIN_ID
                                                         for e in record.events):
            subs = [str(e.record.get("sub")) for e in record.events if isinstance(e, SessionCreated)]
            return Attempt(record, False, f"{record.status}: a session for user {', '.join(subs) or 'nobody'}, not "
                           "user 1: not counted")
        if not self.exercise.evidence(record, self):
            return Attempt(record, False, f"user 1, but not by {self.exercise.name}: not counted")
        return Attempt(record, True, f"solved: user 1 by {self.exercise.name}")

    def replay(self, record: RequestRecord) -> tuple[int, Exchange]:
        """The very request that solved it (its method, target, headers and body), sent to the
        hardened server; where the story is the guesses, those requests, in order, until one is
        refused without a guess being checked (429) or gets in. How many were sent, and the last."""
        if self.enum is not None and self.enum.unknown_probe is not None:
            return 1, self._send_hard(self.enum.unknown_probe)
        if self.exercise.guessing and self._guesses:
            for sent, request in enumerate(self._guesses, 1):
                answer = self._send_hard(request)
                if answer.response.status in (200, 429):
                    break
            return sent, answer
        if self.xss is not None and self.weak.app.field == "script":  # what your scripts collected there
            return 1, self.xss.hard_collect()
        if self.oauth is not None and self.oauth.hard_answer is not None:  # user 1 opened your link there
            return 1, self.oauth.hard_answer
        if self.exercise.name in CLIENT_LABS:  # your login's cookie: a login started at the hardened app
            self.oauth.hard_request(record)
        return 1, self._send_hard(record.request)

    def _send_hard(self, request) -> Exchange:
        headers = {name: self._for_hard(value) for name, value in request.headers
                   if name.lower() not in HOP_HEADERS}
        client = ScriptedClient(self.hard)
        try:
            return client.send(request.method, request.target, headers=headers,
                               data=self._for_hard(request.body.decode("latin-1")).encode("latin-1") if request.body else None)
        finally:
            client.close()

    def _for_hard(self, value: str) -> str:
        """A header value as it goes to the hardened server: a credential handed over from the
        weak server's story becomes the hardened server's copy of it (the same story there)."""
        if self.oauth is not None:  # the app's client_id and user 1's code: the hardened server's own
            for weak, hard in self.oauth.swaps.items():
                value = value.replace(weak, hard)
        elif self.leaked and self._hard_copy and self.leaked != self._hard_copy:
            return value.replace(self.leaked, self._hard_copy)
        return value

    def facts(self) -> dict[str, object]:
        """What the student is told at the start (the run's data, as JSON would carry it)."""
        return {"lab": self.exercise.name, "run": self.run_id, "url": self.weak.url,
                "login": {k: v for k, v in self.login.items()}, "audience": self.audience,
                "leaked": self.leaked, "oauth": self.oauth is not None,
                "provider": self.oauth.provider.url if self.exercise.name in CLIENT_LABS else None, "handed": self.exercise.leaked, "goal": self.exercise.goal, "account": self.exercise.account, "tools": list(self.exercise.tools)}
