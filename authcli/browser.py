"""The browser as a client: a real headless Chromium, driven with Playwright, each request it
sends paired with what the server received and did.

The scripted client (authcli.client) is a stand-in for a browser; this is the browser itself:
its own cookie store with the flags it applied, its localStorage, what page script can see, and
the headers it adds by itself. Playwright is an optional extra (`pip install 'authcli[browser]'`)
and is pointed at the system's Chromium, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from authcli.errors import BrowserMissing, WalkthroughError
from authcli.http import CookieView, Exchange, HttpRequest, HttpResponse
from authcli.server.transport.httpd import AuthServer

HINT = ("demo browser drives a real Chromium: pip install 'authcli[browser]' (in a clone of authcli: "
        "pip install '.[browser]') and install Chromium "
        "(Debian and Ubuntu: apt-get install chromium), or set AUTHCLI_CHROMIUM to its path")
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TARGETS = ("/login", "/profile", "/logout")
TIMEOUT = 10.0


def spki_pin(cert_file) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate: how Chromium is told to trust
    one key (a CA it has never seen would need a whole NSS database)."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def find_chromium() -> str | None:
    """$AUTHCLI_CHROMIUM, else the first Chromium on PATH."""
    named = os.environ.get("AUTHCLI_CHROMIUM")
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else None
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def cookie_view(cookie: dict[str, Any]) -> CookieView:
    """A cookie as Chromium's store keeps it (expires -1: until the browser closes)."""
    expires = cookie.get("expires", -1)
    return CookieView(cookie["name"], cookie["value"], cookie["domain"], cookie["path"],
                      bool(cookie.get("secure")), bool(cookie.get("httpOnly")),
                      cookie.get("sameSite") or None, None if expires is None or expires < 0 else int(expires))


def check() -> str:
    """The Chromium to drive, or BrowserMissing saying in one line what to install."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise BrowserMissing(HINT) from None
    executable = find_chromium()
    if executable is None:
        raise BrowserMissing(HINT)
    return executable


class Browser:
    """One headless Chromium with one profile (a context): tabs share its cookies, as a
    person's browser does. A context manager; closing it ends the browser process."""

    def __init__(self, server: AuthServer, tls=None):
        """`tls`: the demo's TlsFiles. Chromium then trusts exactly the server certificate's key
        (its SPKI pin): no other certificate error is ignored."""
        self.server = server
        executable = check()
        from playwright.sync_api import Error, sync_playwright

        self._error = Error
        self._playwright = sync_playwright().start()
        try:
            # --no-sandbox: Chromium's sandbox needs user namespaces, which containers and CI
            # runners (often root) lack; this browser only ever opens the local demo server.
            self._chromium = self._playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox", *([f"--ignore-certificate-errors-spki-list={spki_pin(tls.cert)}"]
                                                                   if tls is not None else [])])
        except Error as err:
            self._playwright.stop()
            raise BrowserMissing(f"Chromium at {executable} did not start ({str(err).splitlines()[0][:120]}); "
                                 + HINT) from None
        self.executable = executable
        self.context = None
        self.fresh_profile()

    @property
    def version(self) -> str:
        return self._chromium.version

    def fresh_profile(self) -> None:
        """A new, empty profile (no cookies, no localStorage), as a new private window is."""
        if self.context is not None:
            self.context.close()
        self.context = self._chromium.new_context()
        self.context.set_default_timeout(TIMEOUT * 1000)
        self._responses: list[Any] = []
        self._finished: list[Any] = []
        self.context.on("response", lambda response: self._responses.append(response))
        # A body is readable once its loading finished; a fetch whose script never reads the
        # body never finishes, so page script here always reads what it fetched.
        self.context.on("requestfinished", lambda request: self._finished.append(request))
        self.context.on("requestfailed", lambda request: self._finished.append(request))
        self.tab = self.context.new_page()

    def new_tab(self) -> Any:
        return self.context.new_page()

    def close(self) -> None:
        try:
            self.context.close()
            self._chromium.close()
        finally:
            self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the browser holds ----------------------------------------------------------------

    def cookies(self) -> list[CookieView]:
        """Chromium's cookie store, every cookie with the flags Chromium applied."""
        return [cookie_view(c) for c in self.context.cookies()]

    def run(self, script: str, arg: Any = None, tab: Any = None) -> Any:
        """Page script: `script` is a JavaScript function run inside the page (its origin, its CSP)."""
        return (tab or self.tab).evaluate(script, arg)

    # --- what it sent, paired with what the server received --------------------------------------

    def act(self, action: Callable[[], Any], count: int, paths: tuple[str, ...] = TARGETS,
            servers: tuple[AuthServer, ...] = ()) -> tuple[Any, list[Exchange]]:
        """Do `action` (a click, a navigation, page script) and return what it returned and the
        `count` exchanges it caused on `paths`: each request as the server received it, each
        response as Chromium received it, and the server's events. `servers`: where the requests
        may go (a redirect can lead to another server); by default the browser's own server."""
        servers = servers or (self.server,)
        marks, seen = [s.mark() for s in servers], len(self._responses)
        result = action()
        deadline = time.monotonic() + TIMEOUT
        while True:
            records = [(s, r) for s, mark in zip(servers, marks) for r in s.records_since(mark)
                       if r.request.path in paths]
            responses = [r for r in self._responses[seen:] if urlsplit(r.url).path in paths]
            if len(records) >= count and len(responses) >= count and all(
                    r.request in self._finished for r in responses[:count]):
                break
            if time.monotonic() > deadline:
                raise WalkthroughError(f"expected {count} finished requests from the browser within {TIMEOUT:.0f} s: "
                                       f"the server saw {len(records)}, the browser got {len(responses)} answers")
            self.tab.wait_for_timeout(10)  # lets Playwright deliver the browser's events
        if len(records) != count or len(responses) != count:
            raise WalkthroughError(f"expected {count} requests from the browser, the server saw {len(records)}")
        pairs = []
        for response in responses:  # each answer with the first unpaired record of the server it went to
            port = urlsplit(response.url).port
            found = next((i for i, (s, _) in enumerate(records) if s.port == port), None)
            if found is None:
                raise WalkthroughError(f"the browser's request to {urlsplit(response.url).netloc} reached no "
                                       "server here")
            server, record = records.pop(found)
            pairs.append(self._pair(record, response, server))
        return result, pairs

    def _pair(self, record, response, server: AuthServer) -> Exchange:
        received = record.request
        url = urlsplit(response.url)
        if response.request.method != received.method or url.path != received.path:
            raise WalkthroughError(f"the browser's {response.request.method} {url.path} does not match the "
                                   f"server's {received.method} {received.path}")
        host = (received.header_values("Host") or [f"{server.host}:{server.port}"])[0]
        scheme = server.url.split(":", 1)[0]
        request = HttpRequest(received.method, f"{scheme}://{host}{received.target}", received.target,
                              received.http_version, received.headers,
                              received.body.decode("utf-8", "replace"))
        try:
            body = response.text()
        except self._error:  # a frame that navigated on: the browser dropped the body
            body = ""
        headers = [(h["name"], h["value"]) for h in response.headers_array()]
        answer = HttpResponse(response.status, response.status_text, "HTTP/1.1", headers, body)
        return Exchange(request, answer, list(record.events))
