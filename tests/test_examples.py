"""examples.md must be what the tool prints, one test per transcript. Regenerate (then check):
AUTHCLI_WRITE_EXAMPLES=1 pytest -n0 tests/test_examples.py"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from authcli.sources import MARKER

from conftest import HAPROXY_HINT, browser_missing

EXAMPLES = Path(__file__).resolve().parent.parent / "examples.md"
# Each transcript: the command as a user types it, run by bash, with plain output at 80 columns.
# A token signed with the handout's secret for a@b.com (user 1), expiring in 2100: its bytes never change.
HANDOUT_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidXNlcklkIjoxLCJlbWFpbCI6ImFAYi5jb20iLCJpYXQi"
                 "OjE3NjQxMTg4MDAsImV4cCI6NDEwMjQ0NDgwMH0.yQP244FuMT4o1VSKpeehptirbWl_m1wAeZ_-Z9DOYt8")
# jwt.io's own sample: HS256 with the secret "your-256-bit-secret", no exp.
JWT_IO_SAMPLE = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy"
                 "fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
# (command, exit code). --ttl 2 (3 for JWT, whose first seven steps run inside one lifetime):
# short waits, yet room for a burst on a busy machine.
COMMANDS = [
    ("authcli demo session --ttl 2", 0),
    ("authcli demo session --ttl 2 --store redis", 0),
    ("authcli demo session --ttl 2 --store sqlite", 0),
    ("authcli demo jwt --ttl 3 --secret mySecretKey", 0),
    ("authcli demo jwt --alg RS256 --rotate", 0),
    ("authcli demo jwt --dpop", 0),
    ("authcli demo jwt --cookie --ttl 3", 0),
    ("authcli demo scaling", 0),
    (f"authcli decode {HANDOUT_TOKEN}", 0),
    (f"authcli decode {HANDOUT_TOKEN} --secret mySecretKey", 0),
    (f"authcli decode {HANDOUT_TOKEN} --secret wrongSecret", 1),
    (f"authcli decode {JWT_IO_SAMPLE} --secret your-256-bit-secret", 0),
    (f"authcli decode {HANDOUT_TOKEN} --secret mySecretKey --at 2101-01-01T00:00:00Z", 1),
    ("authcli sign --sub 1 --exp 15m --secret mySecretKey", 0),
    ("authcli keys --alg ES256 --out /tmp --force", 0),
    ("authcli demo compare -f markdown", 0),
    ("authcli demo jwt --ttl 3 -f markdown", 0),
    # --predict, answers piped in, one a line (an empty line skips one); when stdin ends the rest
    # go unanswered (2>&1: the prompts are on stderr).
    ("printf '%s\\n' 200 200 200 '' 200 200 401 | authcli demo jwt --ttl 3 --step --predict 2>&1", 0),
    ("authcli demo session --ttl 2 --https", 0),
    ("authcli demo refresh", 0),
    ("authcli demo oauth", 0),
    ("authcli demo oauth --browser", 0),
    # --ttl 6: A's record outlives a loaded machine's stalls (at --ttl 3 a 2 s stall in CI let the
    # store drop it before A's request, and the transcript read differently)
    ("authcli demo session --ttl 6 --idle 1", 0),
    ("authcli demo browser", 0),
    ("authcli demo browser --dpop", 0),
    ("authcli lab --list", 0),
    ("authcli lab alg-confusion", 0),
    ("authcli lab alg-confusion-no-key", 0),
    ("authcli lab --summary", 0),
    ("authcli lab kid-sql", 0),
    # Fix-it: the weak policy with two values fixed, piped back in; alg-none still gets through
    # (verify_signature is still false), and the table says so.
    ("authcli lab --write-policy - | sed 's/^accept_alg_none = true/accept_alg_none = false/; "
     "s/^adopt_client_id = true/adopt_client_id = false/' | authcli lab --fix - alg-none fixation kid-sql", 0),
    (f"authcli crack {HANDOUT_TOKEN}", 0),
    # tamper: the new token on stdout, what changed on stderr (2>&1 shows both, in that order);
    # then what decode says of a token edited with its old signature kept.
    (f"authcli tamper {HANDOUT_TOKEN} --set role=admin --del exp --alg none 2>&1", 0),
    (f"authcli tamper {HANDOUT_TOKEN} --set role=admin | authcli decode - --secret mySecretKey", 1),
    # An exercise solved by a script that does what a student types (docs/exercise-alg-none.sh).
    ("sh docs/exercise-alg-none.sh", 0),
]
# A screen of `--step` as a projector shows it: run in tmux at 80x24, Enter pressed at each
# pause; the transcript is the screen that paused on `SCREEN_OF`.
STEP_SCREEN = "authcli demo jwt --ttl 2 --step"
SCREEN_OF = "Step 4 · A tampered token"

HEADER = """# authcli examples

Real transcripts, produced by the tool itself: plain output as when piped (80 columns, no
colour, ASCII rules), and one `--step` screen as a real 80x24 terminal shows it.
Ports, session IDs, hashes and times differ on every run; `tests/test_examples.py` checks that
everything else is exactly what the tool prints today. Regenerate (and check) with
`AUTHCLI_WRITE_EXAMPLES=1 pytest -n0 tests/test_examples.py`.
"""


# Every run starts at this instant on authcli's clock (AUTHCLI_CLOCK_SHIFT, see
# authcli/clock.py), so dates, weekdays and "1 year ago" read the same on any day and in any
# zone; only the seconds a run takes differ. 2026-12-01T12:00:00Z.
PINNED = 1796126400


def pinned_env() -> dict[str, str]:
    """The environment of one transcript: plain output at 80 columns, authcli's clock at PINNED."""
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "TERM": "dumb",
            "AUTHCLI_CLOCK_SHIFT": f"{PINNED - time.time():.3f}",
            "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"}


def run(command: str, code: int, redis_url: str) -> str:
    # The Redis demo talks to the test suite's redis-server, found the way a user's would be.
    env = {**pinned_env(), "REDIS_URL": redis_url}
    # The lab's alg-confusion-no-key spends seconds in one gcd: more on a busy machine.
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env,
                         timeout=240 if command.startswith("authcli lab") else 120,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == code, out.stderr
    return "\n".join(line.rstrip() for line in out.stdout.splitlines())


def step_screen(tmux) -> str:
    screens = tmux(f"export AUTHCLI_CLOCK_SHIFT={pinned_env()['AUTHCLI_CLOCK_SHIFT']}; {STEP_SCREEN}", 80, 24)
    screen = next(s for s in screens if s.lstrip().startswith(SCREEN_OF))
    return "\n".join(line.rstrip() for line in screen.rstrip("\n").splitlines())


def document(transcripts: dict[str, str]) -> str:
    parts = [HEADER]
    for command, output in transcripts.items():
        if command == STEP_SCREEN:
            parts.append(f"## A `--step` screen at 80x24\n\nAfter `$ {command}` and Enter at each pause, "
                         f"the screen of step 4, as the terminal shows it:\n\n```console\n{output}\n```\n")
            continue
        title = command if len(command) < 60 else command.replace(HANDOUT_TOKEN, "<token>").replace(
            JWT_IO_SAMPLE, "<jwt.io sample>")
        parts.append(f"## `{title}`\n\n```console\n$ {command}\n{output}\n```\n")
    return "\n".join(parts)


# Transcripts whose long values wrap at 80 columns in the middle of a credential's short form
# (demo oauth's URLs carry several), where the rules below cannot read them: compared with their
# wrapped lines joined again.
JOINED = ("\n$ authcli demo oauth\n", "\n$ authcli demo oauth --browser\n")


def normalize(text: str) -> str:
    """Replace what differs between runs with stable names, keeping which-ID-is-which."""
    # Column widths follow the numbers measured: table rows compare without their padding.
    text = "\n".join(re.sub(r" {2,}", " ", line) if "|" in line else
                     re.sub(r"-+", "-", line) if re.fullmatch(r"[-+]+", line) else line
                     for line in text.splitlines())
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    # An exercise run's own: its flag, its id, the audience its tokens name.
    text = re.sub(r"authcli\{[\w-]+\}", "authcli{FLAG}", text)
    text = re.sub(r"(run |authcli-exercise-)[0-9a-f]{16}\b", r"\1RUN", text)
    text = re.sub(r"127\.0\.0\.1%3A\d+", "127.0.0.1%3APORT", text)  # demo oauth: iss in a query
    text = re.sub(r"localhost%3A\d+", "localhost%3APORT", text)  # demo oauth --browser: its redirect_uri
    if text.startswith(JOINED):  # its wrapped lines joined again (see JOINED)
        text = re.sub(r"\n  (?=[^\s|])", "", text)
    text = re.sub(r"localhost:\d+", "localhost:PORT", text)
    # HTTPS: the throwaway CA's private directory
    text = re.sub(r"authcli-tls-[\w-]+", "authcli-tls-DIR", text)
    text = re.sub(r"authcli-sqlite-[\w-]+", "authcli-sqlite-DIR", text)  # the throwaway database's folder
    text = re.sub(r"(?<=\})\|\d+(\.\d+)?", "|TTL", text)  # a SQLite row's time left, read as it counts down
    # The browser's build: Chromium 156.0.8078.108 at /usr/bin/chromium, HeadlessChrome/156.0.0.0
    text = re.sub(r"Chromium \d+(\.\d+)* \([^)]*\)", "Chromium VERSION (PATH)", text)
    text = re.sub(r"(HeadlessChrome|Chrome)/[\d.]+", r"\1/VERSION", text)
    text = re.sub(r'v="\d+"', 'v="N"', text)
    text = re.sub(r"python-requests/[\d.]+", "python-requests/VERSION", text)
    text = re.sub(r"curl/[\d.]+", "curl/VERSION", text)
    # demo scaling: the HAProxy installed, its private directory, how soon its check saw a server go
    text = re.sub(r"HAProxy \d+\.\d+(\.\d+)?", "HAProxy VERSION", text)
    text = re.sub(r"authcli-haproxy-\w+", "authcli-haproxy-DIR", text)
    text = re.sub(r"\b\d+ ms later\b", "N ms later", text)
    # The PHC string of an Argon2id hash: its parameters stay, its salt and hash vary.
    text = re.sub(r"(\$argon2id\$[\w$=,+/]+)\n +([\w+/]+)(?=\n)", r"\1\2", text)  # folded at 80 columns
    text = re.sub(r"\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[\w+/]+\$[\w+/]+",
                  r"$argon2id$v=\1$m=\2,t=\3,p=\4$SALT$HASH", text)
    # Each pattern below is one word, so a line that wraps cannot split it. Runs are pinned to
    # one instant (PINNED): a date varies only where it is not authcli's clock (a certificate,
    # Chromium's cookie expiry), and those are ISO words; times of day vary by the seconds taken.
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z", "TIME", text)
    text = re.sub(r"\b\d{2}:\d{2}:\d{2}\b", "HH:MM:SS", text)
    ids: dict[str, str] = {}
    text = re.sub(r"(?<![\w-])[A-Za-z0-9_-]{43}(?![\w-])",
                  lambda m: ids.setdefault(m.group(0), f"ID{len(ids) + 1}"), text)
    # A credential shortened the way every view shows it (`mnyTDc9IML...sdJU`, one word): the
    # same name as the whole one it stands for, or a name of its own, kept across the transcript.
    ends = {sid[:10] + sid[-4:]: name for sid, name in ids.items()}
    prefixes = {sid[:8]: name for sid, name in ids.items()}

    def short(m: re.Match[str]) -> str:
        name = ends.setdefault(m.group(1) + m.group(2), f"CRED{len(ends) + 1}")
        prefixes.setdefault(m.group(1)[:8], name)  # "abcdefgh... instead of ..." names it by 8
        return f"{name}..."

    text = re.sub(r"(?<![\w-])([A-Za-z0-9_-]{10})\.\.\.([A-Za-z0-9_.-]{4})(?![\w-])", short, text)
    text = re.sub(r"(?<![\w-])[A-Za-z0-9_-]{8}(?=\.\.\.)", lambda m: prefixes.get(m.group(0), m.group(0)), text)
    # JWTs made during a run (iat, exp, jti, signature) fold across lines: any long
    # base64url run left stands for "token bytes", and so does the short tail of a fold.
    lines, folded = [], False
    long_runs = r"[A-Za-z0-9_-]{20,}|(?<![\w-])[A-Za-z0-9_-]{12}(?=\.\.\.)"
    for line in re.sub(long_runs, "B64", text).splitlines():
        if folded:  # the tail of a fold starts the line or follows a table's column line
            line = re.sub(r"(^ *|\| *)[A-Za-z0-9_-]+", lambda m: m.group(1) + "B64", line)
        folded = bool(re.search(r"B64 *\|", line) or line.endswith("B64"))
        lines.append(line)
    text = "\n".join(lines)
    # A fold can also leave a few characters of a token part next to its dot.
    text = re.sub(r"B64\.[A-Za-z0-9_-]+", "B64.B64", text)
    text = re.sub(r"(?<![\w-])[A-Za-z0-9_-]+\.B64", "B64.B64", text)
    text = re.sub(r"\b1[0-9]{9}\b", "NUMERICDATE", text)
    text = re.sub(r"(in )?\b(\d+|under a) (second|minute|hour|day|year)s?( ago)?", "RELATIVE", text)
    text = re.sub(r"\(integer\) \d{2,}", "(integer) PTTL", text)
    text = re.sub(r"\d+\.\d µs", "N µs", text)  # check costs measured on the spot
    text = re.sub(r"in \d+\.\d ms", "in N ms", text)  # crack: guessing measured on the spot
    text = re.sub(r"\(expires in \d+ s\)", "(expires in N s)", text)  # a store's TTL, read as it counts down
    text = re.sub(r"fam-[\w-]{12}", "fam-ID", text)  # demo refresh: a login's family
    # demo refresh: a denylist entry lives until its 2 s token's exp, so whether an earlier one is
    # still in the store when a later step shows it depends on the run's timing.
    text = re.sub(r"plus \d+ unchanged", "plus N unchanged", text)
    # demo refresh measures the denylist on the spot; whether a memory lookup stands out from
    # the noise differs run to run, and so does the sentence saying so.
    text = re.sub(r"Measured here,.*?revocation possible\.", "MEASURED.", text, flags=re.S)
    text = re.sub(r"\(\d+\.\d-\d+\.\d\)", "(RANGE)", text)  # demo refresh: rounds measured on the spot
    text = re.sub(r"\b\d+\.\d s\b", "N.N s", text)  # --idle: when each request really went out
    text = re.sub(r"\bk=\d+", "k=K", text)  # lab alg-confusion-no-key: the gcd is k times n, k small
    text = re.sub(r"about [\d,]+ (HS\d+) guesses a second", r"about N \1 guesses a second", text)
    # http.cookiejar orders cookies differently across Python versions.
    text = re.sub(r"(?<!Set-)Cookie: ([^\s│]+(?:; [^\s│]+)+)",
                  lambda m: "Cookie: " + "; ".join(sorted(m.group(1).split("; "))), text)
    # --idle's busy client sends as many requests as fit before its absolute limit: how many
    # depends on the machine, so a run of identical request rows stands as one.
    out: list[str] = []
    for line in (line.rstrip() for line in text.splitlines()):
        if not (out and line == out[-1] and line.lstrip().startswith("N.N s |")):
            out.append(line)
    return "\n".join(out)


def needs_redis(command: str) -> bool:
    return "--store redis" in command or "demo scaling" in command


def needs_haproxy(command: str) -> bool:
    return "demo scaling" in command


def needs_browser(command: str) -> bool:
    return "demo browser" in command or "--browser" in command or command == "authcli lab --summary"


NEXT_SECTION = re.compile(r"\n```\n+## (`|A `--step` screen)")


def section(document_text: str, command: str) -> str:
    """One transcript, whole: up to the next section's heading (a Markdown handout's own fences
    and headings are part of it), or the end."""
    start = document_text.index(f"\n$ {command}\n" if command != STEP_SCREEN else f"`$ {command}`")
    end = NEXT_SECTION.search(document_text, start)
    return document_text[start:end.start() if end else len(document_text)]


def _requirements(request, command: str) -> str:
    """The Redis URL a transcript runs with (a database of its own, emptied), after skipping, or
    failing under AUTHCLI_REQUIRE_*, a transcript whose component is missing."""
    import shutil

    if needs_browser(command) and (missing := browser_missing()):
        if os.environ.get("AUTHCLI_REQUIRE_BROWSER"):
            pytest.fail("AUTHCLI_REQUIRE_BROWSER is set but: " + missing)
        pytest.skip("the browser transcript was not checked: " + missing)
    if needs_haproxy(command) and shutil.which("haproxy") is None:
        if os.environ.get("AUTHCLI_REQUIRE_HAPROXY"):
            pytest.fail("AUTHCLI_REQUIRE_HAPROXY is set but " + HAPROXY_HINT)
        pytest.skip("the scaling transcript was not checked: " + HAPROXY_HINT)
    if not needs_redis(command):
        return ""
    import redis

    # A database per Redis transcript (Redis has 16), numbered among those that need one, so no
    # transcript shows another's keys.
    base = request.getfixturevalue("redis_url")  # skips, or fails under AUTHCLI_REQUIRE_REDIS
    url = f"{base.rsplit('/', 1)[0]}/{1 + [c for c, _ in COMMANDS if needs_redis(c)].index(command)}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def _id(command: str) -> str:
    return command.replace(HANDOUT_TOKEN, "<token>").replace(JWT_IO_SAMPLE, "<jwt.io sample>")[:70]


if os.environ.get("AUTHCLI_WRITE_EXAMPLES"):  # collected only when asked to regenerate; runs first
    # (with -n0), so the checks below then read what it wrote
    def test_write_examples_md(request, tmux):
        """Every transcript run again, side by side, and examples.md rewritten from them."""
        from concurrent.futures import ThreadPoolExecutor

        assert not browser_missing(), "regenerating examples.md needs Chromium"
        urls = {c: _requirements(request, c) for c, _ in COMMANDS}
        with ThreadPoolExecutor(max_workers=4) as pool:
            screen = pool.submit(step_screen, tmux)
            outputs = list(pool.map(lambda c: run(c[0], c[1], urls[c[0]]), COMMANDS))
        EXAMPLES.write_text(document({**{c: out for (c, _), out in zip(COMMANDS, outputs)},
                                      STEP_SCREEN: screen.result()}))


# One test per transcript: the commands mostly wait out 1-3 s lifetimes, so pytest-xdist runs
# them beside the rest of the suite.
@pytest.mark.parametrize("command,code", COMMANDS, ids=[_id(c) for c, _ in COMMANDS])
def test_each_transcript_is_what_the_tool_prints(request, command, code):
    out = run(command, code, _requirements(request, command))
    assert "markdown" in command or not MARKER.search(out), command  # a source marker is shown, never left raw
    assert normalize(section(EXAMPLES.read_text(), command)) == normalize(f"\n$ {command}\n{out}")


def test_the_step_screen_is_what_a_terminal_shows(tmux):
    assert normalize(section(EXAMPLES.read_text(), STEP_SCREEN)) == \
        normalize(section(document({STEP_SCREEN: step_screen(tmux)}), STEP_SCREEN))


def test_every_command_has_its_section_in_order():
    """Everything outside the transcripts (the header, the headings, their order) as written:
    each transcript is compared on its own above."""
    current = EXAMPLES.read_text()
    assert _frame(current) == _frame(document({**{c: "" for c, _ in COMMANDS}, STEP_SCREEN: ""}))


def _frame(text: str) -> str:
    return "\n".join(re.findall(r"^## (?:`|A `--step` screen).*$", text, flags=re.M)) + text[:text.index("\n## ")]


def test_normalize_keeps_id_identity():
    a, b = "A" * 43, "B" * 43
    assert normalize(f"{a} {b} {a} AAAAAAAA...") == "ID1 ID2 ID1 ID1..."
    # the short form names the same credential, and two short ones stay apart
    c = "C" * 10 + "x" * 29 + "DDDD"
    assert normalize(f"{a} AAAAAAAAAA...AAAA (43 chars) {c[:10]}...{c[-4:]} {c[:10]}...{c[-4:]}") == \
        "ID1 ID1... (43 chars) CRED2... CRED2..."
