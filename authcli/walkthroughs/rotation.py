"""`demo jwt --rotate`: an issuer rotates its key pair, a second server verifies through the JWKS it caches.

Both servers are real (127.0.0.1, their own ports); the verifier's JWKS requests are real HTTP,
shown as the issuer received them and as the verifier received the answers. The verifier's
clock is a clock the story moves (a cache's max-age and a 30 s cooldown are not waited out on
screen); the issuer keeps authcli's clock.
"""

from __future__ import annotations

import json
from typing import Callable, Iterator

from authcli.clock import now as clock_now
from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.events import JwksFetched, KeySetCached, TokenChecked
from authcli.http import Exchange, HttpRequest, HttpResponse
from authcli.passwords import DEMO_EMAIL, DEMO_PASSWORD
from authcli.server.schemes.jwks import JWKS_MAX_AGE, KeyRing, RotatingJwtAuth
from authcli.server.schemes.jwks_verifier import COOLDOWN, JwksCache, JwksVerifier
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.claims import inspect
from authcli.tokens.keys import SigningKey
from authcli.tokens.parse import split
from authcli.tokens.signing import issue
from authcli.tokens.signing import from_private, make_signing_key
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import (
    ChecksBlock, ExchangeBlock, Sequence, Step, Table, TableBlock, TokenBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("jwt-rotate", "JWT key rotation: kid, a JWKS, and a verifier that caches it", 8,
                       command="demo jwt --rotate")
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_TTL = 900  # the verifier's clock moves about 6 minutes ahead: tokens outlive the story
FLOOD = 20


class StoryClock:
    """The verifier's clock: it stands still until the story moves it, so pauses change nothing."""

    def __init__(self, start: float):
        self.now, self.start = start, start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def catch_up(self, wall: float) -> None:
        """Not behind the issuer at the first login (its token is not from the future here);
        t+0 is that moment, and from then on only the story moves this clock."""
        self.now = self.start = max(self.now, wall)

    @property
    def shown(self) -> str:
        return f"t+{round(self.now - self.start)} s"


class Story:
    """The two servers, the client, and every arrow for the recap's diagram."""

    def __init__(self, issuer: AuthServer, auth: RotatingJwtAuth, verifier: AuthServer, cache: JwksCache,
                 clock: StoryClock):
        self.issuer, self.auth, self.verifier, self.cache, self.clock = issuer, auth, verifier, cache, clock
        self.to_issuer, self.to_verifier = ScriptedClient(issuer), ScriptedClient(verifier)
        self.arrows: list[tuple[str, str, str, bool]] = []
        self.notes: list[tuple[int, str]] = []
        self.timeline: list[list[str]] = []

    def close(self) -> None:
        self.to_issuer.close()
        self.to_verifier.close()

    def at_issuer(self, method: str, path: str, status: int, what: str, **kw) -> Exchange:
        ex = expect(self.to_issuer.send(method, path, **kw), status, what)
        self.arrows += [("Client", "Issuer", f"{method} {path}", False),
                        ("Issuer", "Client", f"{ex.response.status} {ex.response.reason}", True)]
        return ex

    def login(self) -> tuple[str, Exchange]:
        ex = self.at_issuer("POST", "/login", 200, "login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        if not self.timeline:  # before the verifier's first request
            self.clock.catch_up(self.auth.clock())
        return json.loads(ex.response.body)["token"], ex

    def at_verifier(self, token: str, status: int, what: str, *, quiet: bool = False
                    ) -> tuple[Exchange, list[Exchange]]:
        """GET /profile at the verifier, and the JWKS fetches it made meanwhile, as real exchanges
        (`quiet`: one of a flood, left out of the diagram and the timeline)."""
        mark = self.issuer.mark()
        ex = expect(self.to_verifier.send("GET", "/profile", headers={"Authorization": f"Bearer {token}"}),
                    status, what)
        fetches = fetched(ex, self.issuer.records_since(mark))
        if quiet:
            return ex, fetches
        self.arrows.append(("Client", "Verifier", "GET /profile", False))
        for f in fetches:
            self.arrows += [("Verifier", "Issuer", f"GET {JWKS_PATH}", False),
                            ("Issuer", "Verifier", f"{f.response.status} {f.response.reason}", True)]
        self.arrows.append(("Verifier", "Client", f"{ex.response.status} {ex.response.reason}", True))
        decision = ex.events(KeySetCached)
        self.timeline.append([self.clock.shown, _kid_of(token), decision[0].decision if decision else "-",
                              str(len(fetches)), str(ex.response.status)])
        return ex, fetches


def fetched(exchange: Exchange, records: list) -> list[Exchange]:
    """The verifier's JWKS requests as the issuer received them, each with the answer as the
    verifier received it (its JwksFetched event): one exchange per real fetch, or the story stops."""
    events = [e for e in exchange.events(JwksFetched) if e.status]
    received = [r for r in records if r.request.path == JWKS_PATH]
    if len(events) != len(received):
        raise WalkthroughError(f"the verifier reports {len(events)} JWKS fetches, the issuer received "
                               f"{len(received)}")
    out = []
    for event, record in zip(events, received):
        r = record.request
        request = HttpRequest(r.method, event.url, r.target, r.http_version, r.headers, "")
        response = HttpResponse(event.status, event.reason, "HTTP/1.1",
                                [tuple(h) for h in event.response_headers], event.body)
        out.append(Exchange(request, response, list(record.events)))
    return out


def _kid_of(token: str) -> str:
    kid = split(token).header.get("kid")
    return kid if isinstance(kid, str) else "(none)"


def _fetch_blocks(fetches: list[Exchange]) -> list:
    return [ExchangeBlock(f) for f in fetches]


def rotation_walkthrough(alg: str = "RS256", *, first: SigningKey | None = None,
                         clock: Callable[[], float] = clock_now,
                         verifier_clock: StoryClock | None = None,
                         cooldown: float = COOLDOWN) -> Iterator[Step]:
    """Yield the rotation demo's steps. Every request runs first, as one burst, and the steps are
    shown afterwards: --step pauses cannot move any clock the story depends on."""
    # Kids are whatever string the issuer picks (a thumbprint is common, RFC 7638); short names
    # keep the story readable.
    ring = KeyRing(from_private((first or make_signing_key(alg)).private, alg, "key-1"))
    auth = RotatingJwtAuth(ring, TOKEN_TTL, clock=clock)
    vclock = verifier_clock or StoryClock(clock())
    with AuthServer(auth) as issuer:
        cache = JwksCache(issuer.url + JWKS_PATH, clock=vclock, cooldown=cooldown)
        with AuthServer(JwksVerifier(cache)) as verifier:
            story = Story(issuer, auth, verifier, cache, vclock)
            try:
                steps = _story(story)
            finally:
                story.close()
    yield from steps


def _story(s: Story) -> list[Step]:
    steps = [_setup(s)]
    old_token, login = s.login()
    steps.append(step(1, "POST /login at the issuer: a token naming its key", [
        f"The token's header names the key that signed it, kid {_kid_of(old_token)!r} [^rfc7515-4.1.4]. "
        "The kid is not secret and proves nothing; it tells a verifier which published key to check "
        "the signature with.",
    ], ExchangeBlock(login), TokenBlock(inspect(split(old_token), None)),
        predict="The client logs in at the issuer."))
    steps += _first_uses(s, old_token)
    new_token, rotated = _rotate(s, steps)
    steps += _unknown_kid(s, new_token, rotated)
    steps += _withdraw(s, old_token, new_token)
    steps.append(_recap(s))
    return steps


def _setup(s: Story) -> Step:
    jwks = s.at_issuer("GET", JWKS_PATH, 200, "JWKS")
    return step(None, "Two real servers: an issuer and a verifier that holds no key", [
        f"The issuer on {s.issuer.url} signs tokens with {s.auth.key.alg} and publishes its public "
        f"keys as a JWK Set [^rfc7517-5] at {JWKS_PATH}, with Cache-Control: max-age={JWKS_MAX_AGE}: "
        "whoever fetches it may keep it that long [^rfc9111-5.2.2.1].",
        f"The verifier on {s.verifier.url} was given only that URL. It fetches the set when it needs "
        f"it, keeps it for the max-age, and fetches again for a kid it does not hold, but at most once "
        f"per {s.cache.cooldown:g} s. Its clock is one the story moves (shown as t+N s), so nothing waits "
        "on screen.",
    ], ExchangeBlock(jwks))


def _cache_table(s: Story) -> TableBlock:
    held = s.cache.snapshot()
    rows = [["verifier clock", s.clock.shown],
            ["kids held", ", ".join(held["kids"]) or "(none)"],
            ["fetched", "never" if held["fetched_at"] is None else
             f"t+{round(held['fetched_at'] - s.clock.start)} s, kept {held['max_age']:.0f} s"],
            ["JWKS requests so far", str(held["fetches"])]]
    return TableBlock(Table("The verifier's cache", ["", "now"], rows))


def _first_uses(s: Story, token: str) -> list[Step]:
    first, fetches = s.at_verifier(token, 200, "first use at the verifier")
    table = _cache_table(s)
    again, more = s.at_verifier(token, 200, "second use at the verifier")
    if len(fetches) != 1 or more:
        raise WalkthroughError(f"expected one JWKS fetch then none, got {len(fetches)} and {len(more)}")
    return [
        step(2, "GET /profile at the verifier: it fetches the key set", [
            "The verifier holds no key set yet, so before it can check the signature it asks the "
            "issuer for one. Below: the client's request to the verifier, then the verifier's own "
            "request to the issuer (as the issuer received it) and the answer it got.",
        ], ExchangeBlock(first), *_fetch_blocks(fetches), ChecksBlock(list(first.event(TokenChecked).checks), "The verifier's checks:"),
            table, predict="The client sends its token to the verifier, which holds no key yet."),
        step(3, "The same token again: served from the cache", [
            "The set is younger than its max-age, so the verifier sends no request to the issuer: "
            "a verifier costs the issuer one request per max-age, not one per token.",
        ], ExchangeBlock(again), _cache_table(s), predict="The client sends the same token to the verifier again."),
    ]


def _rotate(s: Story, steps: list[Step]) -> tuple[str, Exchange]:
    new = s.auth.rotate(kid="key-2")
    jwks = s.at_issuer("GET", JWKS_PATH, 200, "JWKS after rotation")
    token, login = s.login()
    steps.append(step(4, "The issuer rotates: two keys published, new tokens name the new kid", [
        f"The issuer made a new {new.alg} key pair and signs with it from now on. The JWKS lists both "
        "keys, so tokens signed with the old one keep verifying: the kid picks among a set's keys "
        "during a rollover [^rfc7517-4.5], and nobody is logged out. A fresh login gets a token whose header names the new kid.",
    ], ExchangeBlock(jwks), ExchangeBlock(login), TableBlock(Table("Tokens so far", ["token", "kid (header)"], [
        ["before rotation", _kid_of(steps[1].token.token)], ["after rotation", _kid_of(token)]])),
        predict="The issuer rotates its key; the client fetches the JWKS and logs in again."))
    return token, jwks


def _unknown_kid(s: Story, token: str, jwks: Exchange) -> list[Step]:
    refused, none = s.at_verifier(token, 401, "new kid inside the cooldown")
    flood: list[tuple[Exchange, list[Exchange]]] = []
    attacker = make_signing_key(s.auth.key.alg)
    for i in range(1, FLOOD + 1):
        forged = issue(attacker, {"sub": "1", "userId": 1}, {"kid": f"made-up-{i}"})
        flood.append(s.at_verifier(forged, 401, "an unknown kid", quiet=True))
    flood_fetches = sum(len(f) for _, f in flood)
    s.notes.append((len(s.arrows), f"{FLOOD} tokens with made-up kids to the verifier: {FLOOD} x 401, "
                                   f"{flood_fetches} JWKS requests"))
    s.timeline.append([s.clock.shown, f"{FLOOD} made-up kids", "cooldown", str(flood_fetches), "401"])
    during = _cache_table(s)
    s.clock.advance(s.cache.cooldown + 1)
    s.notes.append((len(s.arrows), f"the verifier's clock moves to {s.clock.shown}"))
    accepted, fetches = s.at_verifier(token, 200, "new kid after the cooldown")
    after = _cache_table(s)
    if none or flood_fetches or len(fetches) != 1:
        raise WalkthroughError("the verifier's fetches did not follow its rate limit")
    return [
        step(5, "The new kid at once: unknown, and no fetch yet", [
            f"The verifier's set lacks the new kid and its last fetch was under {s.cache.cooldown:g} s "
            "ago, so it refuses the token without asking the issuer. Then an attacker sends "
            f"{FLOOD} tokens, each with a made-up kid: each is refused, and the issuer receives no "
            "request. A verifier that fetched for every unknown kid would let anyone make it "
            "hammer the issuer. The cost is the other side: a new key can wait up to the cooldown, "
            "which is why an issuer publishes its next key well before it signs with it.",
        ], ExchangeBlock(refused), ExchangeBlock(flood[0][0]), TableBlock(Table(
            f"{FLOOD} tokens with made-up kids, sent to the verifier", ["", "count"],
            [["answered 401", str(sum(ex.response.status == 401 for ex, _ in flood))],
             ["JWKS requests the issuer received", str(flood_fetches)]])), during,
            predict="The client sends its new token (new kid) to the verifier at once; then a flood of "
                    "tokens with made-up kids."),
        step(6, f"{s.cache.cooldown + 1:g} s later: the unknown kid makes one fetch", [
            "The cooldown is over, so the unknown kid sends the verifier back to the JWKS URL "
            "[^oidc-core-10.1.1]; the set now holds both keys and the token verifies. The kid only "
            "picks among keys the verifier fetched from the URL it was given; it never names where "
            "to fetch from [^rfc8725-3.10].",
        ], ExchangeBlock(accepted), *_fetch_blocks(fetches), after,
            predict=f"The verifier's clock moves {s.cache.cooldown + 1:g} s ahead; the new token again."),
    ]


def _withdraw(s: Story, old: str, new: str) -> list[Step]:
    kid = _kid_of(old)
    s.auth.withdraw(kid)
    jwks = s.at_issuer("GET", JWKS_PATH, 200, "JWKS after withdrawal")
    at_issuer = s.at_issuer("GET", "/profile", 401, "old token at the issuer", headers={"Authorization": f"Bearer {old}"})
    still, none = s.at_verifier(old, 200, "old token at the verifier, cache fresh")
    held, before = s.cache.snapshot(), _cache_table(s)
    if none:
        raise WalkthroughError("the verifier fetched the set again while it was fresh")
    s.clock.now = held["fetched_at"] + held["max_age"] + 1
    s.notes.append((len(s.arrows), f"the verifier's clock moves to {s.clock.shown}, past the max-age"))
    refused, fetches = s.at_verifier(old, 401, "old token at the verifier, cache stale")
    current, _ = s.at_verifier(new, 200, "new token at the verifier")
    return [
        step(7, "The old key is withdrawn: the issuer refuses, the verifier not yet", [
            "The issuer takes the old key out of its JWKS. Its own check refuses the old token "
            "at once, with the reason in WWW-Authenticate [^rfc6750-3.1]. The verifier still holds "
            f"the set it fetched, younger than its max-age, and still accepts the old token: a withdrawn "
            f"key works at a verifier for up to max-age ({held['max_age']:.0f} s) more. Withdrawing a "
            "key is for retirement, not for a key that leaked: that needs a short max-age or a "
            "verifier told to fetch now.",
        ], ExchangeBlock(jwks), ExchangeBlock(at_issuer), ExchangeBlock(still), before,
            predict="The issuer withdraws the old key; the old token is sent to the issuer, then to the verifier."),
        step(8, "After max-age: the verifier fetches, and the old token gets 401", [
            "The verifier's copy is now older than its max-age, so the next token makes it fetch the "
            "set again; the old kid is gone from it and the old token is refused with the reason. "
            "Tokens with the new kid verify from the same fetch.",
        ], ExchangeBlock(refused), *_fetch_blocks(fetches), ExchangeBlock(current), _cache_table(s),
            predict="The verifier's clock moves past the max-age; the old token, then the new one."),
    ]


def _recap(s: Story) -> Step:
    return step(None, "Recap", [
        "Rotation with a JWKS: publish the new key, sign with it, keep the old one published until "
        "its tokens have expired, then withdraw it; verifiers follow through their caches. (This run "
        "withdrew the old key while its token still had minutes left, to show the 401.)",
    ], TableBlock(Table("Every token the verifier saw", ["verifier clock", "kid", "cache", "JWKS fetches", "status"],
                        s.timeline)),
        Sequence(["Client", "Issuer", "Verifier"], s.arrows, s.notes))
