"""The fix-it file: the lab's policy values as TOML a student edits, written and read here.

Every value maps onto a field of SessionPolicy, CookiePolicy or JwtPolicy (two are the lab's own:
which token headers may choose the key, and the HMAC secret). `weak_policy_text()` writes the
weak file, each value commented with what it means, the attack it opens and the framework
settings that hold it; `read_policy()` turns an edited file back into policies, or a UsageError
of one line naming the key and its line.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, replace
from typing import Any

from authcli.errors import UsageError
from authcli.server.lab.frameworks import SETTINGS
from authcli.server.lab.weaknesses import HANDOUT_SECRET
from authcli.server.policy import CookiePolicy, JwtPolicy, LoginLimits, OAuthPolicy, RelyingPolicy, SessionPolicy
from authcli.sources import MARKER, SOURCES

KEY_SOURCES = ("jwk-header", "jku-header", "kid-path", "kid-sql")
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Field:
    """One value of the file: its dotted name, its weak and hardened values, what it means, which
    attacks it opens (by weakness name), and what a value may be (`choices`, or a Python type)."""

    name: str
    weak: Any
    hardened: Any
    meaning: str
    attacks: tuple[str, ...]
    choices: tuple[Any, ...] = ()

    @property
    def section(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.name.rpartition(".")[2]


FIELDS = {f.name: f for f in [
    Field("session.id_source", "counter", "secrets", '"counter": IDs 1001, 1002... so anyone can work out a '
          'neighbour\'s; "secrets": 256 random bits per ID', ("predictable-id",), ("counter", "secrets")),
    Field("session.adopt_client_id", True, False, "true: /login keeps a session ID the client brought; false: "
          "a new ID at every login", ("fixation",)),
    Field("session.logout_deletes_record", False, True, "false: logout clears the cookie but the record "
          "stays, so a copied ID keeps working; true: logout deletes the record", ("logout-cookie-only",)),
    Field("session.server_expiry", False, True, "false: only the cookie's Max-Age ends a session, and a "
          "client may ignore it; true: the store forgets the record at its deadline", ("no-server-expiry",)),
    Field("session.refuse_cross_site", False, True, "false: /login and /logout serve another site's form; "
          "true: a browser request from another origin gets 403", ("login-csrf",)),
    Field("session.login_content_types", ["application/json", "text/plain"], ["application/json"],
          "the bodies /login reads: an HTML form sends urlencoded, multipart or text/plain, never "
          "Content-Type application/json",
          ("login-csrf",), CONTENT_TYPES),
    Field("session.name_unknown_email", True, False, 'true: "No user with this email" (at once) or "Wrong '
          'password", so accounts can be listed; false: one answer, after one hash, for both', ("user-enum",)),
    Field("session.login_limits", False, True, "false: unlimited password guesses; true: 5 failures per "
          "account and address, 50 per address, in 60 s, then 429 with Retry-After (each new address "
          "gets 5 more tries)", ("no-rate-limit",)),
    Field("session.cookie.http_only", False, True, "false: page script reads the session cookie "
          "(document.cookie); true: HttpOnly keeps it out of script's reach, though script can still send "
          "requests that carry it", ("no-httponly",)),
    Field("session.cookie.same_site", "Lax", "Lax", '"Lax": the cookie stays off POSTs, frames and script '
          'requests other sites start; "Strict": off links from other sites too. Neither keeps it off '
          "requests from the site's own subdomains. No attack here turns on it: login CSRF needs no cookie", (), ("Lax", "Strict")),
    Field("jwt.verify_signature", False, True, "false: claims are read after a decode, the signature "
          "never checked; true: the signature first", ("no-verify",)),
    Field("jwt.accept_alg_none", True, False, 'true: an unsigned token (alg "none") passes; false: the '
          "allow-list never holds none", ("alg-none",)),
    Field("jwt.check_exp", False, True, "false: last year's token still works; true: exp is required and "
          "checked", ("no-exp",)),
    Field("jwt.hmac_with_public_key", True, False, "true: an RS256 server also verifies HS256, with its "
          "public key (published, or recovered from two tokens) as the secret; false: the allow-list is the "
          "key's own algorithm", ("alg-confusion", "alg-confusion-no-key")),
    Field("jwt.key_from_token", list(KEY_SOURCES), [], "the token headers allowed to choose the verifying "
          "key: the jwk it carries, a jku URL to fetch, kid as a file path, kid pasted into SQL. [] : keys "
          "come from the server's side only", ("jwk-header", "jku-header", "kid-path", "kid-sql"), KEY_SOURCES),
    Field("jwt.hmac_secret", HANDOUT_SECRET.decode(), "random", '"random": 256 random bits made at start; any '
          "other text is the HS256 secret itself (mySecretKey is in authcli's own wordlist: authcli crack "
          "finds it)", ("weak-secret",)),
    Field("oauth.require_pkce", False, True, "false: an authorization code is redeemed without a "
          "code_verifier, so whoever steals a public client's code gets the tokens (a confidential client's "
          "code can still be injected into that client); true: every authorization request "
          "carries a code_challenge and its code is redeemed only with the verifier", ("no-pkce",)),
    Field("oauth.redirect_match", "prefix", "exact", '"prefix": any redirect URI that starts with a '
          'registered one is accepted, so an attacker\'s link sends the code elsewhere; "exact": character '
          "for character as registered", ("redirect-prefix",), ("exact", "prefix")),
    Field("oauth.allow_implicit", True, False, "true: response_type=token is served, so the access token "
          "itself comes back in the redirect URL's fragment (history, any script on the page); false: "
          "response_type=code only", ("implicit",)),
    Field("client.check_state", False, True, "the client app's own check, not the authorization server's. "
          "false: a callback is accepted whatever its state, so another browser's login finishes here "
          "(login CSRF); true: its state must be the one this browser's login sent", ("no-state",)),
    Field("client.use_pkce", False, True, "the client app's: true: a code_verifier kept in this browser's "
          "session, so a code from another browser's login fails at /token; false: none sent (the "
          "authorization server must then allow that: oauth.require_pkce = false)", ("no-state",)),
    Field("client.check_nonce", False, True, "the client app's: true: the ID token's nonce must be the one "
          "this browser's login sent; false: any ID token for this app is taken, so one captured from "
          "another login is replayed into yours", ("no-state", "no-nonce")),
    Field("client.check_aud", False, True, "the client app's: true: the ID token's aud must name this app's "
          "client_id; false: a token the same provider made for another app (the attacker's) logs its user "
          "in here", ("wrong-aud",)),
]}


def toml_value(value: Any) -> str:
    """A value as TOML writes it (the file is text authcli makes: no writer library needed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(field: Field) -> list[str]:
    import textwrap

    lines = textwrap.wrap(f"# {field.key}: {field.meaning}.", 96, subsequent_indent="#   ")
    opens = ", ".join(field.attacks) or "none of the lab's attacks"
    lines.append(f"#   opens: {opens}; hardened: {toml_value(field.hardened)}")
    for s in SETTINGS.get(field.name, ()):
        url = SOURCES[MARKER.findall(s.source)[0]].url
        lines.append(f"#   {s.framework}: {s.name}  <{url}>")
    return lines


def weak_policy_text() -> str:
    """The weak policy as TOML: every mistake the lab has, switched on and explained."""
    out = ["# authcli lab --fix: the attack lab's policy with every mistake switched on.",
           "# Change values, then run `authcli lab --fix THIS-FILE`: every attack runs against servers",
           "# built from this file and a table shows which are refused now. A value left out takes",
           "# authcli's hardened default."]
    section = None
    for field in FIELDS.values():
        if field.section != section:
            section = field.section
            out += ["", f"[{section}]"]
        out += ["", *_comment(field), f"{field.key} = {toml_value(field.weak)}"]
    return "\n".join(out) + "\n"


def _loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the standard backport, a dependency on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"not valid TOML: {err}") from None


def _line(text: str, name: str) -> str:
    """`line N: ` for the line that sets `name` (its table header for a table), else ''."""
    section, key = name.rpartition(".")[0], name.rpartition(".")[2]
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace(" ", "")
            if current == name:
                return f"line {number}: "
        elif current == section and re.match(rf"""\s*["']?{re.escape(key)}["']?\s*=""", line):
            return f"line {number}: "
    return ""


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in FIELDS:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _check(field: Field, value: Any) -> str | None:
    """Why `value` cannot be this field's, or None."""
    kind = type(field.hardened)
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of strings"
        bad = [v for v in value if v not in field.choices]
        return f"{bad[0]!r} is not one of {', '.join(field.choices)}" if bad else None
    if kind is bool and not isinstance(value, bool):
        return "must be true or false"
    if kind is str and not isinstance(value, str):
        return "must be a string in double quotes"
    if field.choices and value not in field.choices:
        return "must be one of " + ", ".join(toml_value(c) for c in field.choices)
    if field.name == "jwt.hmac_secret" and not value:
        return 'must not be empty (write "random" for 256 random bits)'
    return None


def _fail(text: str, name: str, message: str) -> UsageError:
    shown = re.sub(r"[\x00-\x1f\x7f]", "?", name)[:80]
    return UsageError(f"{_line(text, name)}{shown}: {message}")


def read_policy(text: str) -> StudentPolicy:
    """The edited file as policies; UsageError (one line, naming the key and its line) if not."""
    values = {}
    for name, value in _flatten(_loads(text)).items():
        field = FIELDS.get(name)
        if field is None:
            close = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "see `authcli lab --write-policy`"
            raise _fail(text, name, f"unknown key: {hint}")
        problem = _check(field, value)
        if problem:
            shown = toml_value(value)[:40] if isinstance(value, (str, bool, int, float)) else ""
            raise _fail(text, name, f"{shown} {problem}".strip())
        values[name] = value
    return StudentPolicy({name: values.get(name, f.hardened) for name, f in FIELDS.items()})


@dataclass(frozen=True)
class StudentPolicy:
    """Every value of the file (a value left out: the hardened one), and the policies they make."""

    values: dict[str, Any]

    def session(self) -> SessionPolicy:
        v = self.values
        cookie = CookiePolicy(http_only=v["session.cookie.http_only"], same_site=v["session.cookie.same_site"])
        return SessionPolicy(id_source=v["session.id_source"], adopt_client_id=v["session.adopt_client_id"],
                             logout_deletes_record=v["session.logout_deletes_record"],
                             server_expiry=v["session.server_expiry"], refuse_cross_site=v["session.refuse_cross_site"],
                             login_content_types=tuple(v["session.login_content_types"]),
                             name_unknown_email=v["session.name_unknown_email"],
                             login_limits=LoginLimits() if v["session.login_limits"] else None, cookie=cookie)

    def jwt(self, key_source: str = "server") -> JwtPolicy:
        """The JWT policy; `key_source`: the one token header this server lets choose its key, if
        the file allows it (a server has one way to find its key; each attack gets its own server)."""
        v = self.values
        source = key_source if key_source in v["jwt.key_from_token"] else "server"
        return replace(JwtPolicy(), verify_signature=v["jwt.verify_signature"], accept_alg_none=v["jwt.accept_alg_none"],
                       check_exp=v["jwt.check_exp"], hmac_with_public_key=v["jwt.hmac_with_public_key"],
                       key_source=source)

    def oauth(self) -> OAuthPolicy:
        v = self.values
        return replace(OAuthPolicy(), require_pkce=v["oauth.require_pkce"], redirect_match=v["oauth.redirect_match"],
                       allow_implicit=v["oauth.allow_implicit"])

    def relying(self) -> RelyingPolicy:
        """The client app's checks (the `client` table)."""
        v = self.values
        return RelyingPolicy(check_state=v["client.check_state"], use_pkce=v["client.use_pkce"],
                             check_nonce=v["client.check_nonce"], check_aud=v["client.check_aud"])

    @property
    def secret(self) -> bytes | None:
        """The HS256 secret the file names, or None: a random one."""
        value = self.values["jwt.hmac_secret"]
        return None if value == "random" else value.encode()

    def differs(self, field: Field) -> bool:
        """This value is not the hardened one."""
        value = self.values[field.name]
        return sorted(value) != sorted(field.hardened) if isinstance(value, list) else value != field.hardened
