"""Where each policy value of the fix-it file lives in the frameworks students use, with sources.

Keyed by the value's name in the file (`session.cookie.http_only`). Each setting is named as the
framework's own documentation names it; the marker points at that page in authcli.sources.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One framework's knob for a policy value: what it is called there, and where that is written."""

    framework: str
    name: str
    source: str  # a `[^key]` marker into authcli.sources


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "session.id_source": (
        Setting("express-session", "genid (a function that returns the new ID; keep it random)", "[^express-session]"),
    ),
    "session.adopt_client_id": (
        Setting("Spring Security", "sessionManagement's sessionFixation() (changeSessionId by default on Servlet 3.1+; "
                "none() is the mistake)",
                "[^spring-session-fixation]"),
        Setting("express-session", "req.session.regenerate() at login", "[^express-session]"),
        Setting("Django", "django.contrib.auth.login() calls request.session.cycle_key()", "[^django-sessions]"),
    ),
    "session.logout_deletes_record": (
        Setting("express-session", "req.session.destroy() at logout", "[^express-session]"),
        Setting("Django", "django.contrib.auth.logout() calls request.session.flush(); signed_cookies "
                "sessions have no record: a copied cookie outlives logout", "[^django-sessions]"),
    ),
    "session.server_expiry": (
        Setting("Django", "SESSION_COOKIE_AGE (each session's expiry on the server, counted from its last "
                "save; not only the cookie's)", "[^django-sessions]"),
        Setting("Flask", "PERMANENT_SESSION_LIFETIME (older signed cookies are refused; no record: "
                "logout cannot end a copy sooner)", "[^flask-config]"),
    ),
    "session.refuse_cross_site": (
        Setting("Django", "CsrfViewMiddleware: a POST whose Origin is neither the Host's nor in "
                "CSRF_TRUSTED_ORIGINS gets 403", "[^django-settings]"),
    ),
    "session.login_content_types": (),
    "session.name_unknown_email": (
        Setting("Spring Security", "hideUserNotFoundExceptions (true by default)", "[^spring-hide-user-not-found]"),
    ),
    "session.login_limits": (
        Setting("express-rate-limit", "limit and windowMs on the login route (counted per IP unless keyGenerator says otherwise)", "[^express-rate-limit]"),
    ),
    "session.cookie.http_only": (
        Setting("express-session", "cookie.httpOnly (true by default)", "[^express-session]"),
        Setting("Django", "SESSION_COOKIE_HTTPONLY (True by default)", "[^django-settings]"),
        Setting("Flask", "SESSION_COOKIE_HTTPONLY (True by default)", "[^flask-config]"),
    ),
    "session.cookie.same_site": (
        Setting("express-session", "cookie.sameSite (false by default: no attribute)", "[^express-session]"),
        Setting("Django", "SESSION_COOKIE_SAMESITE ('Lax' by default)", "[^django-settings]"),
        Setting("Flask", "SESSION_COOKIE_SAMESITE (None by default: no attribute)", "[^flask-config]"),
    ),
    "jwt.verify_signature": (
        Setting("PyJWT", 'jwt.decode(..., options={"verify_signature": False}) is the mistake', "[^pyjwt-api]"),
        Setting("jsonwebtoken", "jwt.verify(), never jwt.decode(), which does not check the signature", "[^jsonwebtoken]"),
    ),
    "jwt.accept_alg_none": (
        Setting("jsonwebtoken", 'the algorithms option of jwt.verify ("none" never in it)', "[^jsonwebtoken]"),
        Setting("PyJWT", 'algorithms= of jwt.decode, a fixed list ("none" never in it)', "[^pyjwt-api]"),
    ),
    "jwt.hmac_with_public_key": (
        Setting("jsonwebtoken", 'algorithms: ["RS256"] for an RSA key', "[^jsonwebtoken]"),
        Setting("PyJWT", 'algorithms=["RS256"] for an RSA key, never computed from the token', "[^pyjwt-api]"),
    ),
    "jwt.check_exp": (
        Setting("jsonwebtoken", "ignoreExpiration (false by default; true is the mistake); a token "
                "without exp passes anyway", "[^jsonwebtoken-verify]"),
        Setting("PyJWT", 'options={"require": ["exp"]}; "verify_exp": False is the mistake', "[^pyjwt-api]"),
    ),
    "jwt.key_from_token": (
        Setting("jose", "EmbeddedJWK trusts the key in the token's jwk header: opt-in, never for your own tokens", "[^jose-embedded-jwk]"),
        Setting("jose", "createRemoteJWKSet(url): a URL the server chose, never the token's jku", "[^jose-remote-jwks]"),
        Setting("jsonwebtoken", "secretOrPublicKey as a function of the header: look kid up among "
                "your keys, never as a path or in SQL", "[^jsonwebtoken]"),
    ),
    "oauth.require_pkce": (
        Setting("Authlib", "register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)]) (the default): "
                "public clients must send a code_verifier; confidential clients may still skip PKCE, and plain "
                "is accepted unless SUPPORTED_CODE_CHALLENGE_METHOD is narrowed to [\"S256\"]", "[^authlib-pkce]"),
    ),
    "oauth.redirect_match": (
        Setting("Authlib", "ClientMixin.check_redirect_uri, which you write: return redirect_uri in the "
                "registered list (Authlib's example and its SQLAlchemy mixin), never a startswith", "[^authlib-client]"),
    ),
    "oauth.allow_implicit": (),  # Authlib serves response_type=token only if ImplicitGrant is registered: not checked in its docs here
    "client.check_state": (),
    "client.use_pkce": (),
    "client.check_nonce": (),
    "client.check_aud": (),
    "jwt.hmac_secret": (
        Setting("jsonwebtoken", "secretOrPrivateKey of jwt.sign (and jwt.verify's secretOrPublicKey)", "[^jsonwebtoken]"),
        Setting("PyJWT", "key of jwt.encode and jwt.decode", "[^pyjwt-api]"),
    ),
}
