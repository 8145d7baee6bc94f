"""demo compare's third column, "JWT in a cookie": filled from a run of demo jwt --cookie."""

from __future__ import annotations

from authcli.events import TokenCookieSet
from authcli.http import Exchange
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.policy import COOKIE_JWT
from authcli.server.schemes.jwt_auth import JwtAuth
from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import ExchangeBlock, Sequence, Step, step


def _numbered(steps: list[Step]) -> dict[int, Step]:
    return {s.number: s for s in steps if s.number is not None}


def _status(steps: dict[int, Step], n: int) -> int:
    return steps[n].exchange.response.status


def _jwt_restart_cookie() -> Exchange:
    """Log in on a cookie-JWT server, stop it; the same jar asks a new server holding the same key.
    Cookies are not isolated by port, so the jar sends the cookie to the new server by itself."""
    from authcli.client import ScriptedClient

    key = make_signing_key("HS256")
    with AuthServer(JwtAuth(key, 60, policy=COOKIE_JWT)) as first:
        client = ScriptedClient(first)
        expect(client.send("POST", "/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
               200, "login before the restart")
    try:
        with AuthServer(JwtAuth(key, 60, policy=COOKIE_JWT)) as second:
            again = ScriptedClient(second, jar_of=client)
            return expect(again.send("GET", "/profile"), 200, "the cookie on a new server")
    finally:
        client.close()


def cookie_steps(steps: list[Step]) -> tuple[list[Step], Exchange]:
    """What the cookie run saw, then its restart: the steps to show and the restart's exchange."""
    restarted = _jwt_restart_cookie()
    return [_run_step(steps), step(None, "JWT in a cookie: the same, on a new server", [
        "The same with the token in a cookie: the jar sends it to the new server by itself "
        "(cookies do not tell ports apart [^rfc6265-8.5]).",
    ], ExchangeBlock(restarted))], restarted


def _run_step(steps: list[Step]) -> Step:
    n = _numbered(steps)
    cookie = n[3].exchange.request.header("Cookie") or ""
    grown = n[10].exchange.event(TokenCookieSet)
    return step(None, "What the JWT-in-a-cookie run saw", [
        f"JWT in a cookie: login set the same kind of token as an HttpOnly cookie; every request sent "
        f"the cookie ({len('Cookie: ' + cookie)} bytes), added by the jar, and no Authorization "
        f"header; the same checks (step 3: {_status(n, 3)}); tampered (step 4: {_status(n, 4)}); "
        f"logout cleared the cookie, yet a copy still worked (step 7: {_status(n, 7)}); after exp it "
        f"did not (step 9: {_status(n, 9)}); with permissions in the claims the cookie grew to "
        f"{grown.size} bytes, past the {COOKIE_LIMIT} RFC 6265bis lets a browser keep (step 10).",
    ], steps[-1].first(Sequence))


def with_cookie_column(rows: list[list[str]], steps: list[Step], restarted: Exchange, verify_us: float) -> list[list[str]]:
    """The Sessions/JWT rows with a third cell each, from the cookie run; in the order of `rows`."""
    n = _numbered(steps)
    cookie = n[3].exchange.request.header("Cookie") or ""
    grown = n[10].exchange.event(TokenCookieSet)
    cells = {
        "Data stored in": "Token (client side), in an HttpOnly cookie: page script cannot read it, "
                          f"and past {COOKIE_LIMIT} bytes ({grown.size} with permissions) Chromium drops it",
        "Auth sent via": f"Cookie, added by the jar: {len('Cookie: ' + cookie)} bytes; sent by itself, so "
                         "CSRF is back (SameSite, Origin check)",
        "Server checks": f"The same signature check: {verify_us:.1f} µs here",
        "Scaling": f"A new server with the same key accepted the jar's cookie ({restarted.response.status})",
        "Logout": f"Cleared the cookie; a copy still got {_status(n, 7)} until exp",
    }
    return [[*row, cells[row[0]]] for row in rows]
