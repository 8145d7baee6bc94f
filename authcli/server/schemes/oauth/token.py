"""/token: the authorization code with its PKCE verifier (RFC 6749 4.1.3, RFC 7636 4.6), and
refresh tokens rotated with reuse detection (RFC 6749 6, RFC 9700 4.14.2); errors per RFC 6749 5.2."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any, Hashable

from authcli.events import Event, GrantChecked
from authcli.server.journal import Request, Response
from authcli.errors import OAuthError
from authcli.server.schemes.oauth.clients import Client
from authcli.server.schemes.oauth.wire import TOKEN_HEADERS, form, json_error
from authcli.server.transport.limits import address_key
from authcli.tokens.checks import Check
from authcli.tokens.idtoken import at_hash
from authcli.tokens.pkce import VERIFIER, matches
from authcli.tokens.signing import issue

if TYPE_CHECKING:
    from authcli.server.schemes.oauth.provider import OAuthProvider


def refresh_key(token: str) -> str:
    """Refresh tokens are kept by their SHA-256 only: a copy of the store redeems nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def token(provider: OAuthProvider, request: Request) -> Response:
    events: list[Event] = []
    checks: list[Check] = []
    grant = ""
    try:
        p = form(request)
        client = provider.registry.authenticate(request, p)
        checks.append(Check("client", True, "HTTP Basic: the secret matches the stored hash" if not client.public
                            else "a public client: client_id only, PKCE is its proof"))
        grant = p.get("grant_type", "")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant in ("authorization_code", "refresh_token") and grant not in client.grant_types:
            raise OAuthError("unauthorized_client", f"this client did not register the {grant} grant")
        if grant == "authorization_code":
            body = _code(provider, client, p, checks, address_key(request.peer))
        elif grant == "refresh_token":
            body = _refresh(provider, client, p, checks, address_key(request.peer))
        else:
            raise OAuthError("unsupported_grant_type", "this server takes authorization_code and refresh_token")
    except OAuthError as err:
        checks.append(Check(err.error, False, err.description))
        events.append(GrantChecked(f"{grant or 'token request'} refused: {err.error}: {err.description}",
                                   grant=grant[:40], error=err.error, checks=checks))
        return json_error(err, events)
    events.append(GrantChecked(f"{grant}: {', '.join(c.name for c in checks)} pass; tokens issued",
                               grant=grant, checks=checks))
    import json

    return Response(200, json.dumps(body, indent=1) + "\n", list(TOKEN_HEADERS), events)


def _code(provider: OAuthProvider, client: Client, p: dict[str, str], checks: list[Check],
          owner: Hashable) -> dict[str, Any]:
    code = p.get("code")
    if not code:
        raise OAuthError("invalid_request", "code is required")
    verifier = p.get("code_verifier")
    if verifier is not None and not VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_request", "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
    used: list[dict[str, Any]] = []

    def spend(record: dict[str, Any]) -> bool:
        if record["used"]:
            used.append(dict(record))
            # Revoking scans every refresh record: once per code, not once per replay (a used
            # code replayed in a loop was a scan of up to 10,000 records per request, on the loop).
            record["revoked"] = True
            return not used[0].get("revoked")
        record["used"] = True
        return True

    record = provider.codes.update(code, spend)
    if record is None:
        raise OAuthError("invalid_grant", "unknown or expired code")
    if used and used[0].get("revoked"):
        raise OAuthError("invalid_grant", "this code was already used, and what it gave is already revoked")
    if used:  # RFC 6749 4.1.2: a code used twice is refused, and what it gave is revoked
        family = record.get("family")
        n = provider.refresh.each(lambda r: r.get("family") == family, lambda r: r.update(revoked=True))
        raise OAuthError("invalid_grant", f"this code was already used: refused, and the {n} refresh "
                         "token(s) it gave revoked")
    if record["client_id"] != client.client_id:
        raise OAuthError("invalid_grant", "this code was issued to another client")
    checks.append(Check("code", True, "issued by this server to this client, unexpired, not used before"))
    if p.get("redirect_uri") != record["redirect_uri"]:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
    checks.append(Check("redirect_uri", True, "the same as in the authorization request"))
    if record["code_challenge"] is not None:
        if verifier is None:
            raise OAuthError("invalid_request", "code_verifier is required: the code was issued with a code_challenge")
        if not matches(verifier, record["code_challenge"]):
            raise OAuthError("invalid_grant", "BASE64URL(SHA-256(code_verifier)) is not the code_challenge")
        checks.append(Check("code_verifier", True, "BASE64URL(SHA-256(code_verifier)) equals the stored "
                            "code_challenge"))
    family = "fam-" + secrets.token_urlsafe(9)  # names a login's chain of refresh tokens
    provider.codes.update(code, lambda r: bool(r.update(family=family)) or True)
    return issue_tokens(provider, client, record["sub"], record["scope"], family, record["auth_time"],
                        nonce=record["nonce"], id_token=True, owner=owner)


def _refresh(provider: OAuthProvider, client: Client, p: dict[str, str], checks: list[Check],
             owner: Hashable) -> dict[str, Any]:
    given = p.get("refresh_token")
    if not given:
        raise OAuthError("invalid_request", "refresh_token is required")
    key = refresh_key(given)
    state: dict[str, Any] = {}

    def spend(record: dict[str, Any]) -> bool:
        state["was_used"] = record["used"]
        if record["used"] or record["revoked"] or record["client_id"] != client.client_id:
            return False
        record["used"] = provider.policy.rotate_refresh
        return True

    record = provider.refresh.update(key, spend)
    if record is None:
        raise OAuthError("invalid_grant", "unknown or expired refresh token")
    if record["client_id"] != client.client_id:
        raise OAuthError("invalid_grant", "this refresh token was issued to another client")
    if record["revoked"]:
        raise OAuthError("invalid_grant", "this refresh token was revoked (its family saw a reuse)")
    if state["was_used"]:
        if provider.policy.refresh_reuse_revokes:
            family = record["family"]
            n = provider.refresh.each(lambda r: r["family"] == family, lambda r: r.update(revoked=True))
            raise OAuthError("invalid_grant", f"this refresh token was already used: a reuse, so all {n} "
                             "tokens of its family are revoked")
        raise OAuthError("invalid_grant", "this refresh token was already used")
    checks.append(Check("refresh_token", True, "known (by its SHA-256), this client's, not used, not revoked"))
    scope = p.get("scope", record["scope"])
    if not set(scope.split()) <= set(record["scope"].split()) or not scope.split():
        raise OAuthError("invalid_scope", "a refresh may keep or narrow the scope, never widen it")
    if not provider.policy.rotate_refresh:
        return issue_tokens(provider, client, record["sub"], scope, record["family"], record["auth_time"], reuse=given,
                            owner=owner)
    body = issue_tokens(provider, client, record["sub"], scope, record["family"], record["auth_time"], prev=key,
                        owner=owner)
    # A family keeps two records: the active token and the one it replaced (a replay of that one
    # is the reuse to catch). Older ones go, so refreshing in a loop cannot fill the store.
    if record.get("prev"):
        provider.refresh.pop(record["prev"])
    return body


def issue_tokens(provider: OAuthProvider, client: Client, sub: str, scope: str, family: str, auth_time: int, *,
                 nonce: str | None = None, id_token: bool = False, reuse: str | None = None,
                 prev: str | None = None, owner: Hashable = "") -> dict[str, Any]:
    policy, key = provider.policy, provider.ring.current
    now = int(provider.clock())
    claims = {"iss": provider.issuer, "sub": sub, "aud": provider.audiences, "client_id": client.client_id,
              "scope": scope, "iat": now, "exp": now + policy.access_ttl, "jti": secrets.token_urlsafe(16)}
    access = issue(key, claims, {"typ": "at+jwt"})  # RFC 9068 2.1: not mistaken for an ID token
    body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": policy.access_ttl,
                            "scope": scope}
    if id_token and "openid" in scope.split():
        id_claims = {"iss": provider.issuer, "sub": sub, "aud": client.client_id, "iat": now,
                     "exp": now + policy.id_token_ttl, "auth_time": auth_time, "at_hash": at_hash(access)}
        if nonce is not None:
            id_claims["nonce"] = nonce
        body["id_token"] = issue(key, id_claims)
    if "refresh_token" not in client.grant_types:  # RFC 7591 2: it registered no refresh_token grant
        return body
    refresh = reuse or secrets.token_urlsafe(32)
    if reuse is None:
        provider.refresh.put(refresh_key(refresh), {"client_id": client.client_id, "sub": sub, "scope": scope,
                                                    "family": family, "auth_time": auth_time, "used": False,
                                                    "revoked": False, "prev": prev}, policy.refresh_ttl, owner)
    body["refresh_token"] = refresh
    return body
