"""JWTs on top of PyJWT, in PyJWT's own split: parse, inspect, keys, verify, issue, examine.

Everything returns plain data, and time is a parameter (`now`), so tests build tokens that are
already expired instead of sleeping. PyJWT itself is imported only when a signature is made or
checked (`keys.pyjwt`).
"""

from authcli.errors import BadKey, MalformedToken
from authcli.tokens.examine import Examination, examine
from authcli.tokens.inspect import Claim, TokenView, inspect, is_number
from authcli.tokens.issue import issue
from authcli.tokens.keys import (
    HASH_BYTES, HMAC_ALGS, SigningKey, VerifyKey, check_algorithm, key_from_file, make_signing_key,
    secret_key,
)
from authcli.tokens.parse import TokenParts, split
from authcli.tokens.verify import Check, Verdict, verify

__all__ = [
    "BadKey", "Check", "Claim", "Examination", "HASH_BYTES", "HMAC_ALGS", "MalformedToken",
    "SigningKey", "TokenParts", "TokenView", "Verdict", "VerifyKey", "check_algorithm", "examine",
    "inspect", "is_number", "issue", "key_from_file", "make_signing_key", "secret_key", "split",
    "verify",
]
