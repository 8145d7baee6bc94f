"""JWT bearer authentication: /login signs a token, /profile verifies it, nothing is stored."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import replace
from typing import Any, Callable
from urllib.parse import parse_qs

from authcli.errors import BadKey, MalformedToken
from authcli.passwords import HashBound, UserDirectory, demo_users
from authcli.events import (
    AuthorizationRefused, CredentialsChecked, DenylistChecked, Event, JwksServed, KeyChosen, QueryIgnored,
    TokenChecked,
    TokenLogout, TokenSigned,
)
from authcli.server.journal import Request, Response
from authcli.server.policy import HARDENED_JWT, JwtPolicy
from authcli.server.routes import NO_STORE, Router, page, read_credentials, refuse_cross_site, text
from authcli.sources import MARKER
from authcli.timefmt import utc
from authcli.tokens.checks import verify
from authcli.tokens.keys import SigningKey, VerifyKey, pyjwt
from authcli.tokens.parse import TokenParts, split
from authcli.tokens.signing import issue
from authcli.clock import now as clock_now

REQUIRED = HARDENED_JWT.required_claims
REALM = 'Bearer realm="authcli"'
# RFC 6750 2.1: one b64token after "Bearer ". "Bearer Bearer x" is not a bearer token; other
# characters reach the JWT parser, which says which part is not base64url.
ONE_WORD = re.compile(r"\S+")



def unmarked(text: str) -> str:
    """A text without its source markers ([^rfc7519-4.1.4]): an HTTP answer is no handout."""
    return re.sub(r" ?" + MARKER.pattern, "", text)


def _quoted(text: str) -> str:
    """A value safe inside a WWW-Authenticate quoted-string (RFC 6750 3: no `"` or `\\`)."""
    return re.sub(r'[^\x20-\x7e]|["\\]', "'", text)[:200]


def invalid_token(description: str, events: list[Event]) -> Response:
    challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(description)}"'
    return text(401, f"Invalid token: {description}", events, [("WWW-Authenticate", challenge), NO_STORE])


class JwtAuth:
    """The handout's jwt.sign / jwt.verify, with the algorithm pinned and exp required.

    Every security decision reads `policy`; `ttl` is a shortcut for `policy.ttl`.
    """

    mode = "jwt"
    store = None
    token_type = "Bearer"  # what /login's answer calls its tokens (RFC 6749 7.1; DPoP's say "DPoP")

    def __init__(self, key: SigningKey, ttl: int | None = None, *, policy: JwtPolicy = HARDENED_JWT,
                 users: UserDirectory | None = None, clock: Callable[[], float] = clock_now,
                 weak: tuple[str, ...] = (), denylist: Any = None, hashing: HashBound | None = None):
        self.policy = policy if ttl is None else replace(policy, ttl=ttl)
        self.weak = weak  # the attack lab's names for this policy's mistakes (X-Authcli-Weak)
        # A store of revoked jti values (demo refresh): every valid token costs one lookup there.
        self.denylist = denylist
        self._keys = None
        if self.policy.key_source == "kid-path":  # its tokens name their key file by kid
            from authcli.server.lab.jwt_weak import KeyDirectory

            key = replace(key, kid=key.kid or "server-key")
            self._keys = KeyDirectory(key)
        self.key = key
        # The verifier's allow-list: the policy's, else the key's own (the algorithm it signs with).
        self.verify_key = (replace(key.verify, algorithms=self.policy.algorithms)
                           if self.policy.algorithms else key.verify)
        self.users = users or demo_users()
        self.hashing = hashing or HashBound()  # this server's logins queue only behind each other
        self.clock = clock
        table: dict[str, dict[str, Any]] = {
            "/login": {"POST": self.login},
            "/profile": {"GET": self.profile},
            "/logout": {"POST": self.logout},
        }
        if key.jwks is not None:
            table["/.well-known/jwks.json"] = {"GET": self.jwks}
        script = self.page_script()
        self.router = Router(table, page(f"{script}.html"),
                             {"/common.js": "common.js", f"/{script}.js": f"{script}.js", "/style.css": "style.css"})

    def page_script(self) -> str:
        """The browser page's name in authcli/web: where the page keeps the token."""
        return "jwt-cookie" if self.policy.cookie is not None else "jwt"

    @property
    def ttl(self) -> int:
        return self.policy.ttl

    @property
    def lab_mode(self) -> str:
        """What the attacker's page says this server runs: a token in a cookie rides along like a session's."""
        return "jwt-cookie" if self.policy.cookie is not None else "jwt"

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def warm(self) -> None:
        """First-use work, done before the server listens: PyJWT's and cryptography's imports and
        the key's preparation. Left to the first login, they ran between reading the clock for
        iat and answering, and on a busy machine took seconds of a 2-second token's life."""
        jwt = pyjwt()
        for alg in self.verify_key.algorithms:
            try:
                self.verify_key.prepared(alg)
            except (jwt.PyJWTError, ValueError, TypeError):
                pass  # an algorithm that does not fit the key: its requests say so, as before
        try:  # a first signature (none for a verifier holding a public key only: scaling's B)
            issue(self.key, {"sub": "0"})
        except BadKey:
            pass
        if self.policy.lenient:  # the lab's weak server: what its /profile imports on demand
            import authcli.files  # noqa: F401
            import authcli.server.lab.jwt_weak  # noqa: F401
            import authcli.server.lab.outbound  # noqa: F401

    def slow(self, request: Request) -> bool:
        # A jku server fetches keys over HTTP, a kid server reads a file, while verifying:
        # never on the event loop.
        return self.router.slow(request) or (self.policy.key_source in ("jku-header", "kid-path", "kid-sql")
                                             and request.path == "/profile")

    def close(self) -> None:
        if self._keys is not None:
            self._keys.close()

    def login(self, request: Request, extra: dict[str, Any] | None = None) -> Response:
        """`extra`: claims a subclass adds (DPoP's cnf), signed with the rest."""
        if self.policy.refuse_cross_site:
            refuse_cross_site(request)
        email, password = read_credentials(request)
        user = self.users.check(email, password, self.hashing)
        if user is None:
            return text(401, "Wrong credentials", [CredentialsChecked(
                "no user with this email and password (checked against a salted Argon2id hash, in "
                "constant time)")], [NO_STORE])
        now = self.clock()
        # NumericDates are whole seconds: iat is now rounded down (never in the future) and exp
        # is iat + ttl, so exp - iat is exactly the expires_in the response states. The token
        # then has ttl minus the fraction of the current second left.
        iat = int(now)
        claims = {"sub": str(user.user_id), "userId": user.user_id, "iat": iat,
                  "exp": iat + self.ttl, "jti": secrets.token_urlsafe(16), **(extra or {})}
        claims.update((name, value) for name, value in self.policy.extra_claims if name not in claims)
        token = issue(self.key, claims)
        events = [
            CredentialsChecked(f"{email}: password matches the stored Argon2id hash", user_id=user.user_id),
            TokenSigned(f"signed {json.dumps(claims)} with {self.key.alg}: a {len(token)}-character "
                        "token; nothing stored", claims=claims, token=token),
        ]
        if self.policy.cookie is not None:  # the token travels only in Set-Cookie
            from authcli.server.schemes.jwt_cookie import login_answer

            return login_answer(self.policy.cookie, token, self.ttl, events)
        body = json.dumps({"token": token, "token_type": self.token_type, "expires_in": self.ttl})
        return Response(200, body + "\n", [("Content-Type", "application/json"), NO_STORE], events)

    def _bearer(self, request: Request) -> tuple[str | None, Response | None, list[Event]]:
        if self.policy.cookie is not None:  # demo jwt --cookie: only the cookie carries the token
            from authcli.server.schemes.jwt_cookie import token_from_cookie

            return token_from_cookie(self.policy.cookie, request)
        events: list[Event] = []
        query = parse_qs(request.target.split("?", 1)[1]) if "?" in request.target else {}
        values = request.header_values("Authorization")
        if "access_token" in query:
            if self.policy.read_token_from_query and not values and len(query["access_token"]) == 1:
                events.append(QueryIgnored("?access_token= in the URL is USED: URLs leak into logs "
                                           "and history"))
                return query["access_token"][0], None, events
            events.append(QueryIgnored("?access_token= in the URL is ignored: tokens are read only "
                                       "from the Authorization header (URLs leak into logs and history)"))
        if not values:
            events.append(AuthorizationRefused("no Authorization header -> 401"))
            return None, text(401, "Not logged in: send Authorization: Bearer <token>", events,
                              [("WWW-Authenticate", REALM), NO_STORE]), events
        if len(values) > 1:
            events.append(AuthorizationRefused(f"{len(values)} Authorization headers: ambiguous -> 400"))
            return None, text(400, "Send exactly one Authorization header", events,
                              [("WWW-Authenticate", f'{REALM}, error="invalid_request"'), NO_STORE]), events
        scheme, _, token = values[0].strip().partition(" ")
        if scheme.lower() != "bearer" or not ONE_WORD.fullmatch(token.strip()):
            events.append(AuthorizationRefused("Authorization is not 'Bearer <token>' -> 401"))
            return None, text(401, "Not logged in: send Authorization: Bearer <token>", events,
                              [("WWW-Authenticate", REALM), NO_STORE]), events
        return token.strip(), None, events

    def profile(self, request: Request) -> Response:
        token, refusal, events = self._bearer(request)
        if refusal is not None:
            return refusal
        try:
            parts = split(token)
        except MalformedToken as err:
            events.append(TokenChecked(f"malformed token: {err} -> 401"))
            return invalid_token(f"malformed token: {err}", events)
        try:
            key = self.key_for(parts)
        except BadKey as err:
            events.append(TokenChecked(f"refused, key: {err} -> 401", header=parts.header))
            return invalid_token(f"key: {err}", events)
        if self.policy.lenient:  # the attack lab's weak server
            from authcli.server.lab.jwt_weak import key_for

            try:
                key, source = key_for(self.policy, self.key, self.verify_key, parts, self._keys)
            except BadKey as err:
                events.append(TokenChecked(f"refused, key: {err} -> 401"))
                return invalid_token(f"key: {err}", events)
            if key is not self.verify_key:
                events.append(KeyChosen(source))
        verdict = verify(parts, key, now=self.clock(), leeway=self.policy.leeway,
                         require=self.policy.required_claims, audience=self.policy.audience,
                         trust=not self.policy.lenient)  # a weak server's relax() distrusts after
        if self.policy.lenient:
            from authcli.server.lab.jwt_weak import relax

            verdict = relax(verdict, parts, self.policy, own=self.verify_key.algorithms)
        data = {"checks": verdict.checks, "header": parts.header, "payload": parts.payload}
        failed = verdict.failed
        if failed is not None:
            # The check's own text cites its source (rendered from ChecksBlock); what goes on the
            # wire and into the one-line event is plain.
            detail = unmarked(failed.detail)
            events.append(TokenChecked(f"refused, {failed.name}: {detail} -> 401", **data))
            return invalid_token(f"{failed.name}: {detail}", events)
        sub = parts.payload["sub"]
        skipped = [c.name for c in verdict.checks if c.ok is None]
        passed = ", ".join(c.name for c in verdict.checks if c.ok)
        read = ("The denylist is read next" if self.denylist is not None else
                "No store was read: the token carried everything")
        events.append(TokenChecked((f"{passed} pass, {', '.join(skipped)} NOT CHECKED" if skipped else
                                    f"{passed} all pass") + f"; sub={sub}. {read}.", **data))
        if self.denylist is not None:
            refused = self._denied(parts.payload.get("jti"), events)
            if refused is not None:
                return refused
        return text(200, f"Welcome user {sub}", events, [NO_STORE])

    def key_for(self, parts: TokenParts) -> VerifyKey:
        """The key this server verifies `parts` with: its own (a rotating server: the one its
        kid names among those it holds, schemes/jwks.py). BadKey: none, and why."""
        return self.verify_key

    def _denied(self, jti: Any, events: list[Event]) -> Response | None:
        """The denylist lookup every valid token costs once revocation exists."""
        key = f"deny:{jti}"
        if not isinstance(jti, str):
            events.append(DenylistChecked("no jti: a token that cannot be revoked is refused -> 401"))
            return invalid_token("jti: required, so the token can be revoked", events)
        found = self.denylist.get(key)
        events.append(DenylistChecked(self.denylist.describe("read", key, found)
                                      + (" -> revoked: 401" if found else ": not revoked"),
                                      jti=jti, listed=found is not None))
        return invalid_token("revoked: this token's jti is on the denylist", events) if found else None

    def logout(self, request: Request) -> Response:
        if self.policy.refuse_cross_site:
            refuse_cross_site(request)
        token, _, _ = self._bearer(request)
        until = ""
        if token:
            try:
                exp = split(token).payload.get("exp")
                until = f" (exp {utc(exp)})" if isinstance(exp, (int, float)) else ""
            except MalformedToken:
                pass
        events: list[Event] = [TokenLogout("nothing to delete: the server keeps no record of tokens")]
        cleared: list[tuple[str, str]] = []
        if self.policy.cookie is not None:
            from authcli.server.schemes.jwt_cookie import logout_headers

            cleared = logout_headers(self.policy.cookie, events)
        return text(200, f"Logged out on this client only: your token stays valid until it expires{until}.",
                    events, [*cleared, NO_STORE])

    def jwks(self, request: Request) -> Response:
        return Response(200, json.dumps(self.key.jwks, indent=2) + "\n",
                        [("Content-Type", "application/json")],
                        [JwksServed("served the public key set: any service can verify tokens with it")])
