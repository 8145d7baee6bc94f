"""The resource server: an API that accepts the authorization server's access tokens, with keys
from its JWKS (fetched and cached by schemes/jwks_verifier.py), checking iss, aud and typ too."""

from __future__ import annotations

from typing import Any, Callable

from authcli.errors import MalformedToken
from authcli.events import AuthorizationRefused, Event, TokenChecked
from authcli.server.journal import Request, Response
from authcli.server.routes import NO_STORE, Router, text
from authcli.server.schemes.jwks_verifier import JwksCache, _bearer
from authcli.server.schemes.jwt_auth import REALM, invalid_token, unmarked
from authcli.tokens.checks import Check, verify
from authcli.tokens.parse import split


class ResourceServer:
    """GET /api with `Authorization: Bearer <access token>`; `audience` is this API's own URL."""

    mode = "oauth-api"
    store = None

    def __init__(self, issuer: str, *, clock: Callable[[], float], audience: str | None = None):
        self.issuer, self.clock, self.audience = issuer, clock, audience
        self.keys = JwksCache(issuer + "/jwks", clock=clock)
        self.router = Router({"/api": {"GET": self.api}}, "<!doctype html><title>authcli API</title>"
                             "<p>GET /api with an access token.</p>\n")

    def bind(self, url: str) -> None:
        self.audience = self.audience or url

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def slow(self, request: Request) -> bool:
        return request.path == "/api"  # it may fetch the JWKS: never on the loop

    def api(self, request: Request) -> Response:
        token = _bearer(request)
        events: list[Event] = []
        if token is None:
            events.append(AuthorizationRefused("no single 'Authorization: Bearer <token>' -> 401"))
            return text(401, "Send one Authorization: Bearer <access token>", events, [("WWW-Authenticate", REALM), NO_STORE])
        try:
            parts = split(token)
        except MalformedToken as err:
            return invalid_token(f"malformed token: {err}", [TokenChecked(f"malformed token: {err} -> 401")])
        key, found = self.keys.key_for(parts.header.get("kid"))
        events += found
        if key is None:
            events.append(TokenChecked("refused: no key in the issuer's JWKS has this kid -> 401"))
            return invalid_token("key: unknown kid", events)
        typ = parts.header.get("typ")
        checks = verify(parts, key, now=self.clock(), require=("exp", "iat", "sub"), audience=self.audience,
                        issuer=self.issuer).checks
        checks.append(Check("typ", typ == "at+jwt", "at+jwt: an access token, not an ID token [^rfc9068-4]"
                            if typ == "at+jwt" else f"{str(typ)[:40]!r} is not at+jwt: not an access token [^rfc9068-4]"))
        data: dict[str, Any] = {"checks": checks, "header": parts.header, "payload": parts.payload}
        failed = next((c for c in checks if c.ok is False), None)
        if failed is not None:
            events.append(TokenChecked(f"refused, {failed.name} -> 401", **data))
            return invalid_token(f"{failed.name}: {unmarked(failed.detail)}", events)
        events.append(TokenChecked(f"{', '.join(c.name for c in checks if c.ok)} pass; nothing stored, nothing "
                                   "asked of the AS", **data))
        scope = parts.payload.get("scope", "")
        return text(200, f"Hello user {parts.payload['sub']} (scope: {scope})", events, [NO_STORE])
