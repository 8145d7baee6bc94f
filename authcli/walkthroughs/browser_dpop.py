"""demo browser --dpop: the JWT half with a DPoP-bound token (RFC 9449), in a real Chromium.

The session half as in demo browser; then the DPoP server's own page (web/dpop.html): WebCrypto
makes a non-extractable P-256 key, the page signs a proof for each request, and the token copied
out of the page is replayed from Python without one. Every proof shown was made by the page.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Callable, Iterator

from authcli.browser import Browser
from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.server.policy import HARDENED_SESSIONS, HTTPS_SESSIONS
from authcli.server.schemes.dpop import DpopJwtAuth
from authcli.server.schemes.session_auth import SessionAuth
from authcli.server.transport.httpd import AuthServer
from authcli.stores.memory import MemoryStore
from authcli.tls import TlsFiles
from authcli.tokens.claims import inspect
from authcli.tokens.keys import SigningKey
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key, thumbprint
from authcli.walkthroughs.browser import DEFAULT_TTL, _session_burst, _session_intro, _session_use
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import (
    Defences, ExchangeBlock, Script, Step, Table, TableBlock, TokenBlock, WalkthroughInfo, step,
)

INFO = WalkthroughInfo("browser", "The browser half: a session cookie and a DPoP-bound token, in a real Chromium", 12)
# The page scripts shown, exactly as they run. `keys`, `jwk`, `token` and `proof()` are dpop.js's own.
KEY = """async () => {  // the key dpop.js made at load
  const exported = await crypto.subtle.exportKey("jwk", keys.privateKey)
    .then(() => "exported", (err) => err.name);
  return {extractable: keys.privateKey.extractable, exportKey: exported, jwk};
}"""
LOGIN = "#login-button"      # dpop.js: POST /login with a proof
PROFILE = "#profile-button"  # dpop.js: GET /profile with the token and a fresh proof
STEAL = """() => token  // what an XSS payload would run: dpop.js keeps it in a variable"""
INJECTED = """async () => {  // an XSS payload, signing with the page's own key
  const r = await fetch("/profile", {headers: {Authorization: `DPoP ${token}`,
    DPoP: await proof("GET", "/profile", token)}});
  return `${r.status} ${(await r.text()).trim()}`;
}"""


def browser_dpop_walkthrough(ttl: int = DEFAULT_TTL, key: SigningKey | None = None,
                             browser: Callable[..., Browser] = Browser,
                             tls: TlsFiles | None = None) -> Iterator[Step]:
    """Yield demo browser --dpop's steps: the session half as in demo browser, then the DPoP half
    in the DPoP server's page, then the recap. Servers and the browser live as long as the generator."""
    sessions, context = MemoryStore(), tls.server_context() if tls else None
    with AuthServer(SessionAuth(sessions, ttl, policy=HTTPS_SESSIONS if tls else HARDENED_SESSIONS),
                    tls=context) as server, browser(server, tls=tls) as chromium:
        cookies = _session_burst(chromium, server, sessions)
        yield from _session_intro(chromium, server, cookies)
        yield from _session_use(cookies)
        auth = DpopJwtAuth(key or make_signing_key("ES256"), ttl, https=tls is not None)
        with AuthServer(auth, tls=context) as dpop_server:
            chromium.server = dpop_server
            chromium.fresh_profile()
            run = dpop_burst(chromium, dpop_server, tls)
            yield from dpop_steps(run)
    yield dpop_recap(run)


def _clicked(chromium: Browser, button: str, path: str, shown: str) -> tuple[object, str]:
    """Click one of dpop.js's buttons: the exchange, and the proof the page signed for it."""
    _, [exchange] = chromium.act(lambda: chromium.tab.click(button), 1, (path,))
    chromium.tab.wait_for_function(f"() => document.querySelector('#{shown}').textContent.length > 0")
    return exchange, chromium.tab.text_content("#proof") or ""


def dpop_burst(chromium: Browser, server: AuthServer, tls: TlsFiles | None = None) -> SimpleNamespace:
    """The whole DPoP half at once: the page's key, its login and request, the copy replayed."""
    r = SimpleNamespace(where=f"{server.url}/", url=server.url, alg=server.app.key.alg)
    chromium.tab.goto(r.where)  # the page's script then asks HEAD / for the server's Date
    chromium.tab.wait_for_function("() => document.querySelector('#key').textContent.startsWith('Key made')")
    r.key = chromium.run(KEY)
    if r.key["extractable"] is not False or r.key["exportKey"] != "InvalidAccessError":
        raise WalkthroughError(f"expected a non-extractable private key, the page got {r.key}")
    r.login, r.login_proof = _clicked(chromium, LOGIN, "/login", "login-answer")
    expect(r.login, 200, "the page's login with a proof")
    r.token = chromium.run("() => token")
    if split(r.token).payload.get("cnf") != {"jkt": thumbprint(r.key["jwk"])}:
        raise WalkthroughError("expected the token's cnf.jkt to name the page's key")
    r.profile, _ = _clicked(chromium, PROFILE, "/profile", "profile")
    expect(r.profile, 200, "the page's GET /profile with a proof")
    r.stolen = chromium.run(STEAL)
    thief = ScriptedClient(server, ca=str(tls.ca) if tls else None)
    try:
        r.bare = expect(thief.send("GET", "/profile", headers={"Authorization": f"DPoP {r.stolen}"}, fresh=True),
                        401, "the copied token without a proof")
        r.bearer = expect(thief.send("GET", "/profile", headers={"Authorization": f"Bearer {r.stolen}"},
                                     fresh=True), 401, "the copied token as Bearer")
    finally:
        thief.close()
    r.injected, [r.used] = chromium.act(lambda: chromium.run(INJECTED), 1, ("/profile",))
    expect(r.used, 200, "the injected script's request, signed with the page's key")
    return r


def dpop_steps(r: SimpleNamespace) -> list[Step]:
    where = r.where
    return [
        step(8, "A DPoP server: the page makes a key page script cannot export", [
            f"A second server signs {r.alg} tokens bound to a key (DPoP [^rfc9449-4.2]). In a fresh profile "
            f"its page on {where} made a P-256 key pair with WebCrypto, non-extractable: Chromium "
            "refuses to export the private key (exportKey: " + r.key["exportKey"] + "), but page script "
            "may ask it to sign. The public key travels in every proof.",
        ], Script(KEY, r.key, where), predict="The DPoP server's page loads and makes its key pair."),
        step(9, "The page logs in with a proof: the token names its key", [
            "The page's login button: dpop.js signed a proof (typ dpop+jwt, its public jwk, htm, htu, iat, jti) in the browser and "
            "sent it in the DPoP header. The token's cnf.jkt is the thumbprint of the page's key "
            "[^rfc9449-6.1]; the page keeps the token in a variable.",
        ], ExchangeBlock(r.login), TokenBlock(inspect(split(r.login_proof), None)),
            predict="The page posts the login with a DPoP proof."),
        step(10, "The page's own request: the token and a fresh proof", [
            "The page's /profile button. Each request gets a new proof for its method and URL, with ath, the token's hash "
            "[^rfc9449-4.2]; the server checks it and that its key is the token's.",
        ], ExchangeBlock(r.profile),
            predict="The page fetches /profile with its token and a new proof."),
        step(11, "The token copied out of the page, replayed from Python: 401", [
            f"Script on the page can read the token (all {len(r.stolen)} characters), replayed below from "
            "outside the browser (Python's requests): without a proof, and as a plain bearer token, "
            "it is refused [^rfc9449-7.2]. In step 10 of demo browser the same theft got 200. A proof "
            "needs the private key, which never left Chromium.",
        ], Script(STEAL, r.stolen, where), ExchangeBlock(r.bare), ExchangeBlock(r.bearer),
            Defences(["dpop"]), predict="An injected script copies the token; it is replayed without a proof."),
        step(12, "What DPoP does not stop: script in the page signs proofs", [
            "The same injected script, run inside the page, asks Chromium to sign a fresh proof with the "
            "page's key and gets 200: a non-extractable key cannot be taken, but it can be used: the "
            "script can sign proofs for requests it sends from the page, or send the token and fresh "
            "proofs (even proofs dated for later) to the attacker's own machine [^rfc9449-11.4]. DPoP "
            "makes a token stolen alone (from a log or a copied response) useless; it does not stop XSS.",
        ], Script(INJECTED, r.injected, where), ExchangeBlock(r.used),
            predict="An injected script fetches /profile with a proof made by the page's own key."),
    ]


def dpop_recap(r: SimpleNamespace) -> Step:
    rows = [
        ["the page, token and proof (step 10)", f"{r.profile.response.status}"],
        ["the copied token, no proof (step 11)", f"{r.bare.response.status}"],
        ["the copied token as Bearer (step 11)", f"{r.bearer.response.status}"],
        ["injected script, the page's key (step 12)", f"{r.used.response.status}"],
        ["exporting the private key (step 8)", r.key["exportKey"]],
    ]
    return step(None, "Recap: a token bound to a key the browser holds", [
        "The token is as readable as one in localStorage, but a copy alone is useless: every use "
        "needs a proof from a key Chromium will not give out. Script running in the page can still "
        "sign proofs, and can even carry the token and proofs away, which a script cannot do with an "
        "HttpOnly cookie.",
    ], TableBlock(Table("Who can use the DPoP token", ["who", "answer"], rows)))
