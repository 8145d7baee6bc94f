"""The concept check: multiple-choice items on the handout's ideas, kept as data.

Each item names its source (a key of authcli/sources.py) and, for each wrong option, the
misconception choosing it points at, so a report can say what the class still believes, not
only what it got wrong. The same items run before (`--pre`) and after (`--post`) the demos;
answers are not revealed after the pre check, so the post check measures the demos, not a
second reading of the key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    key: str
    prompt: str
    options: dict[str, str]          # letter -> option text
    answer: str                      # the right letter
    misconceptions: dict[str, str]   # wrong letter -> the belief it stands for
    source: str                      # a key of authcli.sources.SOURCES


def _item(key: str, prompt: str, source: str, answer: str, *options: tuple[str, str]) -> Item:
    """Options as (text, misconception) pairs lettered a, b, c, d; the right one's misconception is ""."""
    letters = "abcd"
    return Item(key, prompt, {letters[i]: text for i, (text, _) in enumerate(options)}, answer,
                {letters[i]: wrong for i, (_, wrong) in enumerate(options) if letters[i] != answer}, source)


ITEMS: tuple[Item, ...] = (
    _item("session-lives", "After a session login, where does the user's data (userId) live?", "owasp-session-content", "b",
          ("Inside the cookie, encoded", "the cookie carries the user's data"),
          ("In the server's session store, under the session ID", ""),
          ("In the browser's localStorage", "sessions are kept on the client"),
          ("Nowhere: the server recomputes it from the password", "the server re-authenticates every request")),
    _item("session-id", "What does a session ID tell the server by itself, before any lookup?", "owasp-session-content", "c",
          ("The user's ID, once decoded", "the ID encodes who the user is"),
          ("When the session expires", "the ID carries its own expiry"),
          ("Nothing: it is a random key into the store", ""),
          ("The user's password hash", "the ID is derived from the password")),
    _item("httponly", "What does the HttpOnly cookie attribute stop?", "mdn-set-cookie", "a",
          ("Scripts in the page reading the cookie (document.cookie)", ""),
          ("The cookie being sent over plain HTTP", "HttpOnly means HTTPS only (that is Secure)"),
          ("Other sites' requests carrying the cookie", "HttpOnly stops CSRF (that is SameSite)"),
          ("A stolen cookie from working", "HttpOnly makes a stolen cookie useless")),
    _item("secure", "What does the Secure cookie attribute do?", "rfc6265-4.1.2.5", "d",
          ("Encrypts the cookie's value", "Secure encrypts the cookie"),
          ("Hides the cookie from JavaScript", "Secure is HttpOnly"),
          ("Signs the cookie so it cannot be changed", "Secure signs the cookie"),
          ("The browser sends it over secure connections only (HTTPS; Chrome and Firefox also count http://localhost)", "")),
    _item("samesite", "A cookie is SameSite=Lax. Another site's page POSTs a form to your server. Is the cookie sent?",
          "rfc6265bis-samesite", "b",
          ("Yes: cookies go with every request to their site", "cookies are always sent"),
          ("No: Lax withholds it from cross-site POSTs (top-level GET links still carry it)", ""),
          ("No, and Lax also stops scripts on your page from reading it", "SameSite is HttpOnly"),
          ("Only over HTTPS", "SameSite is Secure")),
    _item("signature", "A JWT's HS256 signature checks out. What does that prove?", "rfc7515-5.2", "a",
          ("The header and payload are as signed by someone holding the secret", ""),
          ("The payload is encrypted and only the server can read it", "signed means encrypted"),
          ("The user has not logged out", "a valid signature means a live session"),
          ("The request comes from the user the token names", "a signature proves who sends it")),
    _item("payload", "Who can read a JWT's payload (the userId in it)?", "owasp-jwt", "c",
          ("Only the server that holds the secret", "the payload is encrypted"),
          ("Nobody: it is hashed", "the payload is a hash"),
          ("Anyone who has the token: it is base64url, not encrypted", ""),
          ("Only the browser that received it", "the payload is bound to one browser")),
    _item("jwt-logout", "A client logs out; someone who copied its JWT before sends it again before exp. What happens?",
          "owasp-jwt", "d",
          ("401: logout deleted the token on the server", "the server keeps a record of each JWT"),
          ("401: the browser threw the token away", "deleting the client's copy revokes every copy"),
          ("403: the token is marked as logged out", "a JWT carries its logout state"),
          ("200: nothing on the server changed, the token is valid until exp (unless a denylist)", "")),
    _item("exp", "A JWT's exp has passed and the client sends it. What happens, and why?", "rfc7519-4.1.4", "b",
          ("200: the server only checks the signature", "exp is informational"),
          ("401: the server checks exp on every request", ""),
          ("It cannot be sent: the browser deletes expired tokens", "the client enforces exp"),
          ("401: the server deleted it from its token store", "the server stores JWTs")),
    _item("alg-none", 'A token arrives with header {"alg": "none"} and no signature. A well-configured server...',
          "rfc8725-3.1", "c",
          ("accepts it: the header says no signature is needed", "the token chooses its algorithm"),
          ("accepts it if the payload was not changed", "none is safe for unchanged payloads"),
          ("refuses it: its list of algorithms is fixed, and none is not on it", ""),
          ("signs it again and sends it back", "the server repairs bad tokens")),
    _item("weak-secret", 'The handout signs with the secret "mySecretKey". What follows?', "rfc8725-3.5", "a",
          ("Anyone holding one token can guess the secret offline, then forge tokens", ""),
          ("Nothing: the secret never leaves the server", "a secret that is not sent cannot be found"),
          ("Nothing: the signature is a hash, which cannot be reversed", "hashes make short secrets safe"),
          ("It matters only over plain HTTP", "HTTPS protects a weak secret")),
    _item("sticky", "Two servers keep sessions in their own memory; a balancer alternates requests. After login, "
          "the next request lands on the other server. It gets...", "haproxy-cookie", "d",
          ("200: the cookie carries the session", "the cookie is the session"),
          ("200: the servers share their memory", "servers share memory by themselves"),
          ("200: the balancer keeps the sessions", "the balancer is a session store"),
          ("401: that server has no record of the ID (sticky sessions or a shared store fix it)", "")),
    _item("sticky-limit", "Sticky sessions send each user to the same server. What do they NOT protect against?",
          "haproxy-redispatch", "b",
          ("Sessions missing on the other server", "sticky sessions do not solve the lookup"),
          ("The sessions on a server that restarts or dies being lost", ""),
          ("Uneven load between the servers", "sticky sessions spread load evenly"),
          ("Nothing: they are as good as a shared store", "sticky equals shared")),
    _item("jwt-scale", "Why does a JWT work on two servers with no shared store?", "owasp-jwt", "c",
          ("The balancer checks the token", "the balancer authenticates"),
          ("The servers copy each other's tokens", "JWTs are replicated"),
          ("Each server checks the signature with the key it holds: nothing to look up", ""),
          ("It only works with Redis", "JWTs need a store")),
    _item("new-id", "Why does the server make a new session ID at every login?", "owasp-session-renew", "a",
          ("So an ID someone planted before login never becomes a logged-in session", ""),
          ("Because IDs wear out after one request", "IDs are single use"),
          ("So the balancer can route it", "IDs are for routing"),
          ("To encrypt the new session", "the ID is a key that encrypts")),
    _item("session-logout", "A session client logs out; someone who copied its cookie before sends it again. It gets...",
          "owasp-session-expiration", "b",
          ("200 until the cookie's own expiry", "the cookie is the session"),
          ("401: logout deleted the record in the store", ""),
          ("200 until the browser closes", "logout is the browser's job"),
          ("403: the cookie is marked as logged out", "the cookie carries its logout state")),
)

BY_KEY = {item.key: item for item in ITEMS}
