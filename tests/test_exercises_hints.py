"""Every command in an exercise's hints pasted as a student pastes it: all hints, in order, into one
bash (so what one hint sets, the next uses), after the lines the exercise hands out; it must solve."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from test_exercises import ENV, Exercise

# A hint's command is its tail, after the first ": " that a command follows (words come first).
COMMAND = re.compile(r": ((?:[A-Z][A-Z0-9_]*=|curl |authcli |python3 ).*)$")
HANDED = re.compile(r"^  [A-Z][A-Z0-9_]*='")  # a handed-out value, as a line to paste

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def hints_of(run: Exercise) -> list[str]:
    total = int(re.search(r"^(\d+) hints: ", run.until(" hints: ")).group(1))
    said = []
    for number in range(1, total + 1):
        run.type("h")
        said.append(run.until(f"Hint {number} of {total}: ").split(": ", 1)[1].rstrip("\n"))
    return said


def paste(run: Exercise, tmp_path, hints: list[str]) -> tuple[int, str, str]:
    """One bash, fed line by line: what the exercise handed out, then each hint's command. A hint that
    asks for the URL this terminal shows (WENT='...') gets it when the terminal shows it."""
    shell = subprocess.Popen(["bash", "-eu", "-o", "pipefail"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
    try:
        lines = [line.rstrip("\n") for line in run.seen if HANDED.match(line)]
        for hint in hints:
            if "into WENT='...'" in hint:
                shell.stdin.write("\n".join(lines) + "\n")
                shell.stdin.flush()
                went = run.until_match(r"went to your (?:page|app's redirect URI): \S+$").split()[-1]
                lines = [f"WENT='{went}'"]
            if found := COMMAND.search(hint):
                lines.append(found.group(1))
        out, err = shell.communicate("\n".join(lines) + "\n", timeout=60)
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()
    return shell.returncode, out, err


@pytest.mark.parametrize("lab, commands", [
    ("no-verify", 3), ("alg-none", 3), ("weak-secret", 3), ("implicit", 3), ("no-pkce", 2), ("no-state", 3),
    ("kid-path", 3), ("alg-confusion", 3), ("jwk-header", 3), ("kid-sql", 2), ("no-exp", 2), ("no-nonce", 3),
    ("redirect-prefix", 3), ("wrong-aud", 4),
    ("predictable-id", 2), ("logout-cookie-only", 1), ("no-server-expiry", 1),
])
def test_pasting_every_hint_in_order_solves_the_exercise(lab, commands, tmp_path):
    with Exercise(lab, tmp_path) as run:
        hints = hints_of(run)
        banner = "".join(run.seen)
        assert "PORT" not in "".join(hints) and not any(re.search(r"\$[A-Z]", h[:h.find(": ")]) for h in hints)
        assert sum(1 for h in hints if COMMAND.search(h)) == commands, hints
        status, stdout, stderr = paste(run, tmp_path, hints)
        assert status == 0, (stdout, stderr)
        code, out = run.finish()
    assert code == 0 and f"solved: {lab}, with {len(hints)} hint" in out, (out, stdout, stderr)
    if lab in ("no-verify", "alg-none", "weak-secret", "kid-path", "alg-confusion", "jwk-header", "kid-sql", "no-exp",
               "predictable-id", "logout-cookie-only", "no-server-expiry"):
        assert "Welcome, admin (user 1)" in stdout
    if lab == "implicit":  # the goal's claims: user 1's sub and email, from /userinfo
        assert '"sub": "1"' in stdout and '"email": "a@b.com"' in stdout
    if lab in ("implicit", "no-pkce", "redirect-prefix", "wrong-aud", "no-nonce"):  # eve plays no part
        assert "Your account" not in banner
    if lab == "no-state":  # the sign-in form is where a login at the app leads, not a bare /authorize (400)
        assert "where a login at the app sends you" in banner and "/authorize\n" not in banner
    if lab in ("implicit", "no-pkce"):  # port 9 explained, each value on a line of its own
        assert "on a port nothing listens on" in banner and "  CLIENT='" in banner
