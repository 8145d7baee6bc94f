"""Verification check by check: every check reported as data, time given as `now`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from authcli.timefmt import relative, utc
from authcli.tokens.claims import is_number
from authcli.tokens.keys import HMAC_ALGS, VerifyKey, pyjwt
from authcli.tokens.parse import TokenParts


# The checks that say whether the signature is genuine; every other check is about the claims.
SIGNATURE_CHECKS = ("algorithm", "signature", "crit")
# A claim check after a failed signature: a PASS there would vouch for what the attacker wrote.
UNTRUSTED = "not checked: the signature was not verified, so the claims are the attacker's word"


@dataclass(frozen=True)
class Check:
    """One check: `ok` True (PASS), False (FAIL) or None (SKIP: not run, and why)."""

    name: str
    ok: bool | None
    detail: str

    @property
    def status(self) -> str:
        return "SKIP" if self.ok is None else "PASS" if self.ok else "FAIL"


@dataclass(frozen=True)
class Verdict:
    """Each check with its reason; `ok` only when no check failed."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return any(c.ok for c in self.checks) and all(c.ok is not False for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if c.ok is False), None)

    @property
    def signature_ok(self) -> bool:
        """The bytes are what the key's holder signed, with an algorithm the verifier allows."""
        mine = [c for c in self.checks if c.name in SIGNATURE_CHECKS]
        return any(c.ok for c in mine) and all(c.ok is not False for c in mine)

    @property
    def claims_ok(self) -> bool | None:
        """The claims are acceptable at the time checked (exp, nbf, iat, aud, iss, types); None
        when they were not checked because the signature failed."""
        if any(c.ok is False for c in self.checks if c.name in SIGNATURE_CHECKS):
            return None
        return all(c.ok is not False for c in self.checks if c.name not in SIGNATURE_CHECKS)


def verify(parts: TokenParts, key: VerifyKey, *, now: float, leeway: float = 0,
           require: Sequence[str] = ("exp",), audience: str | None = None,
           issuer: str | None = None, ignore: Sequence[str] = (), trust: bool = True) -> Verdict:
    """Check a token the way a careful server does, reporting every check, not only the first failure.

    The algorithm comes from the verifier's list, never from the token; the signature is checked
    by PyJWT; claims are checked against `now` (which may be any instant). Claims in `ignore`
    are reported as SKIP, and so is every claim when the algorithm or signature failed
    (`trust=False` keeps them, for a weak lab server that decides later what it checked).
    """
    checks: list[Check] = []
    alg = parts.header.get("alg")
    allowed = ", ".join(key.algorithms)
    if not isinstance(alg, str) or alg not in key.algorithms:
        why = ("'none' means unsigned, and a verifier that expects signed tokens refuses it [^rfc7518-3.6]"
               if isinstance(alg, str) and alg.lower() == "none"
               else "the verifier decides the algorithm, not the token [^rfc8725-3.1]")
        checks.append(Check("algorithm", False, f"{json.dumps(alg)} is not in the allow-list [{allowed}]: {why}"))
        checks.append(Check("signature", None, "not checked: the algorithm was refused"))
    else:
        checks.append(Check("algorithm", True, f"{alg} is in the allow-list [{allowed}]"))
        checks.append(_signature(parts, key, alg))
    if "crit" in parts.header:  # RFC 7515 4.1.11: extensions a verifier does not know mean no
        checks.append(Check("crit", False, f"the token requires header extensions "
                            f"{json.dumps(parts.header['crit'])} that this verifier does not implement, "
                            "so it must refuse the token [^rfc7515-4.1.11]"))
    payload = parts.payload
    for name in require:
        if name not in payload and name not in ("exp", "iat"):  # those two: _time_checks
            checks.append(Check(name, False, f"required claim {name} is missing"))
    checks += [Check(c.name, None, f"not checked: asked to ignore {c.name}") if c.name in ignore else c
               for c in _time_checks(payload, now, leeway, require)]
    checks += _type_checks(payload)
    checks += _audience_check(payload, audience)
    if issuer is not None:
        iss = payload.get("iss")
        ok = iss == issuer
        checks.append(Check("iss", ok, f"{json.dumps(iss)} {'is' if ok else 'is not'} {issuer!r}"
                            if "iss" in payload else "no iss claim, but an issuer was required"))
    return Verdict(distrust(checks) if trust else checks)


def distrust(checks: list[Check]) -> list[Check]:
    """Every claim check as SKIP when a signature check failed: claims are only worth checking
    once the signature says who wrote them."""
    if all(c.ok is not False for c in checks if c.name in SIGNATURE_CHECKS):
        return checks
    return [c if c.name in SIGNATURE_CHECKS else Check(c.name, None, UNTRUSTED) for c in checks]


def _signature(parts: TokenParts, key: VerifyKey, alg: str) -> Check:
    """PyJWT's own algorithm verifies the bytes (the standard library's hmac for a plain HMAC
    secret, tokens/hmacjws.py); the token was already split, so it is not parsed a second time
    the way PyJWS.decode would."""
    signing_input = f"{parts.header_b64}.{parts.payload_b64}".encode("ascii")
    # HMAC verifiers recompute the signature with the shared secret; RSA, ECDSA and EdDSA
    # verifiers check it against the public key and could not have made it themselves.
    how = (f"{alg} recomputed over header.payload ({len(signing_input)} bytes) with the secret"
           if alg in HMAC_ALGS else
           f"{alg} signature over header.payload ({len(signing_input)} bytes) checked with the public key")
    try:
        algorithm, prepared = key.prepared(alg)
        valid = algorithm.verify(signing_input, prepared, parts.signature)
    # An except clause's classes are looked up only when an exception reaches it: an HMAC
    # secret checked with the standard library (tokens/hmacjws.py) never imports PyJWT.
    except (pyjwt().InvalidKeyError, pyjwt().InvalidAlgorithmError, NotImplementedError) as err:
        return Check("signature", False, f"the key cannot verify {alg}: {err}")
    except (pyjwt().PyJWTError, ValueError, TypeError) as err:
        return Check("signature", False, f"could not be checked: {err}")
    if not valid:
        return Check("signature", False, f"{how}: no match, so the token was changed or signed "
                     "with another key")
    return Check("signature", True, f"{how}: match, unchanged since it was signed")


def _time_checks(payload: dict[str, Any], now: float, leeway: float, require: Sequence[str]) -> list[Check]:
    checks = []
    slack = f" (leeway {leeway:g} s)" if leeway else ""
    if "exp" in payload:
        exp = payload["exp"]
        if not is_number(exp):
            checks.append(Check("exp", False, f"{_shown(exp)} is not a NumericDate, a number of seconds since "
                                "1970 [^rfc7519-2] (authcli reads them up to year 9999)"))
        elif exp <= now - leeway:
            checks.append(Check("exp", False, f"expired {utc(exp)}, {relative(exp, now)}{slack}"))
        else:
            checks.append(Check("exp", True, f"expires {utc(exp)}, {relative(exp, now)}"))
    elif "exp" in require:
        checks.append(Check("exp", False, "no exp claim: a token without expiry is refused"))
    if "nbf" in payload:
        nbf = payload["nbf"]
        if not is_number(nbf):
            checks.append(Check("nbf", False, f"{_shown(nbf)} is not a NumericDate"))
        elif nbf > now + leeway:
            checks.append(Check("nbf", False, f"not valid before {utc(nbf)}, {relative(nbf, now)}{slack}"))
        else:
            checks.append(Check("nbf", True, f"valid since {utc(nbf)}"))
    if "iat" in payload:
        iat = payload["iat"]
        if not is_number(iat):
            checks.append(Check("iat", False, f"{_shown(iat)} is not a NumericDate"))
        elif iat > now + leeway:
            checks.append(Check("iat", False, f"issued in the future: {utc(iat)}{slack}"))
        else:
            checks.append(Check("iat", True, f"issued {utc(iat)}, {relative(iat, now)}"))
    elif "iat" in require:
        checks.append(Check("iat", False, "required claim iat is missing"))
    return checks


# RFC 7519 4.1: iss and sub are StringOrURI, jti a string; aud is one StringOrURI or a list of them.
STRING_CLAIMS = {"iss": "a StringOrURI [^rfc7519-4.1]", "sub": "a StringOrURI [^rfc7519-4.1]",
                 "jti": "a case-sensitive string [^rfc7519-4.1.7]"}


def _type_checks(payload: dict[str, Any]) -> list[Check]:
    checks = []
    for name, kind in STRING_CLAIMS.items():
        if name in payload and not isinstance(payload[name], str):
            checks.append(Check(name, False, f"must be {kind}, not {_json_type(payload[name])}"))
    aud = payload.get("aud")
    if "aud" in payload and not (isinstance(aud, str) or
                                 (isinstance(aud, list) and all(isinstance(a, str) for a in aud))):
        checks.append(Check("aud", False, f"must be a string or a list of strings [^rfc7519-4.1.3], "
                            f"not {_json_type(aud)}"))
    return checks


def claim_problems(payload: dict[str, Any]) -> list[str]:
    """What makes a payload one that authcli's own verifier refuses whatever the key: registered
    claims of the wrong type, NumericDates that are not numbers up to year 9999, text that is
    not Unicode. `sign` refuses to make such a token rather than print one nothing accepts."""
    from authcli.encoding import is_text

    problems = [f"{c.name} {c.detail}" for c in _type_checks(payload)]
    problems += [f"{name} is {_shown(payload[name])}, not a NumericDate (seconds since 1970, up to year 9999)"
                 for name in ("exp", "nbf", "iat") if name in payload and not is_number(payload[name])]
    if not is_text(payload):
        problems.append("a claim is not Unicode text (an escaped lone surrogate is not)")
    return problems


def _audience_check(payload: dict[str, Any], audience: str | None) -> list[Check]:
    """RFC 7519 4.1.3: a recipient that does not find itself in aud must refuse the token, so a
    token with aud is refused by a verifier that was told no audience."""
    aud = payload.get("aud")
    if audience is None:
        if "aud" not in payload:
            return []
        return [Check("aud", False, f"the token is meant for {json.dumps(aud)[:200]}, and this "
                      "verifier was given no audience to accept: a recipient not named in aud must "
                      "refuse it [^rfc7519-4.1.3]")]
    if "aud" not in payload:
        return [Check("aud", False, "no aud claim, but an audience was required")]
    auds = aud if isinstance(aud, list) else [aud]
    ok = audience in auds
    return [Check("aud", ok, f"{json.dumps(aud)[:200]} {'includes' if ok else 'does not include'} {audience!r}")]


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", int: "a number", float: "a number",
             type(None): "null", str: "a string"}
    return names.get(type(value), type(value).__name__)

