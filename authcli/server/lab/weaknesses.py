"""The attack lab's deliberate mistakes, by name: each is the hardened policy with other values.

A weak server is SessionAuth or JwtAuth built from these policies, never a second copy of the
server. Weak servers answer on loopback only (AuthServer refuses any other address) and mark
every response with X-Authcli-Weak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from authcli.errors import UsageError
from authcli.server.policy import HARDENED_JWT, HARDENED_SESSIONS, JwtPolicy, SessionPolicy

HANDOUT_SECRET = b"mySecretKey"


@dataclass(frozen=True)
class Weakness:
    """One mistake: its mode, a line saying what goes wrong, the policy values that make it, and
    the hardened line that prevents it."""

    name: str
    mode: str
    summary: str
    change: dict[str, Any] = field(default_factory=dict)
    defence: str = ""
    alg: str = "HS256"               # the server's signing algorithm for this lab (jwt mode)
    secret: bytes | None = None      # a fixed HS256 secret (the handout's), else a random one
    guards: tuple[str, ...] = ()     # the defences (authcli.defences) the hardened server uses here
    lesson: str = ""                 # the lab's lesson, one sentence; the policy value is its detail
    key_bits: int = 0                # an RSA key this small that publishes no JWKS (0: the usual key)
    needs: str = ""                  # an optional module the attacker's side imports (pyproject extra)

    @property
    def lesson_line(self) -> str:
        """`The hardened server ... (policy: name = value).`"""
        fix = self.fix
        return f"{self.lesson} (policy: {fix})." if "=" in fix else f"{self.lesson}."

    @property
    def fix(self) -> str:
        """The defence in a table cell: the policy value, without its class or its reason."""
        return re.sub(r"^\w+Policy\.", "", self.defence.split(":")[0])


WEAKNESSES = {w.name: w for w in [
    Weakness("no-verify", "jwt", "claims read without checking the signature (decode instead of verify)",
             {"verify_signature": False}, "JwtPolicy.verify_signature = True: the signature is checked first",
             guards=("signature-check",),
             lesson="The hardened server checks the signature before it trusts any claim"),
    Weakness("alg-none", "jwt", "an unsigned token (alg: none) is accepted",
             {"accept_alg_none": True}, "JwtPolicy.accept_alg_none = False: the verifier's "
             "allow-list never contains none", guards=("alg-allowlist",),
             lesson="The hardened server never accepts an unsigned token"),
    Weakness("weak-secret", "jwt", "HS256 with a guessable secret: the handout's mySecretKey",
             {}, "a random secret: 256 bits from secrets.token_urlsafe(32), in no wordlist",
             secret=HANDOUT_SECRET, guards=("strong-secret",),
             lesson="The hardened server signs with 256 random bits that no wordlist holds"),
    Weakness("jwk-header", "jwt", "the key is taken from the token's own jwk header",
             {"key_source": "jwk-header"}, "JwtPolicy.key_source = \"server\": keys come from the "
             "server's side, never from the token", alg="RS256", guards=("server-side-keys",),
             lesson="The hardened server takes its keys from its own side, never from the token"),
    Weakness("jku-header", "jwt", "the key set is fetched from the token's jku URL",
             {"key_source": "jku-header"}, "JwtPolicy.key_source = \"server\": a jku URL is never "
             "followed", alg="RS256", guards=("server-side-keys",),
             lesson="The hardened server never fetches a key from a URL the token names"),
    Weakness("kid-path", "jwt", "kid is used as a file path (../../../../dev/null gives an empty key)",
             {"key_source": "kid-path"}, "JwtPolicy.key_source = \"server\": kid only names a key "
             "the server already holds", guards=("server-side-keys",),
             lesson="The hardened server uses kid only to pick a key it already holds"),
    Weakness("kid-sql", "jwt", "kid is pasted into an SQL query that looks the key up in SQLite",
             {"key_source": "kid-sql"}, "JwtPolicy.key_source = \"server\": kid must look like the "
             "server's key names (letters, digits, - and _) and is bound as a parameter (kid = ?), never pasted into SQL",
             guards=("parameterised-query",),
             lesson="The hardened server takes only a kid shaped like its key names and binds it as a query parameter"),
    Weakness("alg-confusion", "jwt", "an RS256 server verifies HS256 with its public key as the secret",
             {"hmac_with_public_key": True}, "hmac_with_public_key = False: the allow-list is the key's "
             "own algorithm (RS256), so HS256 is refused before any key is used", alg="RS256",
             guards=("alg-allowlist",),
             lesson="The hardened server refuses HMAC when it holds an RSA key"),
    Weakness("alg-confusion-no-key", "jwt", "alg-confusion on a server that publishes no key: two of "
             "its tokens give the key away", {"hmac_with_public_key": True}, "hmac_with_public_key = "
             "False: the allow-list is the key's own algorithm (RS256); keeping the public key "
             "secret never was a defence", alg="RS256", guards=("alg-allowlist",), key_bits=512, needs="gmpy2",
             lesson="The hardened server refuses HMAC when it holds an RSA key, published or not"),
    Weakness("no-exp", "jwt", "expiry not checked: last year's token works",
             {"check_exp": False}, "JwtPolicy.check_exp = True: exp is required and checked",
             guards=("exp-checked",),
             lesson="The hardened server requires exp and checks it"),
    Weakness("predictable-id", "session", "session IDs from a counter: a neighbour's ID is one less",
             {"id_source": "counter"}, "SessionPolicy.id_source = \"secrets\": 256 random bits per ID",
             guards=("random-id",),
             lesson="The hardened server makes every session ID from 256 random bits"),
    Weakness("fixation", "session", "the server adopts a session ID the client brings to /login",
             {"adopt_client_id": True}, "SessionPolicy.adopt_client_id = False: /login always issues a new ID",
             guards=("new-id-at-login",),
             lesson="The hardened server issues a new session ID at every login"),
    Weakness("logout-cookie-only", "session", "logout clears the cookie but keeps the record",
             {"logout_deletes_record": False}, "SessionPolicy.logout_deletes_record = True",
             guards=("logout-deletes",),
             lesson="The hardened server deletes the session record at logout, not only the cookie"),
    Weakness("no-server-expiry", "session", "expiry only by the cookie's Max-Age, which a client can ignore",
             {"server_expiry": False}, "SessionPolicy.server_expiry = True: the store forgets the "
             "record at its deadline", guards=("server-expiry",),
             lesson="The hardened server ends a session at its own deadline, whatever the cookie says"),
    Weakness("no-httponly", "session", "the session cookie is readable by page script",
             {"cookie.http_only": False}, "CookiePolicy.http_only = True: document.cookie never shows it",
             guards=("httponly",),
             lesson="The hardened server keeps the session cookie out of page script's reach"),
    Weakness("login-csrf", "session", "no Origin check on /login, and form bodies are accepted",
             {"refuse_cross_site": False, "login_content_types": ("application/json", "text/plain")},
             "SessionPolicy.refuse_cross_site = True: another site's form gets 403 (and only JSON logins are read)",
             guards=("origin-check",),
             lesson="The hardened server refuses another site's login form"),
    Weakness("user-enum", "session", "/login says \"No user with this email\" (at once, unhashed) or "
             "\"Wrong password\"", {"name_unknown_email": True},
             "SessionPolicy.name_unknown_email = False: one answer for both, and an unknown email "
             "costs one Argon2id hash too", guards=("same-answer",),
             lesson="The hardened server gives one answer, after one hash, for a wrong password and an unknown email"),
    Weakness("no-rate-limit", "session", "/login takes unlimited password guesses",
             {"login_limits": None}, "SessionPolicy.login_limits = LoginLimits(): 5 failures per "
             "account+address, 50 per address, in a 60 s window, then 429 with Retry-After",
             guards=("login-limits",),
             lesson="The hardened server answers 429 after 5 failed logins per account and address, for 60 s at most"),
    Weakness("no-pkce", "oauth", "PKCE not required: a stolen authorization code of a public client (no secret) is redeemed by whoever holds it",
             {"require_pkce": False}, "OAuthPolicy.require_pkce = True: every authorization request carries a "
             "code_challenge, and its code is redeemed only with the code_verifier", guards=("pkce",),
             lesson="The hardened authorization server requires PKCE of every client"),
    Weakness("redirect-prefix", "oauth", "redirect URIs matched by prefix: the code goes where the attacker's "
             "link says", {"redirect_match": "prefix"}, "OAuthPolicy.redirect_match = \"exact\": only a "
             "redirect URI the client registered, character for character", guards=("exact-redirect",),
             lesson="The hardened authorization server compares redirect URIs as exact strings"),
    Weakness("no-state", "oauth", "the client app checks no state (and binds no PKCE verifier or nonce to the "
             "browser): the victim's browser finishes the attacker's login", {"client.check_state": False,
             "client.use_pkce": False, "client.check_nonce": False, "require_pkce": False},
             "RelyingPolicy.check_state = True: the callback's state must be the one this browser's login "
             "sent", guards=("state-check",),
             lesson="The hardened client app accepts a callback only with the state its own browser's login sent"),
    Weakness("wrong-aud", "oauth", "the client app takes an ID token without checking aud: a token made for "
             "another client logs its user in here", {"client.check_aud": False},
             "RelyingPolicy.check_aud = True: the ID token's aud must name this app's client_id",
             guards=("aud-check",),
             lesson="The hardened client app accepts only ID tokens whose aud names its own client_id"),
    Weakness("no-nonce", "oauth", "the client app takes an ID token without checking nonce: a captured token "
             "is replayed into another login", {"client.check_nonce": False},
             "RelyingPolicy.check_nonce = True: the ID token's nonce must be the one this browser's login sent",
             guards=("nonce-check",),
             lesson="The hardened client app accepts an ID token only with the nonce its own browser's login sent"),
    Weakness("implicit", "oauth", "the implicit flow: the access token itself comes back in the redirect URL's "
             "fragment", {"allow_implicit": True}, "OAuthPolicy.allow_implicit = False: response_type=code only, "
             "so only a one-use code, bound to PKCE, ever travels in a URL", guards=("no-implicit",),
             lesson="The hardened authorization server answers response_type=code only"),
]}


def known(names: list[str]) -> list[Weakness]:
    """The named weaknesses (each once), or a UsageError naming the unknown ones with the
    closest known name. `alg_confusion` and `ALG-NONE` are what people type: both are accepted."""
    import difflib

    typed = dict(zip((n.strip().lower().replace("_", "-") for n in names), names))
    names = list(typed)
    unknown = [n for n in names if n not in WEAKNESSES]
    if unknown:
        close = [difflib.get_close_matches(n, WEAKNESSES, n=1, cutoff=0.6) for n in unknown]
        unknown = [typed[n] for n in unknown]
        if all(close):
            guesses = ", ".join(c[0] for c in close)
            raise UsageError(f"unknown weakness {', '.join(unknown)}: did you mean {guesses}? "
                             "(authcli lab --list)")
        raise UsageError(f"unknown weakness {', '.join(unknown)}: choose from {', '.join(WEAKNESSES)} "
                         "(authcli lab --list)")
    return [WEAKNESSES[n] for n in dict.fromkeys(names)]


def _lookup(names: list[str]) -> list[Weakness]:
    chosen = known(names)
    modes = {w.mode for w in chosen}
    if len(modes) > 1:
        raise UsageError("session and JWT weaknesses need separate servers: "
                         + "; ".join(f"{m}: {', '.join(w.name for w in chosen if w.mode == m)}" for m in sorted(modes)))
    algs = {w.alg for w in chosen if w.mode == "jwt"}
    if len(algs) > 1:
        raise UsageError(f"these weaknesses need servers signing different algorithms ({', '.join(sorted(algs))})")
    return chosen


def parse(text: str) -> list[Weakness]:
    """`--weak a,b`: the named weaknesses, all of one mode, or a UsageError saying why not."""
    return _lookup([n.strip() for n in text.split(",") if n.strip()])


def _apply(policy: Any, change: dict[str, Any]) -> Any:
    for dotted, value in change.items():
        if "." in dotted:
            outer, inner = dotted.split(".", 1)
            policy = replace(policy, **{outer: _apply(getattr(policy, outer), {inner: value})})
        else:
            policy = replace(policy, **{dotted: value})
    return policy


def session_policy(weak: list[Weakness], base: SessionPolicy = HARDENED_SESSIONS) -> SessionPolicy:
    for w in weak:
        base = _apply(base, w.change)
    return base


def jwt_policy(weak: list[Weakness], base: JwtPolicy = HARDENED_JWT) -> JwtPolicy:
    for w in weak:
        base = _apply(base, w.change)
    return base


def oauth_policy(weak: list[Weakness]):
    """The authorization server's side of the weaknesses (a `client.` value is the client app's)."""
    from authcli.server.policy import HARDENED_OAUTH

    base = HARDENED_OAUTH
    for w in weak:
        base = _apply(base, {k: v for k, v in w.change.items() if not k.startswith("client.")})
    return base


def relying_policy(weak: list[Weakness]):
    """The client app's side of the weaknesses: their `client.` values."""
    from authcli.server.policy import HARDENED_RELYING

    base = HARDENED_RELYING
    for w in weak:
        base = _apply(base, {k[7:]: v for k, v in w.change.items() if k.startswith("client.")})
    return base
