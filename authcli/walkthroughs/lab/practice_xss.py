"""no-httponly's exercise victim: user 1, logged in on each server in a real Chromium (Debian's,
driven by Playwright, as the lab's own attack is), whose page runs the script the student sends
to /victim, as a stored XSS bug would make it run. The exercise never reads what the script
found: the script has to send it somewhere (the weak server's /collect) for the student to read.

The hardened server's user 1 runs the same script in the same way, so the replay shows what it
could collect there (an HttpOnly cookie is not in document.cookie).
"""

from __future__ import annotations

from typing import Any

from authcli.client import ScriptedClient
from authcli.passwords import DEMO_EMAIL

RUN_MS = 2000  # a script still running after this is stopped (CDP's Runtime.evaluate timeout)
SETTLE_MS = 1000  # then what it started (a fetch) has this long to finish
LOGIN = """async ([email, password]) => {
  const r = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"},
                                   body: JSON.stringify({email, password})});
  return r.status;
}"""
class XssVictim:
    """User 1 in Chromium, logged in on both servers (one profile each). A context manager."""

    def __init__(self, servers: tuple[Any, Any], password: str):
        from authcli.browser import Browser

        self.servers = servers
        self.browser = Browser(servers[0])  # BrowserMissing, in one line, when there is none
        self.tabs = []
        try:
            for server in servers:
                context = self.browser.context if not self.tabs else self.browser.context.browser.new_context()
                tab = context.pages[0] if context.pages else context.new_page()
                tab.goto(f"{server.url}/")
                status = tab.evaluate(LOGIN, [DEMO_EMAIL, password])
                if status != 200:
                    from authcli.errors import WalkthroughError

                    raise WalkthroughError(f"user 1 could not log in in Chromium ({status})")
                self.tabs.append(tab)
        except BaseException:
            self.browser.close()
            raise

    def __enter__(self) -> XssVictim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.browser.close()

    def runs(self, code: str) -> str:
        """User 1's page runs `code` on each server; what the student is told (never its result)."""
        said = []
        for tab in self.tabs:
            said.append(_run(tab, code))
        return (f"your script in user 1's page: {said[0]}. What it sent is in /collect, if anything; its "
                "requests are user 1's browser's own, never counted")

    def hard_collect(self):
        """What the hardened server's /collect holds: what the same script found there."""
        client = ScriptedClient(self.servers[1])
        try:
            return client.send("GET", "/collect")
        finally:
            client.close()


def _run(tab: Any, code: str) -> str:
    """`code` run in the page as the console runs it (page script, the page's origin and cookies),
    stopped after RUN_MS; then SETTLE_MS for the requests it started. What happened, in a word."""
    session = tab.context.new_cdp_session(tab)
    try:
        answer = session.send("Runtime.evaluate", {"expression": code, "timeout": RUN_MS, "replMode": True})
    except Exception as err:  # Playwright's Error: the page or the protocol refused it
        return f"it was stopped (more than {RUN_MS // 1000} s) or refused: " + (str(err).splitlines() or ["error"])[0][:120]
    finally:
        session.detach()
    tab.wait_for_timeout(SETTLE_MS)
    thrown = answer.get("exceptionDetails")
    if thrown:
        return "it threw " + str((thrown.get("exception") or {}).get("description") or thrown.get("text", ""))[:120].splitlines()[0]
    return "it ran"
