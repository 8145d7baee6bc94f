"""/authorize: the authorization request checked (RFC 6749 4.1.1, RFC 7636 4.3, OIDC Core
3.1.2), a login and consent page, and the form's answer: a code, or an error, at the redirect URI."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable
from urllib.parse import urlsplit

from authcli.events import AuthorizationChecked, CodeIssued, CredentialsChecked, Event, SessionCreated
from authcli.server.journal import Request, Response
from authcli.server.routes import NO_STORE, refuse_cross_site
from authcli.server.schemes.cookies import read_cookie, set_named_cookie
from authcli.server.throttle import client_address, gate
from authcli.errors import NoRedirect, OAuthError
from authcli.server.schemes.oauth.clients import Client, loopback_uri
from authcli.server.schemes.oauth.wire import form, query, redirect
from authcli.server.transport.limits import address_key
from authcli.tokens.pkce import CHALLENGE

if TYPE_CHECKING:
    from authcli.server.schemes.oauth.provider import OAuthProvider

SCOPES = ("openid", "email", "profile")
REQUEST_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                  "code_challenge_method", "prompt", "max_age")
PROMPTS = ("none", "login", "consent")  # OIDC Core 3.1.2.1 (select_account: one account per browser here)
MAX_VALUE = 512  # state, nonce: opaque to the server, but bounded


@dataclass(frozen=True)
class AuthRequest:
    client: Client
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    challenge: str | None
    method: str | None
    response_type: str = "code"
    prompt: tuple[str, ...] = ()
    max_age: int | None = None  # OIDC Core 3.1.2.1: seconds since the user last typed the password


@dataclass(frozen=True)
class SignIn:
    """This browser's sign-in at the AS, from its login cookie: who, and since when (auth_time)."""

    sid: str
    sub: str
    email: str
    auth_time: int


def _redirect_ok(provider: OAuthProvider, client: Client, uri: str) -> bool:
    if provider.policy.redirect_match == "prefix":  # the lab's mistake: any URI that starts like one
        try:
            loopback_uri(uri)  # still a loopback URL with nothing a header could not carry
        except OAuthError:
            return False
        return any(uri.startswith(r) for r in client.redirect_uris)
    return uri in client.redirect_uris  # RFC 9700 2.1: exact string comparison


def check(provider: OAuthProvider, p: dict[str, str]) -> AuthRequest:
    """The request's parameters, checked in the order the RFCs give: who and where first (NoRedirect)."""
    client = provider.registry.get(p.get("client_id"))
    if client is None:
        raise NoRedirect("invalid_request", "unknown or missing client_id")
    uri = p.get("redirect_uri")
    if uri is None or not _redirect_ok(provider, client, uri):
        raise NoRedirect("invalid_request", "redirect_uri is missing or is not one this client registered")
    for name in ("state", "nonce", "scope"):
        if len(p.get(name, "")) > MAX_VALUE:
            raise OAuthError("invalid_request", f"{name} is longer than {MAX_VALUE} characters")
    implicit = p.get("response_type") == "token" and provider.policy.allow_implicit  # the lab's weak AS only
    if p.get("response_type") != "code" and not implicit:
        raise OAuthError("unsupported_response_type" if "response_type" in p else "invalid_request",
                         "this server supports response_type=code only (no implicit flow)")
    scope = p.get("scope", "openid")
    if not scope.split() or any(s not in SCOPES for s in scope.split()):
        raise OAuthError("invalid_scope", f"scopes this server knows: {' '.join(SCOPES)}")
    prompt = tuple(p.get("prompt", "").split())
    if any(v not in PROMPTS for v in prompt) or ("none" in prompt and len(prompt) > 1):
        raise OAuthError("invalid_request", "this server takes prompt=none, or login and/or consent (not select_account)")
    max_age = p.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) <= 9):
        raise OAuthError("invalid_request", "max_age is a number of seconds")
    challenge, method = p.get("code_challenge"), p.get("code_challenge_method")
    if challenge is None and provider.policy.require_pkce and not implicit:
        raise OAuthError("invalid_request", "code_challenge is required (PKCE, for every client)")
    if challenge is not None:
        method = method or "plain"
        if method not in provider.policy.pkce_methods:
            raise OAuthError("invalid_request", f"code_challenge_method must be {' or '.join(provider.policy.pkce_methods)}")
        if not CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "code_challenge must be 43 base64url characters (an S256 hash)")
    return AuthRequest(client, uri, " ".join(dict.fromkeys(scope.split())), p.get("state"), p.get("nonce"),
                       challenge, method, "token" if implicit else "code", prompt,
                       int(max_age) if max_age is not None else None)


def _refused(err: OAuthError, p: dict[str, str], events: list[Event]) -> Response:
    events.append(AuthorizationChecked(f"refused: {err.error}: {err.description}", client_id=p.get("client_id", "")[:60],
                                       error=err.error))
    return Response(400, f"Authorization request refused ({err.error}): {err.description}\n",
                    [("Content-Type", "text/plain; charset=utf-8"), NO_STORE], events)


def _error_redirect(req: AuthRequest, err: OAuthError, issuer: str, events: list[Event]) -> Response:
    events.append(AuthorizationChecked(f"{err.error}: {err.description} -> back to the client",
                                       client_id=req.client.client_id, error=err.error))
    values = {"error": err.error, "error_description": err.description, "iss": issuer}
    return redirect(req.redirect_uri, {**values, **({"state": req.state} if req.state is not None else {})}, events)


def page(provider: OAuthProvider, p: dict[str, str], req: AuthRequest, message: str = "",
         signed_in: SignIn | None = None) -> str:
    """The login and consent page; for a browser already signed in here, the consent alone."""
    hidden = "".join(f'<input type="hidden" name="{n}" value="{html.escape(p[n])}">' for n in REQUEST_PARAMS if n in p)
    who = html.escape(req.client.name or req.client.client_id)
    said = f'<p class="error">{html.escape(message)}</p>' if message else ""
    fields = ('<input name="email" placeholder="email"><input name="password" type="password">' if signed_in is None
              else f'<p id="signed-in">Signed in as {html.escape(signed_in.email)}</p>')
    return (f'<!doctype html><meta charset="utf-8"><title>Sign in</title><link rel="stylesheet" href="/style.css">'
            f"<h1>{'Sign in' if signed_in is None else 'Allow access?'}</h1><p><b>{who}</b> asks for "
            f"{html.escape(req.scope)}, back to {html.escape(req.redirect_uri)}</p>{said}"
            f'<form method="post" action="/authorize">{hidden}{fields}'
            '<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button>'
            "</form>\n")


def signed_in(provider: OAuthProvider, request: Request, req: AuthRequest) -> SignIn | None:
    """The browser's sign-in at this AS, if its login cookie names a live one and the client did
    not ask for a fresh login (prompt=login, or a max_age it is older than: OIDC Core 3.1.2.3)."""
    if not provider.policy.login_ttl or "login" in req.prompt:
        return None
    sid = read_cookie(request.header_values("Cookie"), provider.login_cookie.name)
    record = provider.logins.get(sid) if sid and len(sid) <= 64 else None
    if record is None or (req.max_age is not None and provider.clock() - record["auth_time"] > req.max_age):
        return None
    return SignIn(sid, record["sub"], record["email"], record["auth_time"])


def _page_headers(req: AuthRequest) -> list[tuple[str, str]]:
    # The form posts here and its answer redirects to the client: form-action must allow both.
    target = urlsplit(req.redirect_uri)
    csp = (f"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
           f"form-action 'self' {target.scheme}://{target.netloc}")
    return [("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", csp), NO_STORE]


def _checked(provider: OAuthProvider, read: Callable[[Request], dict[str, str]], request: Request,
             events: list[Event]) -> tuple[dict[str, str], AuthRequest | Response]:
    """The parameters `read` from the request and the request checked, or the answer refusing it:
    an error redirect where client_id and redirect_uri allow one (RFC 6749 4.1.2.1), else a page."""
    p: dict[str, str] = {}
    try:
        p = read(request)
        return p, check(provider, p)
    except NoRedirect as err:
        return p, _refused(err, p, events)
    except OAuthError as err:
        try:
            return p, _error_redirect(check_who(provider, p), err, provider.issuer, events)
        except OAuthError:
            return p, _refused(err, p, events)


def show(provider: OAuthProvider, request: Request) -> Response:
    """GET /authorize: check the request, then the login and consent page."""
    events: list[Event] = []
    p, req = _checked(provider, query, request, events)
    if isinstance(req, Response):
        return req
    known = signed_in(provider, request, req)
    if "none" in req.prompt:  # OIDC Core 3.1.2.6: no page at all, and this AS asks consent every time
        err = OAuthError("login_required", "prompt=none, and this browser has no sign-in here recent enough (none, or older than max_age)") if known is None \
            else OAuthError("consent_required", "prompt=none, and this server asks for consent on every login")
        return _error_redirect(req, err, provider.issuer, events)
    what = ("the login and consent page" if known is None
            else f"signed in here since {known.auth_time} (login cookie): the consent page, no password")
    events.append(AuthorizationChecked(f"client {req.client.client_id[:12]}..., redirect_uri registered, "
                                       f"scope {req.scope}, PKCE {req.method or 'none'}: {what}",
                                       client_id=req.client.client_id))
    return Response(200, page(provider, p, req, signed_in=known), _page_headers(req), events)


def check_who(provider: OAuthProvider, p: dict[str, str]) -> AuthRequest:
    """Only client_id and redirect_uri: where an error about the rest may be sent."""
    client = provider.registry.get(p.get("client_id"))
    uri = p.get("redirect_uri")
    if client is None or uri is None or not _redirect_ok(provider, client, uri):
        raise NoRedirect("invalid_request", "unknown client or redirect_uri")
    state = p.get("state")
    return AuthRequest(client, uri, "", state if state is None or len(state) <= MAX_VALUE else None,
                       None, None, None)


def submit(provider: OAuthProvider, request: Request) -> Response:
    """POST /authorize: the user's credentials and decision; a code on the way back."""
    events: list[Event] = []
    if provider.policy.refuse_cross_site:
        refuse_cross_site(request)
    p, req = _checked(provider, form, request, events)
    if isinstance(req, Response):
        return req
    if p.get("decision") == "deny":
        return _error_redirect(req, OAuthError("access_denied", "the user said no"), provider.issuer, events)
    email, password = p.get("email", "")[:256], p.get("password", "")[:256]
    known = signed_in(provider, request, req)
    cookie, owner = None, address_key(request.peer)
    if known is not None and not (email or password):
        events.append(CredentialsChecked(f"no password asked: this browser signed in as {known.email} at "
                                         f"{known.auth_time} (login cookie {known.sid[:8]}...)",
                                         user_id=int(known.sub)))
        sub, auth_time = known.sub, known.auth_time
    else:
        refused = gate(provider.throttle, email, request)
        if refused is not None:
            return refused
        user = provider.users.check(email, password, provider.hashing) if email and password else None
        if user is None:
            if provider.throttle is not None:
                provider.throttle.failed(email, client_address(request))
            events.append(CredentialsChecked("no user with this email and password -> the page again"))
            return Response(401, page(provider, p, req, "Wrong email or password"), _page_headers(req), events)
        if provider.throttle is not None:
            provider.throttle.succeeded(email, client_address(request))
        events.append(CredentialsChecked(f"{email}: password matches the stored Argon2id hash", user_id=user.user_id))
        sub, auth_time = str(user.user_id), int(provider.clock())
        cookie = _sign_in(provider, known, sub, user.email, auth_time, events, owner)
    if req.response_type == "token":
        answer = _implicit(provider, req, int(sub), events, owner)
    else:
        answer = _code(provider, req, sub, auth_time, events, owner)
    if cookie is not None:
        answer.headers.append(("Set-Cookie", cookie))
    return answer


def _sign_in(provider: OAuthProvider, old: SignIn | None, sub: str, email: str, auth_time: int,
             events: list[Event], owner: Hashable) -> str | None:
    """A new login session at the AS (a new ID at every password login; the old one ends, unless prompt=login or max_age hid it): its Set-Cookie."""
    if not provider.policy.login_ttl:
        return None
    if old is not None:
        provider.logins.pop(old.sid)
    sid = secrets.token_urlsafe(32)
    record = {"sub": sub, "email": email, "auth_time": auth_time}
    provider.logins.put(sid, record, provider.policy.login_ttl, owner)
    events.append(SessionCreated(f"login session {sid[:8]}... stored: this browser is signed in here for "
                                 f"{provider.policy.login_ttl} s", session_id=sid, record=record,
                                 ttl=provider.policy.login_ttl))
    return set_named_cookie(sid, provider.login_cookie)


def _implicit(provider: OAuthProvider, req: AuthRequest, user_id: int, events: list[Event],
              owner: Hashable) -> Response:
    """The lab's weak AS: the access token itself in the redirect's fragment (RFC 6749 4.2.2)."""
    from urllib.parse import urlencode

    from authcli.server.schemes.oauth.token import issue_tokens

    body = issue_tokens(provider, req.client, str(user_id), req.scope, "", int(provider.clock()), owner=owner)
    events.append(CodeIssued("implicit flow: the access token goes in the redirect URL's fragment", record={}))
    values = {"access_token": body["access_token"], "token_type": "Bearer", "expires_in": str(body["expires_in"]),
              "scope": req.scope, **({"state": req.state} if req.state is not None else {})}
    return Response(302, "", [("Location", f"{req.redirect_uri}#{urlencode(values)}"), NO_STORE], events)


def _code(provider: OAuthProvider, req: AuthRequest, sub: str, auth_time: int, events: list[Event],
          owner: Hashable) -> Response:
    code = secrets.token_urlsafe(32)
    record = {"client_id": req.client.client_id, "redirect_uri": req.redirect_uri, "scope": req.scope,
              "sub": sub, "auth_time": auth_time, "code_challenge": req.challenge,
              "code_challenge_method": req.method, "nonce": req.nonce, "used": False}
    provider.codes.put(code, record, provider.policy.code_ttl, owner)
    bound = (", its redirect_uri and code_challenge" if req.challenge else
             " and its redirect_uri, with no code_challenge (no PKCE)")
    events.append(CodeIssued(f"code stored for {provider.policy.code_ttl} s, bound to the client{bound}; one use",
                             record=record))
    values = {"code": code, **({"state": req.state} if req.state is not None else {}), "iss": provider.issuer}
    return redirect(req.redirect_uri, values, events)
