"""The commands as a user runs them: help, version, formats, errors, and `serve` in a real process."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests
from typer.testing import CliRunner

from authcli import __version__
from authcli.cli.app import app
from conftest import CREDS, ServeProcess

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"authcli {__version__}"


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "authcli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"authcli {__version__}"


def test_root_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "serve", "--version"):
        assert name in result.stdout


def leaf_commands(group=None, path=()) -> list[tuple[str, ...]]:
    """Every runnable command, read from the app itself: a new command is checked too."""
    import typer.main

    group = group or typer.main.get_command(app)
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += leaf_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_the_command_list_is_complete():
    assert {" ".join(c) for c in leaf_commands()} >= {"demo session", "demo jwt", "demo scaling", "serve",
                                                      "decode", "bench"}


@pytest.mark.parametrize("command", leaf_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: authcli " + " ".join(command) in result.stdout


@pytest.mark.parametrize("args, says", [
    (["demo", "session", "--ttl", "0"], "error: invalid value for '--ttl'"),
    (["demo", "session", "--format", "pdf"], "error: invalid value for '--format'"),
    (["demo", "nope"], "error: no such command 'nope'"),
    (["serve", "--mode", "kerberos"], "error: invalid value for '--mode'"),
    (["demo", "jwt", "--alg", "none"], "error: invalid value for '--alg'"),
    (["decode"], "error: missing argument 'TOKEN'"),
    (["lab", "--bogus"], "error: no such option: --bogus"),
    (["serve", "--store", "bogus"], "error: invalid value for '--store'"),
])
def test_usage_errors_are_one_error_line_and_where_the_help_is(args, says):
    """click's usage errors in authcli's own style: `error: ...` (no `Usage:` block, no
    `Error:`), then the help command for the command that was typed."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output and result.stdout == ""
    first, hint = result.stderr.splitlines()
    assert first.startswith(says), result.stderr
    command = " ".join(a for a in args[:2] if not a.startswith("-") and a not in ("nope", "0"))
    assert hint == f"(authcli {command} --help)"


def test_a_usage_error_from_the_installed_command_is_the_same(tmp_path):
    out = subprocess.run([sys.executable, "-m", "authcli", "demo", "jwt", "--ttl", "x"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and out.stdout == ""
    first, hint = out.stderr.splitlines()
    assert first.startswith("error: invalid value for '--ttl': 'x' is not a valid int")
    assert hint == "(python -m authcli demo jwt --help)"  # click names the program as it was run


@pytest.mark.parametrize("command", [(), ("demo",), *leaf_commands()], ids=lambda c: " ".join(c) or "authcli")
def test_dash_h_is_help_everywhere(command):
    short = runner.invoke(app, [*command, "-h"], env={"COLUMNS": "200"})
    long = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert short.exit_code == 0 and short.stdout == long.stdout and "-h, --help" in short.stdout


@pytest.mark.parametrize("args, says", [
    (["demo", "jwt", "--alg", "RS256", "--secret", "x"], "error: --secret is for HMAC (--alg HS256)"),
    (["serve", "--secret", "x"], "error: --alg, --secret and --key belong to --mode jwt"),
    (["demo", "session", "--redis-url", "redis://127.0.0.1:6379/0"], "error: --redis-url goes with --store redis"),
    (["demo", "session", "--store", "redis", "--redis-url", "garbage://x"], "error: unusable Redis URL 'garbage://x'"),
    (["serve", "--store", "redis", "--redis-url", "redis://127.0.0.1:abc/0"],
     "error: unusable Redis URL 'redis://127.0.0.1:abc/0': Port could not be cast"),
    (["demo", "scaling", "--rounds", "3", "--redis-url", "redis://[::1"], "error: unusable Redis URL"),
    (["bench", "--quick", "--redis-url", "redis://127.0.0.1:99999/0"], "error: unusable Redis URL"),
    (["demo", "session", "--store", "memory:/tmp/x.db"], "error: --store memory takes no :PATH"),
    (["demo", "session", "--store", "sqlite:"], "error: --store sqlite: takes a file path after the colon"),
    (["serve", "--store", "sqlite:/nonexistent-authcli/x.db"], "error: cannot keep sessions in /nonexistent-authcli/x.db"),
])
def test_authcli_errors_are_one_line_exit_2(args, says):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(says) and result.stderr.count("\n") == 1, result.stderr


def test_demo_session_json(tmp_path):
    result = runner.invoke(app, ["demo", "session", "--ttl", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["walkthrough"] == "session"
    with_http = [s for s in doc["steps"] if "request" in s]
    assert [s["response"]["status"] for s in with_http] == [401, 200, 200, 401, 401, 200, 200, 401, 200, 401]
    for step in with_http:
        assert {"method", "url", "headers", "body"} <= step["request"].keys()
        assert {"status", "headers", "body"} <= step["response"].keys()
        assert "store" in step and step["title"]
        assert step["request"]["url"].startswith("http://127.0.0.1:")


def test_demo_session_markdown_and_step_mode_never_blocks_a_pipe():
    result = runner.invoke(app, ["demo", "session", "--ttl", "1", "--format", "markdown", "--step"])
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith("# authcli demo session")
    assert "## Step 2. Log in with the right password" in md
    assert "```http\nPOST /login HTTP/1.1  (+6 more headers)\n" in md  # folded in a handout too
    assert re.search(r"Set-Cookie: sessionId=[\w-]{43}; Path=/; HttpOnly; SameSite=Lax", md)
    assert "| key | value | time to live |" in md


def test_serve_logs_each_request_and_stops_cleanly_on_ctrl_c():
    with ServeProcess("--port", "0", "--ttl", "60") as serve:
        url = serve.url()
        serve.line()  # the demo-user line
        http = requests.Session()
        assert http.post(url + "/login", json=CREDS).status_code == 200
        assert http.get(url + "/profile").status_code == 200
        assert requests.get(url + "/profile").status_code == 401
        lines = [serve.line() for _ in range(3)]
        assert "POST /login 200" in lines[0] and "[store: 1 session]" in lines[0]
        assert "GET /profile 200" in lines[1] and "sessionStore[" in lines[1]
        assert "GET /profile 401" in lines[2] and "no sessionId cookie" in lines[2]
        assert serve.stop(signal.SIGINT) == 0
    assert "stopped" in serve.out and serve.err == ""


def test_serve_on_a_busy_port_is_one_clear_line():
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: cannot listen on 127.0.0.1:{port}: the port is in use"


def test_demo_jwt_json():
    result = runner.invoke(app, ["demo", "jwt", "--ttl", "1", "--format", "json", "--alg", "EdDSA"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["walkthrough"] == "jwt"
    with_http = [s for s in doc["steps"] if "request" in s]
    assert [s["response"]["status"] for s in with_http] == [200, 200, 200, 401, 401, 200, 200, 401]
    login = with_http[1]
    assert login["token"]["header"]["alg"] == "EdDSA" and login["token"]["signature_bytes"] == 64
    # The tampered token: its signature fails, so its claims are not vouched for (SKIP, not PASS).
    assert [c["ok"] for c in with_http[3]["checks"]] == [True, False, None, None]


def test_serve_jwt_mode():
    with ServeProcess("--mode", "jwt", "--port", "0", "--secret", "mySecretKey") as serve:
        banner = serve.line()
        assert "WEAK secret" in banner
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        serve.line()  # the demo user
        assert serve.line() == "HS256 secret (the secret you gave): mySecretKey\n"
        assert 'authcli decode "$TOKEN" --secret mySecretKey' in serve.line()
        token = requests.post(url + "/login", json=CREDS).json()["token"]
        assert requests.get(url + "/profile", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        lines = [serve.line() for _ in range(2)]
        assert "POST /login 200 [stateless]" in lines[0] and "GET /profile 200 [stateless]" in lines[1]
        assert serve.stop(signal.SIGTERM) == 0
    assert serve.err == ""


def test_a_classroom_server_says_it_is_public_and_where_students_go():
    from rich.console import Console

    from authcli.cli.serve_hints import reachable
    from authcli.render.serve import classroom_warning

    assert reachable("192.0.2.7", 8000) == ["http://192.0.2.7:8000/"]
    assert all(not url.startswith("http://127.") for url in reachable("0.0.0.0", 8000))
    console = Console(record=True, width=100)
    console.print(classroom_warning("0.0.0.0", "a@b.com", "123", ["http://192.0.2.7:8000/"]))
    text = console.export_text()
    assert "TEACHING SERVER" in text and "a@b.com / 123 is public" in text and "http://192.0.2.7:8000/" in text


def test_demo_html_is_one_self_contained_page():
    result = runner.invoke(app, ["demo", "jwt", "--ttl", "1", "--format", "html"])
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>authcli demo jwt:" in page and "<script" not in page
    # Nothing is fetched when it is opened: no src, no stylesheet link; the only links leaving
    # the page are the sources a reader may follow, each from the registry and listed at the
    # end; the others are footnote numbers pointing at that list.
    assert not re.search(r"src=|<link", page)
    from authcli.sources import SOURCES

    urls = {s.url for s in SOURCES.values()}
    links = re.findall(r"<a href=\"([^\"]+)\"", page)
    external = [url for url in links if not url.startswith("#")]
    assert external and all(html.unescape(url) in urls for url in external)
    ids = set(re.findall(r' id="([^"]+)"', page))
    assert all(url[1:] in ids for url in links if url.startswith("#"))
    assert page.index("<h2>Sources</h2>") > page.index("<figcaption>The traffic of this run, in order</figcaption>")
    assert "<h2>Step 3. GET /profile with Authorization: Bearer</h2>" in page and "<svg" in page


def test_demo_compare_fills_the_handouts_table_from_both_runs():
    result = runner.invoke(app, ["demo", "compare", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {r[0]: r[1:] for r in doc["steps"][-1]["tables"][0]["rows"]}
    assert list(rows) == ["Data stored in", "Auth sent via", "Server checks", "Scaling", "Logout"]
    assert "Cookie, added by the jar: 61 bytes" in rows["Auth sent via"][0]
    assert re.search(r"Bearer, added by the client: \d{3} bytes", rows["Auth sent via"][1])
    assert re.search(r"an in-memory lookup, [\d.]+ µs here \(a shared store adds a network round trip\)",
                     rows["Server checks"][0])
    assert "(401, step 12" in rows["Scaling"][0] and "accepted the token (200)" in rows["Scaling"][1]
    assert "old cookie got 401" in rows["Logout"][0] and "old token still got 200" in rows["Logout"][1]
    restart = next(s for s in doc["steps"] if s["title"].startswith("JWT: log in on one server"))
    assert restart["response"]["status"] == 200


def test_piped_output_has_no_colour_and_no_padding():
    token = subprocess.run([sys.executable, "-m", "authcli", "sign", "--sub", "1", "--exp", "5m", "--secret", "k" * 32],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    out = subprocess.run([sys.executable, "-m", "authcli", "decode", token, "--secret", "k" * 32],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "COLUMNS": "100"}).stdout
    assert "VERIFIED" in out and "\x1b[" not in out
    assert [line for line in out.splitlines() if line != line.rstrip()] == []


def test_serve_open_hands_the_page_to_the_default_browser(tmp_path, monkeypatch):
    # webbrowser runs $BROWSER with the URL: here a script that writes it down.
    opened = tmp_path / "opened"
    script = tmp_path / "browser.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{script} %s")
    with ServeProcess("--port", "0", "--open") as serve:
        url = re.search(r"http://127\.0\.0\.1:\d+", serve.line()).group(0)
        lines = [serve.line() for _ in range(2)]
        assert f"Opened {url}/ in your browser." in "".join(lines)
        assert opened.read_text().strip() == f"{url}/"
        assert serve.stop(signal.SIGTERM) == 0
