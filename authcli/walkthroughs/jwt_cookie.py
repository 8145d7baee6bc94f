"""demo jwt --cookie: the handout's other place for the token, an HttpOnly cookie, each step from
real traffic. The signing and the checks are demo jwt's; only where the token travels changes."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Iterator

from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.events import TokenChecked, TokenCookieSet
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD, DEMO_USER_ID
from authcli.server.policy import COOKIE_JWT, HTTPS_COOKIE_JWT, JwtPolicy
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.server.transport.httpd import AuthServer
from authcli.timefmt import utc
from authcli.tls import TlsFiles
from authcli.http import Exchange
from authcli.tokens.claims import TokenView, inspect
from authcli.tokens.keys import SigningKey
from authcli.tokens.parse import split
from authcli.walkthroughs.common import Shown, expect, sequence
from authcli.walkthroughs.https import tls_step
from authcli.walkthroughs.jwt import (
    DEFAULT_TTL, ENCODED_NOT_ENCRYPTED, EXPIRY_MARGIN, _checks, _forgeries, _key_step, _token,
)
from authcli.walkthroughs.model import (
    Defences, ExchangeBlock, JarBlock, Sequence, Step, Table, TableBlock, TokenBlock, Wait, WalkthroughInfo, step,
)
from authcli.clock import now as clock_now

INFO = WalkthroughInfo("jwt", "JWT in an HttpOnly cookie: the browser carries it, page script cannot read it", 10)
# What a token carries when an app puts its user's permissions in it (step 10): 45 projects, 4
# actions each. Enough to pass a cookie's 4096 bytes; a real app's list only grows.
PERMISSIONS = [f"project-{n:02d}:{action}" for n in range(1, 46) for action in ("read", "write", "share", "admin")]
BFF = ("Where this leads: the backend-for-frontend pattern. The browser holds only a session "
       "cookie (an ID, as in demo session); a backend holds the tokens and adds them to its own "
       "calls to the APIs, so no token ever reaches the browser [^oauth-browser-bff].")


def _policy(tls: TlsFiles | None) -> JwtPolicy:
    return HTTPS_COOKIE_JWT if tls else COOKIE_JWT


def jwt_cookie_walkthrough(key: SigningKey, ttl: int = DEFAULT_TTL, *,
                           clock: Callable[[], float] = clock_now,
                           sleep: Callable[[float], None] = time.sleep,
                           tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield demo jwt --cookie's steps. The servers live exactly as long as the generator."""
    auth = JwtAuth(key, ttl, policy=_policy(tls), clock=clock)
    with AuthServer(auth, tls=tls.server_context() if tls else None) as server:
        client = ScriptedClient(server, ca=str(tls.ca) if tls else None)
        try:
            yield from _steps(server, auth, client, clock, sleep, tls)
        finally:
            client.close()


def _carry(name: str) -> Callable[[str], dict[str, str]]:
    """A token sent by hand as the cookie (a forged one, or a copy): the jar's own is not added."""
    return lambda token: {"Cookie": f"{name}={token}"}


def _steps(server: AuthServer, auth: JwtAuth, client: ScriptedClient, clock: Callable[[], float],
           sleep: Callable[[float], None], tls: TlsFiles | None) -> Iterator[Step]:
    # As in demo jwt: what needs the token alive runs as one burst, shown afterwards.
    shown = Shown()
    yield shown(_key_step(server, auth, client, tls is not None))
    if tls is not None:
        yield shown(tls_step(server, tls))
    if clock() % 1 > 0.1:
        sleep(1 - clock() % 1)
    act = _first_act(client, auth, tls is not None)
    view = _token(act)
    exp = view.payload["exp"]
    yield from shown.all(act)
    left = exp - clock()
    yield shown(step(8, f"Waiting for exp ({auth.ttl} s after login)", [
        f"Until exp ({utc(exp)}) anyone holding a copy of the token can use it."
        if left > 0 else f"exp ({utc(exp)}) already passed while the steps above were on screen.",
    ], Wait(max(left, 0.0) + EXPIRY_MARGIN, "token expires in")))
    if clock() < exp + EXPIRY_MARGIN:
        sleep(exp + EXPIRY_MARGIN - clock())
    carry = _carry(auth.policy.cookie.name)
    expired = expect(client.send("GET", "/profile", headers=carry(view.token)), 401, "expired token")
    if expired.event(TokenChecked).failed != ["exp"]:
        raise WalkthroughError("expected only the exp check to fail after exp")
    yield shown(step(9, "After exp: the same token gets 401", [
        "The copy sent as the cookie again: the exp check refuses it [^rfc7519-4.1.4]. The cookie "
        "itself has no Max-Age: the server's exp decides, not the browser.",
    ], ExchangeBlock(expired, events=False), _checks(expired), Defences(["exp-checked"]),
        predict="exp has passed. The copied token is sent as the cookie again."))
    grown = _grown(auth, tls)
    yield shown(grown)
    yield _recap(act, grown, sequence(shown.steps, None))


def _login_step(login: Exchange, view: TokenView, name: str, https: bool) -> Step:
    secure = ("Over HTTPS the cookie is __Host-token with Secure (what each does, and where "
              "browsers differ on localhost, below)." if https else
              "Production adds Secure and the __Host- prefix (--https shows them).")
    return step(1, "POST /login: the token comes back as an HttpOnly cookie", [
        f"The same signed token as in demo jwt, but only in Set-Cookie: {name}=<token>; the body names "
        "the cookie, never the token. HttpOnly keeps it out of page script's reach in a browser "
        f"[^rfc6265-4.1.2.6]. {secure} In every demo {DEMO_EMAIL} is userId {DEMO_USER_ID}. "
        + ENCODED_NOT_ENCRYPTED,
    ], ExchangeBlock(login), TokenBlock(view), Defences(["secure", "host-prefix"]) if https else None,
        predict=f"The client logs in ({DEMO_EMAIL} / {DEMO_PASSWORD}).")


def _first_act(client: ScriptedClient, auth: JwtAuth, https: bool) -> list[Step]:
    """Steps 1-7: login, the jar keeps it, use, tamper, alg none, logout, the copy after logout."""
    name = auth.policy.cookie.name
    login = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
                   200, "login")
    token = next((c.value for c in client.jar() if c.name == name), None)
    if not token:
        raise WalkthroughError(f"the client's jar did not keep the {name} cookie")
    parts = split(token)
    steps = [_login_step(login, inspect(parts, None), name, https)]
    steps.append(step(2, "The client's cookie jar keeps the token", [
        "requests' cookie jar keeps it as a browser would, with its flags; the script holds no "
        "copy of its own. In a browser, HttpOnly hides it from page script: an injected script "
        "gets nothing to take away (demo browser --cookie shows it in Chromium).",
    ], JarBlock(client.jar())))
    profile = expect(client.send("GET", "/profile"), 200, "profile")
    if profile.request.header("Authorization"):
        raise WalkthroughError("the cookie client sent an Authorization header")
    steps.append(step(3, "GET /profile: the jar sends the cookie by itself", [
        "No Authorization header: the jar added Cookie by itself, as a browser does on every "
        "request to this site, including those another site's page starts. So CSRF is back, "
        "exactly as for sessions: SameSite=Lax [^rfc6265bis-samesite] and the Origin check on "
        "/login and /logout answer it [^owasp-csrf] (demo browser --cookie). jwt.verify's checks:",
    ], ExchangeBlock(profile, events=False), _checks(profile), Defences(["samesite-lax", "origin-check"]),
        predict="The client fetches /profile and names no credentials."))
    steps += _forgeries(client, parts, auth.key.known, carry=_carry(name))
    logout = expect(client.send("POST", "/logout"), 200, "logout")
    steps.append(step(6, "POST /logout: the cookie is cleared, nothing is revoked", [
        f"Set-Cookie {name} with Max-Age=0: the jar dropped the cookie. The server still has "
        "nothing to delete.",
    ], ExchangeBlock(logout), JarBlock(client.jar()), predict="The client logs out."))
    after = expect(client.send("GET", "/profile", headers=_carry(name)(token)), 200, "profile after logout")
    steps.append(step(7, "The logged-out token still works", [
        "A copy taken before logout (from the traffic, a proxy's log, malware on the machine), sent "
        "as the cookie: 200 until exp. Clearing a cookie revokes nothing; a jti denylist "
        "[^rfc7519-4.1.7] would (demo refresh).",
    ], ExchangeBlock(after),
        predict="The client logged out. Someone who copied its token sends it as the cookie. Does it still work?"))
    return steps


def _grown(auth: JwtAuth, tls: TlsFiles | None) -> Step:
    """Step 10: the same key, a token carrying the user's permissions: past 4096 bytes."""
    policy = replace(auth.policy, extra_claims=(("permissions", PERMISSIONS),))
    with AuthServer(JwtAuth(auth.key, auth.ttl, policy=policy, clock=auth.clock),
                    tls=tls.server_context() if tls else None) as server:
        client = ScriptedClient(server, ca=str(tls.ca) if tls else None)
        try:
            login = expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
                           200, "login with permissions in the token")
            jar = client.jar()
        finally:
            client.close()
    said = login.event(TokenCookieSet)
    if said.fits:
        raise WalkthroughError(f"the grown token is only {said.size} bytes: it should pass {COOKIE_LIMIT}")
    return step(10, f"The claims grow: past a cookie's {COOKIE_LIMIT} bytes", [
        f"The same key, and the token now carries the user's {len(PERMISSIONS)} permissions: its "
        f"cookie is {said.size} bytes of name and value. RFC 6265bis tells browsers to ignore a "
        f"Set-Cookie whose name plus value is longer than {COOKIE_LIMIT} bytes [^rfc6265bis-5.6]; "
        "Chromium does (demo browser --cookie), and the user is simply not logged in. Python's cookie jar has no "
        f"such limit: it kept all {said.size - len(auth.policy.cookie.name)} characters of the token below.",
    ], ExchangeBlock(login, events=False), JarBlock(jar),
        predict=f"A token carrying {len(PERMISSIONS)} permissions is set as the cookie.")


def _recap(act: list[Step], grown: Step, traffic: Sequence) -> Step:
    view = _token(act)
    profile = next(s for s in act if s.number == 3).exchange
    cookie = profile.request.header("Cookie") or ""
    size = grown.exchange.event(TokenCookieSet).size
    return step(None, "Recap", [BFF], TableBlock(Table(
        "The handout's table, JWT-in-a-cookie column, as this run observed it", ["", "JWT in a cookie"], [
            ["Data stored in", "On the client, in the token, in the cookie jar (HttpOnly: no page script reads it)"],
            ["Auth sent via", f"Cookie, added by the jar: {len('Cookie: ' + cookie)} bytes, no Authorization header"],
            ["Server checks", "With the key alone, the same checks: forged or expired -> 401 (steps 4, 5, 9)"],
            ["CSRF", "Back, as for sessions: SameSite=Lax and the Origin check answer it (step 3)"],
            ["Size", f"{len(view.token)}-character token; with {len(PERMISSIONS)} permissions {size} bytes: "
                     f"over {COOKIE_LIMIT}: Chromium drops it (step 10)"],
            ["Logout", "Clears the cookie; a copy still works until exp (step 7)"],
        ])), traffic)
