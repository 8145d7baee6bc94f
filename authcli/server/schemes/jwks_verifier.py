"""A verifier that holds only a JWKS URL: it fetches the issuer's keys, caches them, refetches at a bounded rate.

Why not PyJWT's PyJWKClient, whose design this follows (one lock, a cooldown that every fetch
starts, a lookup by kid among signing keys): it reads `time.monotonic()` itself, so a test or a
demo cannot move its clock; its cache lifespan is fixed when it is made and ignores the answer's
Cache-Control; it fetches with urllib, whose timeout bounds each socket read rather than the
whole fetch and which reads any http(s) URL and any size; and it keeps no record of what it
sent or received, which is what this demo shows. The keys themselves are still read by PyJWT
(PyJWK, through tokens.keys.key_from_jwk).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable

from authcli.clock import now as clock_now
from authcli.errors import BadKey, MalformedToken
from authcli.events import AuthorizationRefused, Event, JwksFetched, KeySetCached, TokenChecked
from authcli.server.journal import Request, Response
from authcli.server.lab import outbound
from authcli.server.policy import HARDENED_JWT
from authcli.server.routes import NO_STORE, Router, text
from authcli.server.schemes.jwt_auth import REALM, invalid_token, unmarked
from authcli.tokens.checks import verify
from authcli.tokens.keys import VerifyKey, key_from_jwk
from authcli.tokens.parse import split

# At most one fetch per COOLDOWN seconds, whatever the requests ask for (PyJWKClient's default
# cooldown_duration is the same 30 s): a flood of unknown kids costs the issuer one request.
COOLDOWN = 30.0
MAX_AGE_CAP = 86400.0  # a max-age beyond a day is read as a day: a withdrawn key must end somewhere
MAX_KEYS = 32          # a set with more keys than this is refused whole
MAX_KID = 200          # a longer kid is not looked up (nor fetched for)
MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]{1,10})\"?\s*(?:,|$)", re.IGNORECASE)


def max_age(cache_control: str | None) -> float:
    """Seconds the answer may be kept (RFC 9111 5.2.2.1), 0 when it says no-store or no-cache,
    or nothing; at most a day."""
    if not cache_control or re.search(r"no-store|no-cache", cache_control, re.IGNORECASE):
        return 0.0
    match = MAX_AGE.search(cache_control)
    return min(float(match.group(1)), MAX_AGE_CAP) if match else 0.0


@dataclass(frozen=True)
class KeySet:
    """The set as fetched: keys by kid, when, and for how long it may be used."""

    keys: dict[str, VerifyKey]
    fetched_at: float
    max_age: float


def read_set(body: bytes) -> dict[str, VerifyKey]:
    """Each signing key of a JWKS by its kid; BadKey when the document is no key set."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise BadKey("the answer is not JSON") from None
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise BadKey(f"the answer is not a JWKS of 1 to {MAX_KEYS} keys")
    out: dict[str, VerifyKey] = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
            continue  # an encryption key or one without a kid cannot be picked by a token
        if jwk.get("kty") == "oct":
            continue  # a shared secret in a public document is no verifying key
        out[jwk["kid"]] = key_from_jwk(jwk, jwk.get("alg") if isinstance(jwk.get("alg"), str) else None)
    if not out:
        raise BadKey("the JWKS holds no signing key with a kid")
    return out


class JwksCache:
    """The verifier's copy of the issuer's JWKS: kept as long as its Cache-Control max-age
    says; fetched again when it is stale or a token names a kid it lacks, but never more than
    once per `cooldown` seconds (counted from the last attempt, failed or not)."""

    def __init__(self, url: str, *, clock: Callable[[], float] = clock_now, cooldown: float = COOLDOWN,
                 get: Callable[[str], outbound.Fetched] = outbound.get):
        outbound.parse(url)  # refused at start, not at the first token
        self.url = url
        self.clock = clock
        self.cooldown = cooldown
        self._get = get
        self._lock = threading.Lock()  # one fetch at a time; each is bounded by its deadline
        self._set: KeySet | None = None
        self._attempt: float | None = None
        self.fetches = 0

    def snapshot(self) -> dict[str, Any]:
        """What the cache holds now: kids, when fetched, for how long, and how many fetches so far."""
        with self._lock:
            held = self._set
            return {"kids": list(held.keys) if held else [], "fetched_at": held.fetched_at if held else None,
                    "max_age": held.max_age if held else None, "fetches": self.fetches}

    def key_for(self, kid: Any) -> tuple[VerifyKey | None, list[Event]]:
        """The key `kid` names and what the cache did to find it (None: no such key, the
        events say why)."""
        with self._lock:
            now, held = self.clock(), self._set
            age = None if held is None else now - held.fetched_at
            known = held is not None and kid in held.keys
            if held is not None and known and age < held.max_age:
                return held.keys[kid], [KeySetCached(
                    f"kid {_short(kid)}: in the cached set (fetched {age:.0f} s ago, max-age "
                    f"{held.max_age:.0f} s): no request", kid=kid, decision="hit", age=age, max_age=held.max_age)]
            why = ("no key set yet" if held is None else "the cached set is stale "
                   f"({age:.0f} s old, max-age {held.max_age:.0f} s)" if age >= held.max_age
                   else f"kid {_short(kid)} is not in the cached set")
            if self._attempt is not None and now - self._attempt < self.cooldown:
                wait = self.cooldown - (now - self._attempt)
                keep = " and keeps using the set it has" if known else ""
                return (held.keys[kid] if known else None), [KeySetCached(
                    f"{why}; the last fetch was {now - self._attempt:.0f} s ago, so no fetch for "
                    f"another {wait:.0f} s (at most one per {self.cooldown:g} s){keep}",
                    kid=kid, decision="cooldown", age=age, max_age=held.max_age if held else None, wait=wait)]
            events: list[Event] = [KeySetCached(f"{why}: fetch {self.url}", kid=kid, decision="fetch", age=age,
                                                max_age=held.max_age if held else None)]
            self._attempt = now
            events.append(self._fetch(now))
            held = self._set
            return (held.keys.get(kid) if held is not None else None), events

    def _fetch(self, now: float) -> JwksFetched:
        self.fetches += 1
        try:
            got = self._get(self.url)
        except BadKey as err:
            return JwksFetched(f"GET {self.url} failed: {err}; the set held stays", url=self.url, error=str(err))
        body = got.body.decode("utf-8", "replace")
        fields = dict(url=self.url, request_headers=got.request_headers, status=got.status, reason=got.reason,
                      response_headers=got.headers, body=body)
        if got.status != 200:
            return JwksFetched(f"GET {self.url}: {got.status}; the set held stays", error=f"status {got.status}",
                               **fields)
        try:
            keys = read_set(got.body)
        except BadKey as err:
            return JwksFetched(f"GET {self.url}: {err}; the set held stays", error=str(err), **fields)
        age = max_age(got.header("Cache-Control"))
        self._set = KeySet(keys, now, age)
        return JwksFetched(f"GET {self.url}: 200, {len(keys)} key{'s' * (len(keys) > 1)} "
                           f"({', '.join(keys)}), kept for {age:.0f} s (Cache-Control: "
                           f"{got.header('Cache-Control') or 'none'})", kids=list(keys), max_age=age, **fields)


def _short(kid: Any) -> str:
    return repr(kid[:MAX_KID]) if isinstance(kid, str) else type(kid).__name__


def _bearer(request: Request) -> str | None:
    values = request.header_values("Authorization")
    if len(values) != 1:
        return None
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


class JwksVerifier:
    """A second server that only verifies: no key of its own, only the JWKS URL it was given."""

    mode = "jwks-verifier"
    store = None

    def __init__(self, cache: JwksCache, *, clock: Callable[[], float] | None = None):
        self.cache = cache
        self.clock = clock or cache.clock
        self.policy = HARDENED_JWT
        self.router = Router({"/profile": {"GET": self.profile}},
                             "<!doctype html><title>authcli verifier</title><p>GET /profile with a "
                             "Bearer token; keys come from the issuer's JWKS.</p>\n")

    def handle(self, request: Request) -> Response:
        return self.router.handle(request)

    def slow(self, request: Request) -> bool:
        return request.path == "/profile"  # it may fetch keys over HTTP: never on the event loop

    def profile(self, request: Request) -> Response:
        token = _bearer(request)
        if token is None:
            return text(401, "Not logged in: send one Authorization: Bearer <token>",
                        [AuthorizationRefused("no single 'Authorization: Bearer <token>' -> 401")],
                        [("WWW-Authenticate", REALM), NO_STORE])
        try:
            parts = split(token)
        except MalformedToken as err:
            return invalid_token(f"malformed token: {err}", [TokenChecked(f"malformed token: {err} -> 401")])
        kid = parts.header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID:
            reason = "the token has no kid" if kid is None else f"kid must be a string of 1 to {MAX_KID} characters"
            return invalid_token(f"key: {reason}", [TokenChecked(f"refused, key: {reason}; nothing fetched -> 401")])
        key, events = self.cache.key_for(kid)
        if key is None:
            reason = f"unknown kid {_short(kid)}: not in the issuer's key set as this verifier holds it"
            events.append(TokenChecked(f"refused, key: {reason} -> 401", header=parts.header))
            return invalid_token(f"key: {reason}", events)
        p = self.policy
        verdict = verify(parts, key, now=self.clock(), leeway=p.leeway, require=p.required_claims,
                         audience=p.audience)
        data = {"checks": verdict.checks, "header": parts.header, "payload": parts.payload}
        if verdict.failed is not None:
            detail = unmarked(verdict.failed.detail)
            events.append(TokenChecked(f"refused, {verdict.failed.name}: {detail} -> 401", **data))
            return invalid_token(f"{verdict.failed.name}: {detail}", events)
        sub = parts.payload["sub"]
        events.append(TokenChecked(f"all checks pass with the issuer's key {_short(kid)}; sub={sub}", **data))
        return text(200, f"Welcome user {sub} (verified with kid {kid})", events, [NO_STORE])
