"""`demo oauth`: the authorization code flow with PKCE and OpenID Connect across three real
servers (the authorization server, a client web app, an API) and a scripted browser."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

from authcli.client import ScriptedClient
from authcli.clock import now as clock_now
from authcli.events import BackChannel
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.schemes.oauth import OAuthProvider
from authcli.server.schemes.oauth.relying import ClientApp, Registration
from authcli.server.schemes.oauth.resource import ResourceServer
from authcli.server.transport.httpd import AuthServer
from authcli.walkthroughs.common import Shown, expect
from authcli.walkthroughs.model import Step, WalkthroughInfo

INFO = WalkthroughInfo("oauth", "OAuth 2.0 and OpenID Connect: the code flow with PKCE", 9)


def oauth_walkthrough(*, clock: Callable[[], float] = clock_now,
                      sleep: Callable[[float], None] = time.sleep) -> Iterator[Step]:
    """Yield the steps; the three servers live exactly as long as the generator. The traffic
    runs as one burst before the first step is shown, so --step pauses change nothing."""
    from authcli.walkthroughs.oauth_steps import recap, steps

    with ExitStack() as stack:
        run = _servers(stack, clock)
        _traffic(run, sleep)
        shown = Shown()
        yield from shown.all(steps(run))
        yield recap(run, shown.steps)


def _servers(stack: ExitStack, clock: Callable[[], float]) -> SimpleNamespace:
    """Three servers on 127.0.0.1, port 0 each: three origins. The app registers itself at the AS."""
    r = SimpleNamespace(clock=clock)
    r.provider = OAuthProvider(clock=clock)
    r.as_server = stack.enter_context(AuthServer(r.provider))
    r.provider.bind(r.as_server.url)
    r.api = ResourceServer(r.as_server.url, clock=clock)
    r.api_server = stack.enter_context(AuthServer(r.api))
    r.api.bind(r.api_server.url)
    r.provider.resources = (r.api_server.url,)
    # The app's own clients: its back channel to the AS and to the API (no browser cookies there).
    r.app_to_as = ScriptedClient(r.as_server)
    r.app_to_api = ScriptedClient(r.api_server)
    r.app = ClientApp(None, r.app_to_as.send, r.app_to_api.send, clock=clock)
    r.app_server = stack.enter_context(AuthServer(r.app))
    # The browser: one cookie jar for every origin, as a browser has.
    r.browser = ScriptedClient(r.app_server)
    r.browser_at_as = ScriptedClient(r.as_server, jar_of=r.browser)
    for client in (r.app_to_as, r.app_to_api, r.browser):
        stack.callback(client.close)
    return r


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def back(exchange: Exchange, path: str) -> Exchange:
    """The back-channel exchange a browser request caused, by the path it went to."""
    return next(e.exchange for e in exchange.events(BackChannel) if e.exchange.request.target.startswith(path))


def _traffic(r: SimpleNamespace, sleep: Callable[[float], None]) -> None:
    """Registration, then the flow as a browser follows it, one redirect at a time."""
    r.discovery = expect(r.app_to_as.send("GET", "/.well-known/openid-configuration"), 200, "discovery")
    r.metadata = json.loads(r.discovery.response.body)
    redirect_uri = r.app_server.url + "/callback"
    r.register = expect(r.app_to_as.send("POST", "/register", json={
        "redirect_uris": [redirect_uri], "client_name": "authcli demo app",
        "grant_types": ["authorization_code", "refresh_token"]}), 201, "registration")
    creds = json.loads(r.register.response.body)
    r.clients = r.provider.registry.snapshot()
    r.app.reg = Registration(creds["client_id"], creds["client_secret"], redirect_uri, r.metadata["issuer"],
                             r.metadata["authorization_endpoint"])
    r.login = expect(r.browser.send("GET", "/login"), 302, "the app's login link")
    r.pending = r.app.sessions.snapshot()
    r.authorize = expect(r.browser_at_as.send("GET", _path(r.login.response.header("Location"))), 200,
                         "the authorization request")
    query = {k: v[0] for k, v in parse_qs(urlsplit(r.login.response.header("Location")).query).items()}
    r.query = query
    form = {**query, "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "decision": "allow"}
    r.consent = expect(r.browser_at_as.send("POST", "/authorize", data=urlencode(form).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}), 302, "login and consent")
    r.codes = r.provider.codes.snapshot()
    # The tokens are issued at the start of a second (NumericDates are whole seconds), so every
    # check that follows says the same "issued under a second ago" on any run.
    if r.clock() % 1 > 0.1:
        sleep(1 - r.clock() % 1)
    r.callback = expect(r.browser.send("GET", _path(r.consent.response.header("Location"))), 302, "the callback")
    r.token = back(r.callback, "/token")
    r.jwks = back(r.callback, "/jwks")
    r.tokens = json.loads(r.token.response.body)
    r.after_login = (r.app.sessions.snapshot(), r.provider.codes.snapshot(), r.provider.refresh.snapshot())
    r.profile = expect(r.browser.send("GET", "/profile"), 200, "the profile page")
    r.api_call = back(r.profile, "/api")
    r.refresh = expect(r.browser.send("POST", "/refresh"), 200, "the refresh")
    r.refresh_token = back(r.refresh, "/token")
    r.after_refresh = (r.app.sessions.snapshot(), r.provider.refresh.snapshot())
