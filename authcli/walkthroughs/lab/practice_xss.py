"""no-httponly's exercise victim: user 1, logged in on each server in a real Chromium (Debian's,
driven by Playwright, as the lab's own attack is), whose page runs the script the student sends
to /victim, as a stored XSS bug would make it run. The exercise never reads what the script
found: the script has to send it somewhere (the weak server's /collect) for the student to read.

The hardened server's user 1 runs the same script in the same way, so the replay shows what it
could collect there (an HttpOnly cookie is not in document.cookie).

login-csrf uses the same user 1: their Chromium opens the student's page at ATTACKER (another
site, answered by Playwright, so no DNS and no second server), on each server in turn.
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
ATTACKER = "http://attacker.example/"  # where user 1 opens login-csrf's page (Playwright serves it)
PROFILE = """async () => {
  const r = await fetch("/profile");
  return `${r.status} ${(await r.text()).trim()}`.slice(0, 160);
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

    def opens(self, page: str) -> tuple[Any, str]:
        """login-csrf: user 1's browser opens `page` at ATTACKER (another site), on each server (the
        hardened one's copy names the hardened server's URL where yours names this one's), then
        shows their /profile. The weak server's login record that did it, if user 1 now is eve."""
        found, said = None, ""
        for server, tab in zip(self.servers, self.tabs):
            mark = server.mark()
            html = page.replace(self.servers[0].url, server.url)
            tab.route(ATTACKER + "**", _serving(html))
            try:
                tab.goto(ATTACKER)
                tab.wait_for_timeout(SETTLE_MS)  # the page's own script submits its form
                tab.goto(f"{server.url}/")
                who = tab.evaluate(PROFILE)
            except self.browser._error as err:
                who = "the page did not load: " + (str(err).splitlines() or ["error"])[0][:120]
            finally:
                tab.unroute(ATTACKER + "**")
            if server is self.servers[0]:
                held = {c["value"] for c in tab.context.cookies(server.url) if c["name"] == "sessionId"}
                found, said = _cross_site_login(server.records_since(mark), held), who
        verdict = f"user 1 opened your page; their /profile now says: {said}"
        return found, verdict

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


def _cross_site_login(records: list, held: set[str]) -> Any:
    """The login, sent from another site's page, that made eve's session: the one whose ID user 1's
    browser now holds (a login sent by anyone else leaves user 1's cookie as it was)."""
    from authcli.events import SessionCreated
    from authcli.passwords import ATTACKER_USER_ID

    for record in records:
        origin = ",".join(record.request.header_values("Origin"))
        if (record.request.path == "/login" and origin == ATTACKER.rstrip("/") and any(
                isinstance(e, SessionCreated) and e.record.get("userId") == ATTACKER_USER_ID
                and e.session_id in held for e in record.events)):
            return record
    return None


def _serving(html: str):
    """A Playwright route handler that answers with `html`, as the attacker's site would."""
    def handler(route) -> None:
        route.fulfill(status=200, body=html, headers={"Content-Type": "text/html; charset=utf-8"})
    return handler
