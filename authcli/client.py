"""The scripted client: real `requests` traffic, paired with what the server received and did."""

from __future__ import annotations

from http.cookiejar import Cookie
from typing import Any

import requests

from authcli.errors import WalkthroughError
from authcli.http import CookieView, Exchange, HttpRequest, HttpResponse
from authcli.server.journal import Recorder

TIMEOUT = 10


def _attr(cookie: Cookie, name: str) -> str | None:
    """A non-standard attribute (HttpOnly, SameSite) through http.cookiejar's public API, which
    keeps names as the server spelt them: the usual spelling first, then lower case."""
    for spelling in (name, name.lower()):
        if cookie.has_nonstandard_attr(spelling):
            return cookie.get_nonstandard_attr(spelling) or ""
    return None


class ScriptedClient:
    """A browser stand-in: one `requests.Session`, whose cookie jar works like a browser's."""

    def __init__(self, server: Recorder, *, ca: str | None = None, jar_of: ScriptedClient | None = None):
        """`server`: where requests go and how the server's record of each is found (an
        AuthServer, or servers behind HAProxy). `ca`: over HTTPS, the CA file the server is verified against (never unverified).
        `jar_of`: share another client's cookie jar (the same browser, another server)."""
        self.server = server
        self.ca = ca
        self.browser = jar_of.browser if jar_of is not None else requests.Session()
        self._owns = jar_of is None

    def close(self) -> None:
        if self._owns:
            self.browser.close()

    def send(self, method: str, path: str, *, json: Any = None, data: bytes | None = None,
             headers: dict[str, str] | None = None, fresh: bool = False) -> Exchange:
        """Send one request (a JSON body, or raw `data`); `fresh` sends it from a new client with
        an empty jar (an attacker)."""
        ticket = self.server.ticket()
        headers = {**ticket.headers, **(headers or {})} if ticket.headers else headers
        http = requests.Session() if fresh else self.browser
        try:
            # verify per request: a session-wide verify loses to $REQUESTS_CA_BUNDLE in requests.
            resp = http.request(method, self.server.url + path, json=json, data=data, headers=headers,
                                timeout=TIMEOUT, allow_redirects=False, verify=self.ca or True, stream=True)
            local = _local_address(resp)
            resp.content  # noqa: B018 (read the body now: the connection goes back to the pool)
        except requests.RequestException as err:
            raise WalkthroughError(f"{method} {path} failed: {err}") from None
        finally:
            if fresh:
                http.close()
        records = self.server.recorded(ticket)
        if len(records) > 1 and local is not None:  # another client (a browser the run drives) spoke
            records = [r for r in records if r.request.peer == local] or records  # meanwhile: ours by address
        if len(records) != 1:
            raise WalkthroughError(f"expected the server to record one request, found {len(records)}")
        received = records[0].request
        request = HttpRequest(received.method, self.server.url + received.target, received.target,
                              received.http_version, received.headers,
                              received.body.decode("utf-8", "replace"), self.ca)
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(resp.raw.version, "HTTP/1.1")
        response = HttpResponse(resp.status_code, resp.reason, version,
                                list(resp.raw.headers.items()), resp.text)
        return Exchange(request, response, list(records[0].events))

    def jar(self) -> list[CookieView]:
        views = []
        for c in self.browser.cookies:
            views.append(CookieView(c.name, c.value or "", c.domain, c.path, bool(c.secure),
                                    _attr(c, "HttpOnly") is not None, _attr(c, "SameSite") or None,
                                    c.expires))
        return views


def _local_address(resp: requests.Response) -> tuple[str, int] | None:
    """The client end of the connection a streamed response came on: the server's journal
    records each request with that peer address (None where urllib3 does not say)."""
    try:
        return resp.raw._connection.sock.getsockname()[:2]
    except (AttributeError, OSError, TypeError):
        return None
