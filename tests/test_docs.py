"""Docs as tests: every command line the README and each --help show must work.

`authcli ...` lines are parsed by the real command tree (options, types, ranges, choices) with
the commands themselves replaced by a recorder, so a renamed or mistyped option fails here
without running a 15 s benchmark. The curl sessions are run for real against `authcli serve`.
"""

from __future__ import annotations

import os
import sys
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import typer.main

from authcli.cli.app import app
from conftest import ServeProcess

README = Path(__file__).resolve().parent.parent / "README.md"


def code_lines(text: str) -> list[str]:
    """The README's indented code lines, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        if not raw.startswith("    ") and not current:
            continue
        line = raw.strip()
        current = f"{current} {line}" if current else line
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        lines.append(re.sub(r"\s+#\s.*$", "", current))
        current = ""
    return [line for line in lines if line]


def authcli_invocations(line: str) -> list[list[str]]:
    """Each `authcli ...` in a shell line, as argv after `authcli` (pipes and redirects cut)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # not shell at all (the architecture diagram)
        return []
    found, current = [], []
    for word in [*words, ";"]:
        if word and set(word) <= set("|&;<>()"):
            if current[:1] == ["authcli"]:
                found.append(current[1:])
            current = [] if word not in (">", "<") else ["redirected"]
        elif current[:1] != ["redirected"]:
            current.append(word)
    return found


def help_examples() -> list[list[str]]:
    from typer.testing import CliRunner

    runner = CliRunner()
    found = []

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group (typer ships its own copy of click)
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        text = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "300"}).stdout
        for match in re.finditer(r"Example: (authcli [^\n]+)", text):
            found.extend(authcli_invocations(match.group(1).split(",")[0]))

    walk(typer.main.get_command(app), [])
    return found


README_COMMANDS = [args for line in code_lines(README.read_text()) for args in authcli_invocations(line)]


def parse_only(args: list[str]) -> dict:
    """Run click's whole parse of `authcli ARGS`, with the leaf commands replaced by a recorder."""
    root = typer.main.get_command(app)
    calls: list[dict] = []

    def patch(command) -> None:
        if hasattr(command, "commands"):
            for sub in command.commands.values():
                patch(sub)
        else:
            command.callback = lambda **kwargs: calls.append(kwargs)

    patch(root)
    root.main(args, prog_name="authcli", standalone_mode=False)
    assert len(calls) == 1, f"authcli {' '.join(args)} ran no command"
    return calls[0]


def test_the_readme_shows_commands():
    assert ["demo", "session"] in README_COMMANDS and len(README_COMMANDS) > 10


@pytest.mark.parametrize("args", README_COMMANDS + help_examples(), ids=" ".join)
def test_documented_command_lines_parse(args):
    parse_only(args)


def curl_block(after: str) -> str:
    """The shell lines of the README code block that follows the paragraph containing `after`."""
    text = README.read_text()
    start = text.index(after)
    block = re.search(r"\n\n((?:    .*\n)+)", text[start:]).group(1)
    return "\n".join(line[4:] for line in block.splitlines())


def run_block(script: str, port: int, cwd: Path) -> str:
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                         timeout=30, env={**os.environ, "NO_COLOR": "1",
                                          # the README's `authcli` lines: this interpreter's, activated or not
                                          "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_readme_session_curl_session(curl, tmp_path):
    script = curl_block("with curl keeping cookies in a file called `jar`")
    expected = [int(n) for n in re.findall(r"# (?:\D*?)(\d{3})", script)]
    with ServeProcess("--port", "0") as serve:
        port = int(serve.url().rsplit(":", 1)[1])
        out = run_block(script, port, tmp_path)
    statuses = [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", out, re.MULTILINE)]
    assert statuses == [200, 200, 401, 200, 401] and statuses[1:3] + statuses[4:] == expected
    assert "Welcome user 1" in out
    assert "sessionId" not in (tmp_path / "jar").read_text()  # logout cleared the cookie in the jar


def test_readme_jwt_curl_session(curl, tmp_path):
    script = curl_block("The banner says how to verify the server's tokens yourself")
    script = "\n".join(line for line in script.splitlines() if not line.startswith("authcli serve"))
    with ServeProcess("--mode", "jwt", "--port", "0") as serve:
        port = int(serve.url().rsplit(":", 1)[1])
        out = run_block(script, port, tmp_path)
    assert "HTTP/1.1 200" in out and "Welcome user 1\n" in out and "UNVERIFIED" in out


def test_readme_oauth_curl_and_authlib_client(curl, tmp_path):
    """The README's curl lines register a client; its Authlib client completes the flow with it."""
    import json
    import sys

    import requests

    script = curl_block("discovery document and a client of your own")
    with ServeProcess("--mode", "oauth", "--port", "0") as serve:
        port = int(serve.url().rsplit(":", 1)[1])
        out = run_block(script, port, tmp_path)
        first, _, second = out.partition("}\n{")
        assert json.loads(first + "}")["issuer"] == f"http://127.0.0.1:{port}"
        creds = json.loads("{" + second)
        client = curl_block("log in as a@b.com / 123").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        client = client.replace("CLIENT_ID", creds["client_id"]).replace("CLIENT_SECRET", creds["client_secret"])
        assert len(client.splitlines()) == 8  # two imports, six lines
        proc = subprocess.Popen([sys.executable, "-c", client], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            url = proc.stdout.readline().split("Log in at: ", 1)[1].strip()
            page = requests.get(url, timeout=5)
            fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
            import html

            fields = {k: html.unescape(v) for k, v in fields.items() if k != "decision"}
            answer = requests.post(url.split("?")[0], data={**fields, "email": "a@b.com", "password": "123",
                                                            "decision": "allow"}, allow_redirects=False, timeout=10)
            done, err = proc.communicate(answer.headers["Location"] + "\n", timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err
        assert "'email': 'a@b.com'" in done and "'sub': '1'" in done
