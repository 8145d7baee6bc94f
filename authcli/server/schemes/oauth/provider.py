"""authcli's own OpenID provider: discovery, JWKS, /authorize, /token, /userinfo and dynamic
registration, every decision read from an OAuthPolicy."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable

from authcli.clock import now as clock_now
from authcli.errors import BadKey, MalformedToken
from authcli.events import ClientRegistered, Event, JwksServed, TokenChecked
from authcli.passwords import HashBound, UserDirectory, demo_users
from authcli.server.journal import Request, Response
from authcli.server.policy import HARDENED_OAUTH, CookiePolicy, OAuthPolicy
from authcli.server.routes import NO_STORE, Router
from authcli.server.throttle import LoginThrottle
from authcli.server.schemes.jwks import JWKS_MAX_AGE, KeyRing
from authcli.server.schemes.jwt_auth import invalid_token, unmarked
from authcli.server.schemes.jwks_verifier import _bearer
from authcli.server.schemes.oauth import authorize
from authcli.errors import OAuthError
from authcli.server.schemes.oauth.clients import Registry
from authcli.server.schemes.oauth.records import Records
from authcli.server.schemes.oauth.token import token
from authcli.server.schemes.oauth.wire import json_answer, json_error
from authcli.server.transport.limits import address_key
from authcli.tokens.checks import verify
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key

INDEX = ("<!doctype html><title>authcli OpenID provider</title><p>An OAuth 2.0 authorization server and "
         "OpenID provider for learning. Start at <a href=\"/.well-known/openid-configuration\">"
         "/.well-known/openid-configuration</a>.</p>\n")
PATHS = {"authorization_endpoint": "/authorize", "token_endpoint": "/token", "userinfo_endpoint": "/userinfo",
         "jwks_uri": "/jwks", "registration_endpoint": "/register"}


class OAuthProvider:
    """The authorization server. `issuer` is its URL, known once it listens (`bind`); `resources`
    are the APIs its access tokens are for (each token's aud lists them and the issuer, for /userinfo)."""

    mode = "oauth"
    store = None

    def __init__(self, *, policy: OAuthPolicy = HARDENED_OAUTH, users: UserDirectory | None = None,
                 clock: Callable[[], float] = clock_now, issuer: str | None = None,
                 resources: tuple[str, ...] = (), weak: tuple[str, ...] = ()):
        self.policy, self.clock, self.issuer, self.resources, self.weak = policy, clock, issuer, resources, weak
        self.users = users or demo_users()
        self.hashing = HashBound()
        self.throttle = LoginThrottle(policy.login_limits, clock) if policy.login_limits is not None else None
        self.ring = KeyRing(make_signing_key(policy.alg))
        self.registry = Registry(policy.max_clients, policy.clients_per_address)
        self.codes = Records("codes", "Authorization codes (the AS's memory)", policy.max_codes, clock)
        self.refresh = Records("refresh", "Refresh tokens by SHA-256 (the AS's memory)", policy.max_refresh, clock)
        self.logins = Records("logins", "Browsers signed in here (the AS's memory)", policy.max_logins, clock)
        table: dict[str, dict[str, Any]] = {
            "/.well-known/openid-configuration": {"GET": self.discovery},
            "/.well-known/oauth-authorization-server": {"GET": self.discovery},
            "/jwks": {"GET": self.jwks},
            "/authorize": {"GET": lambda r: authorize.show(self, r), "POST": lambda r: authorize.submit(self, r)},
            "/token": {"POST": lambda r: token(self, r)},
            "/userinfo": {"GET": self.userinfo, "POST": self.userinfo},
            "/register": {"POST": self.register},
        }
        self.router = Router(table, INDEX, {"/style.css": "style.css"}, slow=frozenset({"/authorize", "/token"}))

    def bind(self, url: str) -> None:
        """The issuer is the server's own URL: set once it listens (port 0 picks the port)."""
        self.issuer = self.issuer or url

    @property
    def login_cookie(self) -> CookiePolicy:
        """The AS's own sign-in cookie; over HTTPS Secure with the __Host- prefix (RFC 6265bis 4.1.3.2)."""
        cookie = self.policy.login_cookie
        if (self.issuer or "").startswith("https://"):
            return replace(cookie, name="__Host-" + cookie.name.removeprefix("__Host-"), secure=True)
        return cookie

    @property
    def audiences(self) -> list[str]:
        return [*self.resources, self.issuer]

    def records(self) -> str:
        """What this server keeps, for serve's log: "2 clients, 1 code, 3 refresh tokens, 1 sign-in"."""
        kept = ((len(self.registry), "client"), (len(self.codes), "code"), (len(self.refresh), "refresh token"),
                (len(self.logins), "sign-in"))
        return ", ".join(f"{n} {noun}{'s' * (n != 1)}" for n, noun in kept)

    def handle(self, request: Request) -> Response:
        if self.issuer is None:
            return Response(503, "Starting: the issuer URL is not known yet\n", [("Retry-After", "1")])
        return self.router.handle(request)

    def slow(self, request: Request) -> bool:
        # The form's POST checks a password (Argon2id) and /token signs one or two RS256 tokens
        # (1.6 ms a refresh, 27 times a discovery request: on the loop, one address refreshing
        # from 16 connections took 26 ms of every turn). Workers take them, round-robin by
        # address. GET /authorize only shows the page: queued behind the hashes it waited
        # (measured: 2 ms alone, 270 ms while four addresses flooded wrong passwords).
        return request.method == "POST" and self.router.slow(request)

    def metadata(self) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0 section 3 (and RFC 8414 2): what a client library reads first."""
        return {"issuer": self.issuer, **{k: self.issuer + v for k, v in PATHS.items()},
                "scopes_supported": list(authorize.SCOPES), "response_types_supported": ["code", *(["token"] if self.policy.allow_implicit else [])],
                "response_modes_supported": ["query", *(["fragment"] if self.policy.allow_implicit else [])], "grant_types_supported": ["authorization_code", "refresh_token"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": [self.policy.alg],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
                "code_challenge_methods_supported": list(self.policy.pkce_methods),
                "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email"],
                "authorization_response_iss_parameter_supported": True}

    def discovery(self, request: Request) -> Response:
        return json_answer(200, self.metadata(), [], [("Cache-Control", "public, max-age=300")], indent=1)

    def jwks(self, request: Request) -> Response:
        kids = self.ring.kids()
        return json_answer(200, self.ring.jwks(), [JwksServed(f"served the key set ({', '.join(kids)})")],
                           [("Cache-Control", f"public, max-age={JWKS_MAX_AGE}")])

    def register(self, request: Request) -> Response:
        """RFC 7591 3: JSON metadata in, 201 with the client's credentials out."""
        kind = ",".join(request.header_values("Content-Type")).split(";")[0].strip().lower()
        try:
            if kind != "application/json":
                raise OAuthError("invalid_client_metadata", "send the client metadata as application/json")
            try:
                metadata = json.loads(request.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise OAuthError("invalid_client_metadata", "the body is not JSON") from None
            client, body, dropped = self.registry.register(metadata, int(self.clock()), address_key(request.peer))
        except OAuthError as err:
            # RFC 7591 3.2.2: 400 (429 when one address has registered its share)
            status = 429 if err.status == 429 else 400
            return json_error(OAuthError(err.error, err.description, status),
                              [ClientRegistered(f"refused: {err.description}")])
        kind = "public, PKCE only" if client.public else "confidential, with a secret"
        room = (f"; the registry was full: client {dropped[:12]}..., the oldest of the address keeping the "
                "most, dropped") if dropped else ""
        return json_answer(201, body, [ClientRegistered(f"registered client {client.client_id} ({kind}) for "
                                                        f"{', '.join(client.redirect_uris)}{room}",
                                                        client_id=client.client_id)],
                           [NO_STORE])

    def userinfo(self, request: Request) -> Response:
        """OIDC Core 5.3: the access token's user, as claims; the token checked like any API would."""
        events: list[Event] = []
        token_text = _bearer(request)
        if token_text is None:
            return invalid_token("send one Authorization: Bearer <access token>", events)
        try:
            parts = split(token_text)
            key = self.ring.verify_key(parts.header.get("kid"))
        except (MalformedToken, BadKey) as err:
            events.append(TokenChecked(f"refused: {err} -> 401"))
            return invalid_token(str(err), events)
        verdict = verify(parts, key, now=self.clock(), require=("exp", "iat", "sub"), audience=self.issuer,
                         issuer=self.issuer)
        failed = verdict.failed
        events.append(TokenChecked(f"refused, {failed.name} -> 401" if failed else "access token valid",
                                   checks=verdict.checks, header=parts.header, payload=parts.payload))
        if failed is not None:
            return invalid_token(f"{failed.name}: {unmarked(failed.detail)}", events)
        sub = parts.payload["sub"]
        claims: dict[str, Any] = {"sub": sub}
        scopes = str(parts.payload.get("scope", "")).split()
        user = next((u for u in self.users.users() if str(u.user_id) == sub), None)
        if user is not None and "email" in scopes:
            claims.update(email=user.email, email_verified=False)
        return json_answer(200, claims, events, [NO_STORE])
