"""The references narration points into: one entry per source, written once.

A sentence that states a fact about a standard, a browser or a recommendation carries a
marker `[^KEY]` (Markdown's footnote syntax) naming an entry here. The terminal shows the
entry's short tag, dimmed; Markdown and HTML handouts number them as footnotes and list them
at the end. `tests/test_sources.py` fails on a marker without an entry, an entry no text uses,
and a sentence that names an RFC without a marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """One reference: `short` is the terminal's tag, `title` and `url` the footnote."""

    key: str
    short: str
    title: str
    url: str


_ENTRIES = [
    # --- JWT, JOSE, OAuth, passwords, lab (helper B adds here) ---------------------------
    Source("rfc7519-4.1.4", "RFC 7519 §4.1.4", 'JSON Web Token (JWT), 4.1.4 "exp" (Expiration Time) Claim',
           "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4"),
    Source("rfc5905", "RFC 5905", "Network Time Protocol Version 4 (NTP keeps time within tens of "
           "milliseconds over the Internet)", "https://www.rfc-editor.org/rfc/rfc5905#section-1"),
    Source("rfc7519-2", "RFC 7519 §2", "JSON Web Token (JWT), 2 Terminology (NumericDate, StringOrURI)",
           "https://www.rfc-editor.org/rfc/rfc7519#section-2"),
    Source("rfc7519-4.1", "RFC 7519 §4.1", "JSON Web Token (JWT), 4.1 Registered Claim Names",
           "https://www.rfc-editor.org/rfc/rfc7519#section-4.1"),
    Source("rfc7519-4.1.3", "RFC 7519 §4.1.3", 'JSON Web Token (JWT), 4.1.3 "aud" (Audience) Claim',
           "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3"),
    Source("rfc7519-4.1.7", "RFC 7519 §4.1.7", 'JSON Web Token (JWT), 4.1.7 "jti" (JWT ID) Claim',
           "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.7"),
    Source("rfc7515-4.1.11", "RFC 7515 §4.1.11", 'JSON Web Signature (JWS), 4.1.11 "crit" (Critical) Header Parameter',
           "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.11"),
    Source("rfc7515-5.2", "RFC 7515 §5.2", "JSON Web Signature (JWS), 5.2 Message Signature or MAC Validation",
           "https://www.rfc-editor.org/rfc/rfc7515#section-5.2"),
    Source("rfc7515-4.1.4", "RFC 7515 §4.1.4", 'JSON Web Signature (JWS), 4.1.4 "kid" (Key ID) Header Parameter',
           "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4"),
    Source("rfc7517-5", "RFC 7517 §5", "JSON Web Key (JWK), 5 JWK Set Format",
           "https://www.rfc-editor.org/rfc/rfc7517#section-5"),
    Source("rfc7517-4.5", "RFC 7517 §4.5", 'JSON Web Key (JWK), 4.5 "kid" (Key ID) Parameter (choosing among '
           "keys during key rollover)", "https://www.rfc-editor.org/rfc/rfc7517#section-4.5"),
    Source("rfc9111-5.2.2.1", "RFC 9111 §5.2.2.1", "HTTP Caching, 5.2.2.1 max-age (response directive)",
           "https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.1"),
    Source("oidc-core-10.1.1", "OIDC Core §10.1.1", "OpenID Connect Core 1.0, 10.1.1 Rotation of Asymmetric "
           "Signing Keys (re-retrieve the JWKS on an unfamiliar kid; keep decommissioned keys a while)",
           "https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys"),
    Source("rfc7518-3.2", "RFC 7518 §3.2", "JSON Web Algorithms (JWA), 3.2 HMAC with SHA-2 Functions (key size)",
           "https://www.rfc-editor.org/rfc/rfc7518#section-3.2"),
    Source("rfc7518-3.6", "RFC 7518 §3.6", 'JSON Web Algorithms (JWA), 3.6 Using the Algorithm "none"',
           "https://www.rfc-editor.org/rfc/rfc7518#section-3.6"),
    Source("rfc8725-3.1", "RFC 8725 §3.1", "JSON Web Token Best Current Practices, 3.1 Perform Algorithm Verification",
           "https://www.rfc-editor.org/rfc/rfc8725#section-3.1"),
    Source("rfc8725-3.5", "RFC 8725 §3.5", "JSON Web Token Best Current Practices, 3.5 Ensure Cryptographic Keys "
           "Have Sufficient Entropy", "https://www.rfc-editor.org/rfc/rfc8725#section-3.5"),
    Source("rfc8725-3.10", "RFC 8725 §3.10", "JSON Web Token Best Current Practices, 3.10 Do Not Trust Received Claims",
           "https://www.rfc-editor.org/rfc/rfc8725#section-3.10"),
    Source("rfc6750-3.1", "RFC 6750 §3.1", "OAuth 2.0 Bearer Token Usage, 3.1 Error Codes (invalid_token)",
           "https://www.rfc-editor.org/rfc/rfc6750#section-3.1"),
    Source("rfc9700-4.14.2", "RFC 9700 §4.14.2", "OAuth 2.0 Security Best Current Practice, 4.14.2 Refresh Token "
           "Protection: Recommendations (rotation, reuse)", "https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2"),
    Source("rfc9449-4.2", "RFC 9449 §4.2", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 4.2 DPoP Proof JWT Syntax",
           "https://www.rfc-editor.org/rfc/rfc9449#section-4.2"),
    Source("rfc9449-4.3", "RFC 9449 §4.3", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 4.3 Checking DPoP Proofs",
           "https://www.rfc-editor.org/rfc/rfc9449#section-4.3"),
    Source("rfc9449-5", "RFC 9449 §5", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 5 DPoP Access Token Request",
           "https://www.rfc-editor.org/rfc/rfc9449#section-5"),
    Source("rfc9449-6.1", "RFC 9449 §6.1", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 6.1 JWK Thumbprint Confirmation Method (cnf.jkt)",
           "https://www.rfc-editor.org/rfc/rfc9449#section-6.1"),
    Source("rfc9449-7.1", "RFC 9449 §7.1", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 7.1 The DPoP Authentication Scheme",
           "https://www.rfc-editor.org/rfc/rfc9449#section-7.1"),
    Source("rfc9449-7.2", "RFC 9449 §7.2", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 7.2 Compatibility with the Bearer Authentication Scheme",
           "https://www.rfc-editor.org/rfc/rfc9449#section-7.2"),
    Source("rfc9449-11.1", "RFC 9449 §11.1", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 11.1 DPoP Proof Replay",
           "https://www.rfc-editor.org/rfc/rfc9449#section-11.1"),
    Source("rfc9449-11.2", "RFC 9449 §11.2", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 11.2 DPoP Proof Pre-generation",
           "https://www.rfc-editor.org/rfc/rfc9449#section-11.2"),
    Source("rfc9449-11.4", "RFC 9449 §11.4", "OAuth 2.0 Demonstrating Proof of Possession (DPoP), 11.4 Untrusted Code in the Client Context",
           "https://www.rfc-editor.org/rfc/rfc9449#section-11.4"),
    Source("rfc7638", "RFC 7638", "JSON Web Key (JWK) Thumbprint (SHA-256 over the key's required members)",
           "https://www.rfc-editor.org/rfc/rfc7638"),
    Source("rfc7516", "RFC 7516", "JSON Web Encryption (JWE): the encrypted JOSE token, five parts in compact form",
           "https://www.rfc-editor.org/rfc/rfc7516"),
    Source("owasp-jwt", "OWASP JWT cheat sheet", "OWASP Cheat Sheet Series: JSON Web Token for Java (none algorithm, "
           "revocation, weak secret)",
           "https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html"),
    Source("owasp-authentication", "OWASP Authentication", "OWASP Cheat Sheet Series: Authentication "
           "(error messages and response times that do not reveal accounts)",
           "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html"),
    Source("owasp-passwords", "OWASP Password Storage", "OWASP Cheat Sheet Series: Password Storage (Argon2id parameters)",
           "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html"),
    Source("django-sessions", "Django sessions", "Django documentation: How to use sessions "
           "(the database backend's django_session table; clearing the session store; cycle_key() at "
           "login, flush() at logout; get_expiry_age() is SESSION_COOKIE_AGE from the last modification; "
           "cookie-based sessions outlive logout)",
           "https://docs.djangoproject.com/en/stable/topics/http/sessions/"),
    Source("portswigger-jwt", "PortSwigger JWT attacks", "PortSwigger Web Security Academy: JWT attacks",
           "https://portswigger.net/web-security/jwt"),
    Source("portswigger-alg-confusion", "PortSwigger algorithm confusion", "PortSwigger Web Security Academy: "
           "Algorithm confusion attacks, Deriving public keys from existing tokens",
           "https://portswigger.net/web-security/jwt/algorithm-confusion#deriving-public-keys-from-existing-tokens"),
    Source("rfc8017-9.2", "RFC 8017 §9.2", "PKCS #1: RSA Cryptography Specifications Version 2.2, 9.2 EMSA-PKCS1-v1_5",
           "https://www.rfc-editor.org/rfc/rfc8017#section-9.2"),
    Source("rfc7518-3.3", "RFC 7518 §3.3", "JSON Web Algorithms (JWA), 3.3 Digital Signature with RSASSA-PKCS1-v1_5 "
           "(a key of 2048 bits or larger MUST be used)", "https://www.rfc-editor.org/rfc/rfc7518#section-3.3"),
    Source("portswigger-jwt-labs", "PortSwigger JWT labs", "PortSwigger Web Security Academy: the JWT labs",
           "https://portswigger.net/web-security/all-labs#jwt"),
    Source("owasp-query-parameterization", "OWASP Query Parameterization", "OWASP Cheat Sheet Series: "
           "Query Parameterization (bind values, never build SQL from strings)",
           "https://cheatsheetseries.owasp.org/cheatsheets/Query_Parameterization_Cheat_Sheet.html"),
    Source("webgoat-jwt", "WebGoat JWT lesson", "OWASP WebGoat: the JWT lesson's kid assignment (its "
           "endpoint pastes kid into SELECT key FROM jwt_keys WHERE id = '...')",
           "https://github.com/WebGoat/WebGoat/blob/main/src/main/java/org/owasp/webgoat/lessons/jwt/"
           "claimmisuse/JWTHeaderKIDEndpoint.java"),
    Source("sqlite-comments", "SQLite: comments", "SQLite SQL language: comments (-- to the end of "
           "the line)", "https://www.sqlite.org/lang_comment.html"),
    # The frameworks' own settings, named in the fix-it file (authcli/server/lab/frameworks.py).
    Source("express-session", "express-session", "expressjs/session README: options (cookie.httpOnly, "
           "cookie.sameSite, genid) and req.session.regenerate / destroy",
           "https://github.com/expressjs/session#readme"),
    Source("express-rate-limit", "express-rate-limit", "express-rate-limit README: the limit and windowMs options; keyGenerator (the client's IP by default)",
           "https://github.com/express-rate-limit/express-rate-limit#readme"),
    Source("django-settings", "Django settings", "Django documentation: Settings (SESSION_COOKIE_AGE, "
           "SESSION_COOKIE_HTTPONLY, SESSION_COOKIE_SAMESITE and their defaults; CSRF_TRUSTED_ORIGINS: "
           "an Origin header must match the Host's origin or be listed)",
           "https://docs.djangoproject.com/en/stable/ref/settings/"),
    Source("flask-config", "Flask configuration", "Flask documentation: Configuration Handling "
           "(SESSION_COOKIE_HTTPONLY, SESSION_COOKIE_SAMESITE and their defaults; PERMANENT_SESSION_LIFETIME: "
           "the signed cookie's signature may not be older)",
           "https://flask.palletsprojects.com/en/stable/config/"),
    Source("spring-session-fixation", "Spring Security session management", "Spring Security reference: "
           "Authentication Persistence and Session Management (session fixation protection)",
           "https://docs.spring.io/spring-security/reference/servlet/authentication/session-management.html"),
    Source("spring-hide-user-not-found", "Spring Security hideUserNotFoundExceptions", "Spring Security API: "
           "AbstractUserDetailsAuthenticationProvider.setHideUserNotFoundExceptions",
           "https://docs.spring.io/spring-security/site/apidocs/org/springframework/security/"
           "authentication/dao/AbstractUserDetailsAuthenticationProvider.html"),
    Source("jsonwebtoken", "jsonwebtoken", "auth0/node-jsonwebtoken README: jwt.verify options "
           "(algorithms, ignoreExpiration), jwt.decode, secretOrPublicKey as a function",
           "https://github.com/auth0/node-jsonwebtoken#readme"),
    Source("jsonwebtoken-verify", "jsonwebtoken verify.js", "auth0/node-jsonwebtoken verify.js: exp is "
           "checked only when the token has one (typeof payload.exp !== 'undefined'), unless ignoreExpiration",
           "https://github.com/auth0/node-jsonwebtoken/blob/master/verify.js"),
    Source("authlib-pkce", "Authlib CodeChallenge", "Authlib source, authlib/oauth2/rfc7636/challenge.py: the "
           "CodeChallenge extension (required=True, the default, forces a code_verifier on public clients "
           "only; a request with no code_challenge passes validate_code_challenge)",
           "https://github.com/authlib/authlib/blob/main/authlib/oauth2/rfc7636/challenge.py"),
    Source("authlib-client", "Authlib ClientMixin", "Authlib source, authlib/oauth2/rfc6749/models.py: "
           "ClientMixin.check_redirect_uri is abstract, written by the application (its example: membership "
           "in the registered list)", "https://github.com/authlib/authlib/blob/main/authlib/oauth2/rfc6749/models.py"),
    Source("pyjwt-api", "PyJWT API", "PyJWT documentation: API Reference (jwt.decode's algorithms and options)",
           "https://pyjwt.readthedocs.io/en/stable/api.html"),
    Source("jose-embedded-jwk", "jose EmbeddedJWK", "panva/jose documentation: EmbeddedJWK",
           "https://github.com/panva/jose/blob/main/docs/jwk/embedded/functions/EmbeddedJWK.md"),
    Source("jose-remote-jwks", "jose createRemoteJWKSet", "panva/jose documentation: createRemoteJWKSet",
           "https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md"),
    # --- cookies, sessions, browsers, HTTPS, CSP (helper A adds here) ----------------------
    Source("rfc6265-4.1.2.6", "RFC 6265 §4.1.2.6", "HTTP State Management Mechanism, 4.1.2.6 The HttpOnly Attribute",
           "https://www.rfc-editor.org/rfc/rfc6265#section-4.1.2.6"),
    Source("rfc6265-4.1.2.3", "RFC 6265 §4.1.2.3", "HTTP State Management Mechanism, 4.1.2.3 The Domain Attribute",
           "https://www.rfc-editor.org/rfc/rfc6265#section-4.1.2.3"),
    Source("rfc6265-4.1.2.5", "RFC 6265 §4.1.2.5", "HTTP State Management Mechanism, 4.1.2.5 The Secure Attribute",
           "https://www.rfc-editor.org/rfc/rfc6265#section-4.1.2.5"),
    Source("rfc6265-5.2.2", "RFC 6265 §5.2.2", "HTTP State Management Mechanism, 5.2.2 The Max-Age Attribute",
           "https://www.rfc-editor.org/rfc/rfc6265#section-5.2.2"),
    Source("rfc6265-8.6", "RFC 6265 §8.6", "HTTP State Management Mechanism, 8.6 Weak Integrity "
           "(a sibling subdomain can set a cookie for the parent domain)",
           "https://www.rfc-editor.org/rfc/rfc6265#section-8.6"),
    Source("rfc6265-8.5", "RFC 6265 §8.5", "HTTP State Management Mechanism, 8.5 Weak Confidentiality "
           "(cookies do not provide isolation by port)", "https://www.rfc-editor.org/rfc/rfc6265#section-8.5"),
    Source("rfc6265bis-samesite", "RFC 6265bis SameSite", "Cookies: HTTP State Management Mechanism "
           "(draft-ietf-httpbis-rfc6265bis-12), The SameSite Attribute",
           "https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis-12#name-the-samesite-attribute"),
    Source("rfc6265bis-4.1.3.2", "RFC 6265bis §4.1.3.2", "Cookies: HTTP State Management Mechanism "
           "(draft-ietf-httpbis-rfc6265bis-12), 4.1.3.2 The __Host- Prefix",
           "https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis-12#section-4.1.3.2"),
    Source("httpwg-2605", "httpwg #2605", "Inconsistent browser behavior with secure and prefix cookies "
           "(__Host- and __Secure-) on localhost (HTTP WG issue: Firefox, Chrome and Safari differ)",
           "https://github.com/httpwg/http-extensions/issues/2605"),
    Source("webkit-281149", "WebKit bug 281149", "Safari: cookies with Secure are not sent to http://localhost",
           "https://webkit.org/b/281149"),
    Source("mdn-set-cookie", "MDN Set-Cookie", "MDN Web Docs, Set-Cookie header (session cookies and "
           "session restore)", "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Set-Cookie"),
    Source("mdn-site", "MDN Site", "MDN Web Docs, Glossary: Site (scheme and registrable domain; the port does "
           "not count)", "https://developer.mozilla.org/en-US/docs/Glossary/Site"),
    Source("html-obtain-site", "HTML: obtain a site", "HTML Living Standard, obtain a site (a host with no "
           "registrable domain, such as 127.0.0.1 or localhost, is its own site, with its scheme)",
           "https://html.spec.whatwg.org/multipage/browsers.html#obtain-a-site"),
    Source("oidc-core-2", "OIDC Core §2", "OpenID Connect Core 1.0, 2 ID Token (auth_time: the time the "
           "End-User authentication occurred; iat: the time the JWT was issued)",
           "https://openid.net/specs/openid-connect-core-1_0.html#IDToken"),
    Source("fetch-metadata", "Fetch Metadata", "W3C, Fetch Metadata Request Headers (Sec-Fetch-Site, -Mode, -Dest)",
           "https://www.w3.org/TR/fetch-metadata/"),
    Source("owasp-csrf", "OWASP CSRF", "OWASP Cross-Site Request Forgery Prevention Cheat Sheet",
           "https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html"),
    Source("owasp-session-entropy", "OWASP Session: ID entropy", "OWASP Session Management Cheat Sheet, Session ID Entropy",
           "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#session-id-entropy"),
    Source("owasp-session-renew", "OWASP Session: renew ID", "OWASP Session Management Cheat Sheet, Renew the Session "
           "ID After Any Privilege Level Change", "https://cheatsheetseries.owasp.org/cheatsheets/"
           "Session_Management_Cheat_Sheet.html#renew-the-session-id-after-any-privilege-level-change"),
    Source("owasp-session-httponly", "OWASP Session: HttpOnly", "OWASP Session Management Cheat Sheet, HttpOnly "
           "Attribute (scripts cannot read the cookie through document.cookie; it prevents session ID stealing "
           "through XSS)", "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#httponly-attribute"),
    Source("html-text-plain", "HTML: text/plain form data", "WHATWG HTML Standard, the text/plain encoding "
           "algorithm (each field sent as name=value and a CRLF)",
           "https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#text/plain-encoding-algorithm"),
    Source("owasp-session-expiration", "OWASP Session: expiration", "OWASP Session Management Cheat Sheet, Session "
           "Expiration (idle, absolute and manual expiration)",
           "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#session-expiration"),
    Source("rfc9110-5.1", "RFC 9110 §5.1", "HTTP Semantics, 5.1 Field Names (case-insensitive)",
           "https://www.rfc-editor.org/rfc/rfc9110#section-5.1"),
    Source("haproxy-cookie", "HAProxy cookie", "HAProxy 2.6 Configuration Manual, 4.2 cookie (insert, indirect, "
           "nocache)", "https://docs.haproxy.org/2.6/configuration.html#4.2-cookie"),
    Source("haproxy-redispatch", "HAProxy redispatch", "HAProxy 2.6 Configuration Manual, 4.2 option redispatch",
           "https://docs.haproxy.org/2.6/configuration.html#4.2-option%20redispatch"),
    Source("csp3", "CSP3", "W3C, Content Security Policy Level 3", "https://www.w3.org/TR/CSP3/"),
    Source("rfc6797-8.1", "RFC 6797 §8.1", "HTTP Strict Transport Security (HSTS), 8.1 Strict-Transport-Security "
           "Response Header Field Processing (an IP address is never noted as an HSTS host)",
           "https://www.rfc-editor.org/rfc/rfc6797#section-8.1"),
    Source("owasp-hsts", "OWASP HSTS", "OWASP HTTP Strict Transport Security Cheat Sheet (max-age=31536000 in its examples)",
           "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Strict_Transport_Security_Cheat_Sheet.html"),
    Source("rfc6797-8.3", "RFC 6797 §8.3", "HTTP Strict Transport Security (HSTS), 8.3 URI Loading and Port Mapping (http:// becomes https:// for a Known HSTS Host)",
           "https://www.rfc-editor.org/rfc/rfc6797#section-8.3"),
    Source("rfc6797-14.6", "RFC 6797 §14.6", "HTTP Strict Transport Security (HSTS), 14.6 Bootstrap MITM "
           "Vulnerability (the first visit is not protected)", "https://www.rfc-editor.org/rfc/rfc6797#section-14.6"),
    Source("rfc6265bis-5.6", "RFC 6265bis §5.6", "Cookies: HTTP State Management Mechanism "
           "(draft-ietf-httpbis-rfc6265bis-22), 5.6 The Set-Cookie Header Field: a cookie whose name plus "
           "value is longer than 4096 octets is ignored entirely",
           "https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis-22#section-5.6"),
    Source("rfc9700-4.1.1", "RFC 9700 §4.1.1", "OAuth 2.0 Security Best Current Practice, 4.1.1 Redirect URI "
           "Validation Attacks on Authorization Code Grant (an attacker impersonating a public client "
           "exchanges the code for tokens)", "https://www.rfc-editor.org/rfc/rfc9700#section-4.1.1"),
    Source("rfc9700-4.2", "RFC 9700 §4.2", "OAuth 2.0 Security Best Current Practice, 4.2 Credential Leakage "
           "via Referer Headers", "https://www.rfc-editor.org/rfc/rfc9700#section-4.2"),
    Source("rfc9700-4.3", "RFC 9700 §4.3", "OAuth 2.0 Security Best Current Practice, 4.3 Credential Leakage "
           "via Browser History (the URL with the code may end up in the history)",
           "https://www.rfc-editor.org/rfc/rfc9700#section-4.3"),
    Source("rfc7515-4.1.2", "RFC 7515 §4.1.2", 'JSON Web Signature (JWS), 4.1.2 "jku" (JWK Set URL) Header '
           "Parameter", "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.2"),
    Source("owasp-session-content", "OWASP Session: ID content", "OWASP Session Management Cheat Sheet, "
           "Session ID Content (or Value): the meaning of a session ID is stored on the server side",
           "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#session-id-content-or-value"),
    Source("oauth-browser-bff", "OAuth Browser-Based Apps §6.1", "OAuth 2.0 for Browser-Based Applications "
           "(draft-ietf-oauth-browser-based-apps-22), 6.1 Backend For Frontend (BFF): the browser holds a "
           "session cookie, the backend holds the tokens",
           "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-browser-based-apps-22#section-6.1"),
    Source("owasp-account-lockout", "OWASP Authentication: lockout", "OWASP Cheat Sheet Series: "
           "Authentication, Account Lockout (limit failed attempts; a lockout an attacker can trigger "
           "denies the real user, so keep it short)",
           "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#account-lockout"),
    Source("asvs-2.2.1", "ASVS 4.0.3 V2.2.1", "OWASP Application Security Verification Standard 4.0.3, "
           "V2.2.1: anti-automation controls against credential stuffing and brute force, without "
           "enabling account lockout for others",
           "https://github.com/OWASP/ASVS/blob/v4.0.3/4.0/en/0x11-V2-Authentication.md"),
    # --- OAuth 2.0 and OpenID Connect (demo oauth, serve --mode oauth) -----------------------
    Source("rfc6749-2.3.1", "RFC 6749 §2.3.1", "The OAuth 2.0 Authorization Framework, 2.3.1 Client Password "
           "(HTTP Basic)", "https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1"),
    Source("rfc6749-4.1.2", "RFC 6749 §4.1.2", "The OAuth 2.0 Authorization Framework, 4.1.2 Authorization "
           "Response (the code: short-lived, one use)", "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2"),
    Source("rfc6749-5.1", "RFC 6749 §5.1", "The OAuth 2.0 Authorization Framework, 5.1 Successful Response "
           "(Cache-Control: no-store)", "https://www.rfc-editor.org/rfc/rfc6749#section-5.1"),
    Source("rfc6749-6", "RFC 6749 §6", "The OAuth 2.0 Authorization Framework, 6 Refreshing an Access Token",
           "https://www.rfc-editor.org/rfc/rfc6749#section-6"),
    Source("rfc6749-10.12", "RFC 6749 §10.12", "The OAuth 2.0 Authorization Framework, 10.12 Cross-Site Request "
           "Forgery (state)", "https://www.rfc-editor.org/rfc/rfc6749#section-10.12"),
    Source("rfc7636-4.1", "RFC 7636 §4.1", "Proof Key for Code Exchange (PKCE), 4.1 Client Creates a Code Verifier",
           "https://www.rfc-editor.org/rfc/rfc7636#section-4.1"),
    Source("rfc7636-4.2", "RFC 7636 §4.2", "Proof Key for Code Exchange (PKCE), 4.2 Client Creates the Code "
           "Challenge (S256)", "https://www.rfc-editor.org/rfc/rfc7636#section-4.2"),
    Source("rfc7636-4.6", "RFC 7636 §4.6", "Proof Key for Code Exchange (PKCE), 4.6 Server Verifies code_verifier "
           "before Returning the Tokens", "https://www.rfc-editor.org/rfc/rfc7636#section-4.6"),
    Source("rfc7591-3", "RFC 7591 §3", "OAuth 2.0 Dynamic Client Registration Protocol, 3 Client Registration "
           "Endpoint", "https://www.rfc-editor.org/rfc/rfc7591#section-3"),
    Source("rfc9068-4", "RFC 9068 §4", "JWT Profile for OAuth 2.0 Access Tokens, 4 Validating JWT Access Tokens "
           "(typ at+jwt, iss, aud)", "https://www.rfc-editor.org/rfc/rfc9068#section-4"),
    Source("rfc9207-2", "RFC 9207 §2", "OAuth 2.0 Authorization Server Issuer Identification, 2 Response "
           "Parameter iss", "https://www.rfc-editor.org/rfc/rfc9207#section-2"),
    Source("rfc9700-2.1", "RFC 9700 §2.1", "OAuth 2.0 Security Best Current Practice, 2.1 Protecting "
           "Redirect-Based Flows (exact redirect URI matching)", "https://www.rfc-editor.org/rfc/rfc9700#section-2.1"),
    Source("rfc9700-2.1.2", "RFC 9700 §2.1.2", "OAuth 2.0 Security Best Current Practice, 2.1.2 Implicit Grant "
           "(SHOULD NOT be used)", "https://www.rfc-editor.org/rfc/rfc9700#section-2.1.2"),
    Source("rfc6749-4.2.2", "RFC 6749 §4.2.2", "The OAuth 2.0 Authorization Framework, 4.2.2 Access Token "
           "Response (implicit grant: the token in the fragment)", "https://www.rfc-editor.org/rfc/rfc6749#section-4.2.2"),
    Source("referrer-policy-strip", "Referrer Policy §8.4", "W3C Referrer Policy, 8.4 Strip url for use as a "
           "referrer (the fragment is removed)", "https://www.w3.org/TR/referrer-policy/#strip-url"),
    Source("oidc-core-3.1.2.1", "OIDC Core §3.1.2.1", "OpenID Connect Core 1.0, 3.1.2.1 Authentication Request "
           "(nonce)", "https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest"),
    Source("rfc9700-4.3.1", "RFC 9700 §4.3.1", "OAuth 2.0 Security Best Current Practice, 4.3.1 Authorization "
           "Code in Browser History", "https://www.rfc-editor.org/rfc/rfc9700#section-4.3.1"),
    Source("mdn-referrer-policy", "MDN Referrer-Policy", "MDN Web Docs, Referrer-Policy header (the default, "
           "strict-origin-when-cross-origin: only the origin to another origin, nothing from HTTPS to HTTP)",
           "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Referrer-Policy"),
    Source("oidc-core-3.1.2.3", "OIDC Core §3.1.2.3", "OpenID Connect Core 1.0, 3.1.2.3 Authorization Server "
           "Authenticates End-User (an existing session may be used, unless prompt=login)",
           "https://openid.net/specs/openid-connect-core-1_0.html#Authenticates"),
    Source("oidc-core-3.1.2.4", "OIDC Core §3.1.2.4", "OpenID Connect Core 1.0, 3.1.2.4 Authorization Server "
           "Obtains End-User Consent/Authorization", "https://openid.net/specs/openid-connect-core-1_0.html#Consent"),
    Source("oidc-core-prompt", "OIDC Core §3.1.2.1 prompt", "OpenID Connect Core 1.0, 3.1.2.1 Authentication "
           "Request, the prompt parameter (none, login, consent, select_account)",
           "https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest"),
    Source("oidc-core-3.1.2.6", "OIDC Core §3.1.2.6", "OpenID Connect Core 1.0, 3.1.2.6 Authentication Error "
           "Response (login_required, consent_required)",
           "https://openid.net/specs/openid-connect-core-1_0.html#AuthError"),
    Source("oidc-core-3.1.3.6", "OIDC Core §3.1.3.6", "OpenID Connect Core 1.0, 3.1.3.6 ID Token (at_hash)",
           "https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken"),
    Source("oidc-core-3.1.3.7", "OIDC Core §3.1.3.7", "OpenID Connect Core 1.0, 3.1.3.7 ID Token Validation",
           "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation"),
    Source("oidc-core-15.5.2", "OIDC Core §15.5.2", "OpenID Connect Core 1.0, 15.5.2 Nonce Implementation Notes",
           "https://openid.net/specs/openid-connect-core-1_0.html#NonceNotes"),
    Source("oidc-core-5.3", "OIDC Core §5.3", "OpenID Connect Core 1.0, 5.3 UserInfo Endpoint",
           "https://openid.net/specs/openid-connect-core-1_0.html#UserInfo"),
    Source("oidc-core-5.4", "OIDC Core §5.4", "OpenID Connect Core 1.0, 5.4 Requesting Claims using Scope Values "
           "(email: the email and email_verified Claims)",
           "https://openid.net/specs/openid-connect-core-1_0.html#ScopeClaims"),
    Source("rfc6750-1.2", "RFC 6750 §1.2", "OAuth 2.0 Bearer Token Usage, 1.2 Terminology (Bearer Token)",
           "https://www.rfc-editor.org/rfc/rfc6750#section-1.2"),
    Source("oidc-discovery-4", "OIDC Discovery §4", "OpenID Connect Discovery 1.0, 4 Obtaining OpenID Provider "
           "Configuration Information", "https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig"),
]

SOURCES: dict[str, Source] = {s.key: s for s in _ENTRIES}

# `[^rfc7519-4.1.4]`: a key is lower-case letters, digits, dots and dashes.
MARKER = re.compile(r"\[\^([a-z0-9][a-z0-9.-]*)\]")


def keys_in(text: str) -> list[str]:
    """The source keys a text points at, in order."""
    return MARKER.findall(text)
