"""JWTs on top of PyJWT, split by job: parse, claims (inspect), keys, checks (verify), signing, report.

Everything returns plain data, and time is a parameter (`now`), so tests build tokens that are
already expired instead of sleeping. Names are imported on first use (PEP 562): `authcli decode`
without a key needs only parse and inspect, and PyJWT itself is imported only when a signature
is made or checked (`keys.pyjwt`).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BadKey": "authcli.errors", "MalformedToken": "authcli.errors",
    "Examination": "authcli.tokens.report", "examine": "authcli.tokens.report",
    "Claim": "authcli.tokens.claims", "TokenView": "authcli.tokens.claims",
    "inspect": "authcli.tokens.claims", "is_number": "authcli.tokens.claims",
    "issue": "authcli.tokens.signing", "make_signing_key": "authcli.tokens.signing",
    "load_signing_key": "authcli.tokens.signing", "key_files": "authcli.tokens.signing",
    "HASH_BYTES": "authcli.tokens.keys", "HMAC_ALGS": "authcli.tokens.keys", "SigningKey": "authcli.tokens.keys",
    "VerifyKey": "authcli.tokens.keys", "check_algorithm": "authcli.tokens.keys",
    "key_from_file": "authcli.tokens.keys", "key_warnings": "authcli.tokens.keys",
    "secret_key": "authcli.tokens.keys",
    "TokenParts": "authcli.tokens.parse", "split": "authcli.tokens.parse",
    "Check": "authcli.tokens.checks", "Verdict": "authcli.tokens.checks", "verify": "authcli.tokens.checks",
    "claims_unchecked": "authcli.tokens.checks",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
