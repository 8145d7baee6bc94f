"""JWTs on top of PyJWT, split by job: parse, claims (inspect), keys, checks (verify), signing, report.

Everything returns plain data, and time is a parameter (`now`), so tests build tokens that are
already expired instead of sleeping. Import names from their modules (`from
authcli.tokens.report import examine`): this face imports nothing, so `authcli decode` without a
key loads only parse and claims, and PyJWT itself is imported only when a signature is made or
checked (`keys.pyjwt`).
"""
