"""Every defence the narration names: what it protects against and what it does not, one line
each, with its sources. Teachers ask students exactly that; a `Defences` block shows it where
the defence changes what happens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defence:
    """`protects` and `not_protects` are one sentence each; `sources` are keys of authcli.sources."""

    key: str
    name: str
    protects: str
    not_protects: str
    sources: tuple[str, ...] = ()


_ENTRIES = [
    # --- cookies, sessions, browsers, HTTPS, CSP (helper A adds here) ----------------------
    Defence("httponly", "HttpOnly",
            "page script cannot read the cookie (document.cookie), so an injected script cannot copy it out",
            "an injected script can still send requests that carry the cookie; malware or a browser "
            "extension on the machine can read the cookie store",
            ("rfc6265-4.1.2.6",)),
    Defence("samesite-lax", "SameSite=Lax",
            "the browser leaves the cookie off requests other sites start (form POSTs, frames, script), "
            "so a forged POST arrives without it",
            "a link followed from another site (a top-level GET) still carries it; requests from the same "
            "site (a sibling subdomain, another port of this host) are not cross-site; login CSRF needs "
            "no cookie at all",
            ("rfc6265bis-samesite",)),
    Defence("origin-check", "Origin check",
            "/login and /logout refuse a browser's request from another origin (the Origin or "
            "Sec-Fetch-Site header a browser adds) with 403, login CSRF (another site logging you into "
            "its account) included; /login also takes JSON only, which an HTML form cannot send",
            "clients that send no Origin (curl, scripts) are served, as they carry no victim's cookies; "
            "GET routes and script injected into this site's own pages are not covered",
            ("owasp-csrf", "fetch-metadata")),
    Defence("random-id", "Random 256-bit ID",
            "a live ID cannot be guessed or computed from another one",
            "a copied ID works as well as the original until the session ends",
            ("owasp-session-entropy",)),
    Defence("server-expiry", "Server-side expiry",
            "a copied cookie stops working at the deadline, whatever the client keeps or edits",
            "until the deadline a copy works as well as the original",
            ("owasp-session-expiration",)),
    Defence("idle-timeout", "Idle timeout",
            "a session left alone (a shared computer, a forgotten tab) ends after a short silence",
            "whoever keeps using the cookie, a thief included, keeps it alive up to the absolute timeout",
            ("owasp-session-expiration",)),
    Defence("new-id-at-login", "New ID at login",
            "an ID planted in the victim's browser before login (session fixation) is never the one "
            "that gets logged in",
            "an ID stolen after login works until the session ends",
            ("owasp-session-renew",)),
    Defence("logout-deletes", "Logout deletes the record",
            "the ID stops working at once, for every copy of the cookie",
            "what a copy did before logout stays done; the user's sessions on other devices go on",
            ("owasp-session-expiration",)),
    Defence("secure", "Secure",
            "the cookie is never sent over plain http:// to a real host name, where anyone on the network "
            "could read it",
            "what counts as secure is the browser's choice: Chromium and Firefox also send it to "
            "http://localhost (Chromium to 127.0.0.1 too, tested), Safari does not; it hides nothing from "
            "script in the page or malware on the machine; on its own it does not stop a sibling subdomain "
            "(or, in old browsers, a plain http:// page) from setting a cookie of the same name: that is "
            "__Host-'s job",
            ("rfc6265-4.1.2.5", "httpwg-2605", "webkit-281149")),
    Defence("host-prefix", "__Host- prefix",
            "the browser keeps a __Host- cookie only with Secure, Path=/ and no Domain, so a subdomain "
            "or a plain-http:// page on a real host name cannot plant or overwrite it",
            "any HTTPS service on the same host name, on any port, can still set it; on localhost "
            "browsers differ (Chromium accepts it from plain http://, tested)",
            ("rfc6265bis-4.1.3.2", "rfc6265-8.6", "httpwg-2605")),
    Defence("hsts", "HSTS",
            "after one HTTPS visit the browser itself turns http:// into https:// for that host name until "
            "max-age runs out, so a network attacker cannot strip TLS on later visits",
            "the first visit (and the first after max-age) is not protected, hence preload lists; "
            "subdomains only with includeSubDomains; an IP address such as 127.0.0.1 is never recorded",
            ("rfc6797-8.3", "rfc6797-8.1", "rfc6797-14.6")),
    Defence("csp-self", "CSP default-src 'self'",
            "inline script and script from other sites do not run: an injected <script> or onclick= is "
            "refused",
            "script files already on this origin can still be misused, and script run by an extension "
            "or a test driver (this demo's injected script) is outside the page's policy",
            ("csp3",)),
    Defence("frame-ancestors", "CSP frame-ancestors",
            "no other page can show this one in a frame, so it cannot be overlaid to trick clicks "
            "(clickjacking)",
            "other sites can still link to this one and send it requests",
            ("csp3",)),
    # --- JWT, refresh, passwords, lab (helper B adds here) ---------------------------------
    Defence("alg-allowlist", "The verifier's own algorithm list",
            "the token cannot choose how it is checked: alg none, or HS256 keyed with an RS256 server's "
            "public key, is refused before any key is used",
            "a token signed with an allowed algorithm and a stolen or guessed key passes; a list that "
            "mixes HMAC with RSA or EC for one key still allows confusion: each key needs its one algorithm",
            ("rfc8725-3.1",)),
    Defence("signature-check", "Signature check",
            "any change to the header or payload by someone without the key is detected: 401",
            "a copied token passes unchanged, and the payload stays readable by anyone (encoded, not encrypted)",
            ("rfc7515-5.2",)),
    Defence("exp-checked", "exp required and checked, lifetimes short",
            "a copied token stops working by itself at exp, with no server state",
            "until exp the copy works as well as the original, and logout cannot end it sooner",
            ("rfc7519-4.1.4",)),
    Defence("jti-denylist", "A denylist of jti values",
            "a revoked access token (logout, reuse detected) is refused at once, before its exp",
            "it costs a store lookup on every request that every server must reach; what a thief did "
            "before the revocation stays done",
            ("rfc7519-4.1.7", "owasp-jwt")),
    Defence("refresh-rotation", "Refresh token rotation with reuse detection",
            "a copied refresh token is caught the moment both parties have used it: the family is revoked",
            "until then the thief's copy works; a thief who refreshes first holds valid tokens until the "
            "user's next refresh",
            ("rfc9700-4.14.2",)),
    Defence("dpop", "DPoP: the token bound to the client's key",
            "a copied token alone is refused: each request needs a fresh proof signed by the private key "
            "the token names (cnf.jkt), and a captured proof is refused by its jti",
            "code running in the client (an injected script, malware) signs fresh proofs with the key, even "
            "a non-extractable one, and can send those proofs with the token to another machine; a server that keeps no jti cache takes a captured proof until its iat "
            "window closes",
            ("rfc9449-7.1", "rfc9449-11.4")),
    Defence("strong-secret", "A random 256-bit HMAC secret",
            "guessing it offline from a token: 2^255 tries on average",
            "a leaked secret (a repository, a log) signs tokens for any user, and every service that "
            "verifies must hold it",
            ("rfc7518-3.2", "rfc8725-3.5")),
    Defence("server-side-keys", "Keys only from the server's side",
            "a token cannot bring (jwk), fetch (jku) or point at (kid as a path) the key it is checked with",
            "a kid that only picks among the server's own keys is fine; a stolen server key still signs anything",
            ("portswigger-jwt",)),
    Defence("parameterised-query", "kid checked, then bound as a query parameter",
            "the token's kid reaches SQLite only if made of allowed characters, and only as a bound value "
            "(kid = ?), so its text never becomes SQL and cannot make the query return a key it chose",
            "a kid that names another real key still picks that key; other queries built from strings "
            "elsewhere in the application stay injectable",
            ("owasp-query-parameterization", "webgoat-jwt")),
    Defence("password-hash", "Salted Argon2id password hashes",
            "a copy of the user table does not give the passwords: every guess costs an Argon2id hash "
            "with 19 MiB of memory, per user, which graphics cards cannot cheapen the way they do fast hashes",
            "a guessable password (like the demo's 123) still falls in a few guesses",
            ("owasp-passwords",)),
    Defence("same-answer", "Unknown email: the same 401, after one hash too",
            "neither the answer nor its timing tells whether an email has an account",
            "other pages can still tell (a sign-up form saying the email is taken), and it does not "
            "slow password guessing",
            ("owasp-authentication",)),
    Defence("login-limits", "Failed-login limits (429)",
            "after 5 failures for one account from one address, or 50 from one address, /login answers "
            "429 with Retry-After until the 60 s window ends; the real user from another address is not "
            "counted with the attacker, and a correct login resets its account's count",
            "an attacker with many addresses gets 5 guesses per address per minute, and the real user "
            "sharing the attacker's address (one NAT) waits the window out; a password in every "
            "wordlist still falls sooner or later",
            ("owasp-account-lockout", "asvs-2.2.1")),
    # --- OAuth 2.0 --------------------------------------------------------------------------
    Defence("pkce", "PKCE (S256)",
            "a copied authorization code is refused without the code_verifier, which only the client "
            "that started the flow holds (the authorization request's URL carries only its SHA-256, the code_challenge)",
            "an attacker who starts the flow holds a verifier of their own: a code sent to their redirect "
            "URI, or obtained through a link they made, is theirs to redeem; nor does it stop XSS in the "
            "client, which acts as the user",
            ("rfc7636-4.6",)),
    Defence("exact-redirect", "Exact redirect URI matching",
            "codes go only to a redirect URI the client registered, compared character for character, so "
            "a link naming any other URL is refused before the user logs in",
            "a leak at the registered URI itself: an open redirect or attacker content on that page, "
            "its logs, its Referer",
            ("rfc9700-2.1",)),
    Defence("state-check", "state checked by the client",
            "the client app keeps a random state in the browser's session and refuses a callback whose "
            "state differs, so a code from a login another browser started is never redeemed here",
            "a state that leaks with the URL, an attacker who can run script on the client's own origin, "
            "or a code stolen and redeemed elsewhere (PKCE's job)",
            ("rfc6749-10.12", "rfc9700-2.1")),
    Defence("aud-check", "aud checked by the client",
            "the client app accepts an ID token only if its aud names the app's own client_id, so a token "
            "the same provider made for another app (one the attacker runs) logs no one in here",
            "a token made for this app itself and captured (the nonce's job), or an app that reads "
            "claims before checking the signature and issuer",
            ("oidc-core-3.1.3.7",)),
    Defence("nonce-check", "nonce checked by the client",
            "the client app sends a fresh nonce with each login, keeps it in that browser's session and "
            "accepts an ID token only if it carries that nonce, so a captured token is not replayed into "
            "another login",
            "an ID token stolen together with the victim's own session cookie (which holds the nonce), "
            "or an access token replayed at an API (the nonce binds the ID token to one login only)",
            ("oidc-core-3.1.3.7", "oidc-core-15.5.2")),
    Defence("no-implicit", "No implicit flow",
            "the authorization server answers response_type=code only: no access token is ever put in a "
            "URL, where the browser's history and every script on the page can read it",
            "a code in the URL leaks the same ways (PKCE is what makes a leaked code useless), and a "
            "token the client itself later puts in a URL or page",
            ("rfc9700-2.1.2",)),
]

DEFENCES: dict[str, Defence] = {d.key: d for d in _ENTRIES}
