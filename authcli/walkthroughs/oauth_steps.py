"""`demo oauth`'s steps and recap, made from the traffic walkthroughs/oauth.py ran."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

from authcli.events import BackChannel, GrantChecked, IdTokenChecked, TokenChecked
from authcli.tokens.claims import inspect
from authcli.tokens.parse import split
from authcli.walkthroughs.jwt import ENCODED_NOT_ENCRYPTED
from authcli.walkthroughs.model import (
    ChecksBlock, ClientStorage, ExchangeBlock, JarBlock, NothingStored, Sequence, Step, StoreBlock, Table,
    TableBlock, TokenBlock, step,
)

LANES = ["Browser", "Client app", "Authorization server", "API"]


def _pkce(r: SimpleNamespace) -> ClientStorage:
    """The verifier the app keeps and the challenge it sends, computed here from the very values used."""
    verifier = r.pending.rows[0].value["code_verifier"]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return ClientStorage({"code_verifier (kept)": verifier, "SHA-256(code_verifier)": digest.hex(),
                          "code_challenge (sent)": r.query["code_challenge"]},
                         "PKCE, computed by the app: the challenge is the SHA-256, base64url-encoded")


def _grant_checks(r: SimpleNamespace, exchange) -> ChecksBlock:
    return ChecksBlock(list(exchange.event(GrantChecked).checks), "The authorization server's checks:")


def steps(r: SimpleNamespace) -> list[Step]:
    return [
        step(1, "The client app registers itself", [
            "Three servers, three origins: the authorization server (AS) at " + r.as_server.url + ", the client "
            "app at " + r.app_server.url + ", the API at " + r.api_server.url + ". The app reads the AS's "
            "endpoints from its discovery document [^oidc-discovery-4], then registers [^rfc7591-3]: it names "
            "its redirect URI and gets a client_id and a client_secret, which stay on the app's server. This "
            "AS takes loopback redirect URIs only and compares them as exact strings [^rfc9700-2.1].",
        ], ExchangeBlock(r.register), ClientStorage({c["client_id"]: f"secret: {c['secret']}, redirect_uris: "
                                                    f"{', '.join(c['redirect_uris'])}" for c in r.clients},
                                                   "The AS's registered clients (its memory)"),
            predict="The app sends its redirect URI to the AS's registration endpoint."),
        step(2, "GET /login: off to the AS with state, nonce and a PKCE challenge", [
            "The app makes three random values and keeps them in a session of its own: state, which the "
            "callback must bring back, so a callback this browser did not start is refused [^rfc6749-10.12]; "
            "nonce, which the ID token must carry [^oidc-core-3.1.2.1]; and the code_verifier [^rfc7636-4.1], "
            "which stays on the app until the token request. Only its hash, the code_challenge, goes in the "
            "URL [^rfc7636-4.2].",
        ], ExchangeBlock(r.login), _pkce(r), StoreBlock(r.pending, "after the redirect"),
            predict="The user clicks 'Log in' on the app."),
        step(3, "GET /authorize at the AS: the login and consent page", [
            "The browser follows the redirect to another origin. Before showing anything the AS checks the "
            "request: a known client_id, a redirect_uri exactly as registered, response_type=code, an S256 "
            "code_challenge. The browser sends the app's cookie here too: cookies are kept per host, not per "
            "port [^rfc6265-8.5], so on one host name every server sees them.",
        ], ExchangeBlock(r.authorize), predict="The browser follows the Location header to the AS."),
        step(4, "POST /authorize: the password, the consent, and a one-time code", [
            "The user types the password at the AS, never at the app. The AS stores a code bound to the "
            "client, the redirect URI, the code_challenge and the nonce, for one use and "
            f"{r.provider.policy.code_ttl} seconds (RFC 6749 recommends 10 minutes at most) [^rfc6749-4.1.2], and sends the browser back with the code, the same state and iss, the AS's "
            "name [^rfc9207-2]. The code is in a URL, where history, logs and Referer can see it [^rfc9700-4.2] "
            "[^rfc9700-4.3]: short-lived, single-use, and useless without the verifier. Its own cookie, "
            "as_session, spares this browser the password (not the consent) at a login in the next "
            f"{r.provider.policy.login_ttl} s, unless the client sends prompt=login [^oidc-core-3.1.2.3].",
        ], ExchangeBlock(r.consent), StoreBlock(r.codes, "after the answer"),
            predict="The user types a@b.com / 123 and clicks Allow."),
        step(5, "GET /callback: state checked, the code redeemed, a new session", [
            "The app compares state with its session's: the same, so this browser started this login. "
            "Then, server to server, it redeems the code (step 6) and checks the ID token (step 7), and "
            "logs the user in under a new session ID. The tokens stay in the app's store: the browser holds "
            "two IDs, the app's cookie and the AS's.",
        ], ExchangeBlock(r.callback), JarBlock(r.browser.jar(), "The browser's cookie jar"),
            predict="The browser follows the redirect back to the app, with the code and state."),
        *_back_channel(r),
    ]


def _back_channel(r: SimpleNamespace) -> list[Step]:
    """Steps 6 to 9: what the app does server to server, and with the tokens."""
    _, codes, refresh = r.after_login
    return [
        step(6, "POST /token (back channel): code, code_verifier, client secret", [
            "The app authenticates with HTTP Basic [^rfc6749-2.3.1] and sends the code_verifier. The AS hashes "
            "it and compares with the stored code_challenge, so a copied code is useless without the verifier "
            "[^rfc7636-4.6]. The answer carries an access token (for the API), an ID token (for the app) and "
            "a refresh token, with Cache-Control: no-store [^rfc6749-5.1].",
        ], ExchangeBlock(r.token, events=False), _grant_checks(r, r.token), StoreBlock(codes, "after the token answer"),
            StoreBlock(refresh, "after the token answer"),
            predict="The app sends the code, its code_verifier and its credentials to the AS's /token."),
        _id_token_step(r),
        step(8, "GET /profile: the app calls the API with the access token", [
            "The API verifies the access token with the AS's published key (fetched once, then cached), and "
            "checks iss, aud (its own URL: a token for another API is refused) and typ at+jwt, so an ID token "
            "is not taken for an access token [^rfc9068-4]. It asks the AS nothing.",
        ], ExchangeBlock(r.profile, events=False), ExchangeBlock(r.api_call, events=False),
            ChecksBlock(list(r.api_call.event(TokenChecked).checks), "The API's checks:"),
            NothingStored("The API keeps only the AS's public keys, cached: nothing about the user or the "
                          "token, which carried everything (and which it cannot revoke before its exp)."),
            predict="The user opens their profile page; the app calls the API."),
        step(9, "A refresh: new tokens, and the old refresh token spent", [
            "Before the access token's exp the app trades the refresh token for new tokens [^rfc6749-6]. The "
            "AS rotates it: the old one is marked used and a new one issued, and if the old one ever comes "
            "back (a copy, replayed) the AS revokes the whole family [^rfc9700-4.14.2]. Access tokens already "
            "issued stay valid until their exp.",
        ], ExchangeBlock(r.refresh_token, events=False), _grant_checks(r, r.refresh_token),
            StoreBlock(r.after_refresh[1], "after the refresh"),
            predict="The app asks for new tokens with its refresh token."),
    ]


def _app_store(snapshot) -> ClientStorage:
    """The app's session store after the login: shown with its tokens shortened like any credential."""
    return ClientStorage({f'sessions["{row.key[:8]}..."]': json.dumps(row.value) for row in snapshot.rows},
                         "The client app's sessions (its memory), after the callback")


def _id_token_step(r: SimpleNamespace) -> Step:
    id_token = r.tokens["id_token"]
    return step(7, "The ID token, verified claim by claim", [
        "The ID token says who logged in. The app checks it as OIDC Core asks [^oidc-core-3.1.3.7]: the "
        "signature with the key the token's kid names in the AS's JWKS, iss the AS, aud this app's client_id, "
        "exp not passed, and nonce the value this login sent. " + ENCODED_NOT_ENCRYPTED,
    ], ExchangeBlock(r.jwks, events=False), ChecksBlock(list(r.callback.event(IdTokenChecked).checks),
                                                        "The app's checks of the ID token:"),
        TokenBlock(inspect(split(id_token), r.clock())), _app_store(r.after_login[0]))


def _sequence(r: SimpleNamespace) -> Sequence:
    lane = {r.app_server.url: "Client app", r.as_server.url: "Authorization server", r.api_server.url: "API"}
    messages: list[tuple[str, str, str, bool]] = []
    for ex in (r.login, r.authorize, r.consent, r.callback, r.profile, r.refresh):
        target = lane[ex.request.url[: len(ex.request.url) - len(ex.request.target)]]
        messages.append(("Browser", target, f"{ex.request.method} {ex.request.target.split('?')[0]}", False))
        for event in ex.events(BackChannel):
            inner = event.exchange
            to = lane[inner.request.url[: len(inner.request.url) - len(inner.request.target)]]
            messages.append((target, to, f"{inner.request.method} {inner.request.target.split('?')[0]}", False))
            messages.append((to, target, f"{inner.response.status} {inner.response.reason}", True))
        messages.append((target, "Browser", f"{ex.response.status} {ex.response.reason}", True))
    return Sequence(LANES, messages)


def recap(r: SimpleNamespace, shown: list[Step]) -> Step:
    rows = [["Browser", "the app's and the AS's cookies; the code, briefly, in a URL",
             "tokens, client_secret, code_verifier"],
            ["Client app", "client_secret, code_verifier (until redeemed), the tokens", "the password"],
            ["AS", "password hashes, codes, refresh token hashes, signing key", "the code_verifier before the token request (until then only its hash, the code_challenge)"],
            ["API", "the AS's public keys (cached)", "the password, the refresh token"]]
    return step(None, "Recap: who holds what", [
        "PKCE binds the code to the login that asked for it (only the holder of that login's code_verifier "
        "can redeem it), state binds the callback to the browser that "
        "started it, nonce binds the ID token to this login. None of them protects against script injected "
        "into the app's own pages (XSS), which acts as the user, nor against a compromised AS.",
    ], TableBlock(Table("Who holds what", ["party", "holds", "never sees"], rows)), _sequence(r))
