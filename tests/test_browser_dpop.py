"""The DPoP page in a real headless Chromium: a non-extractable WebCrypto key signs the proofs,
the page's own request gets 200, the token copied out of the page gets 401 from anywhere else,
and the private key cannot be exported (script in the page can still sign: RFC 9449 11.4)."""

from __future__ import annotations

import pytest
import requests

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the hint
    expect = None

from authcli.clock import now
from authcli.server.schemes.dpop import DpopJwtAuth
from authcli.server.transport.httpd import AuthServer
from authcli.tokens.dpop import make_proof, make_proof_key
from authcli.tokens.parse import split
from authcli.tokens.signing import make_signing_key, thumbprint
from test_browser import page, watch  # noqa: F401 (page: the fixture, one definition)


def test_the_dpop_page_signs_proofs_with_a_key_nobody_can_copy(page):
    with AuthServer(DpopJwtAuth(make_signing_key("ES256"), 60)) as server:
        page.goto(server.url + "/")
        expect(page.locator("#key")).to_contain_text("Key made")
        page.click("#login-button")
        expect(page.locator("#login-answer")).to_contain_text("200 OK")
        token = page.text_content("#token")
        public = page.evaluate("jwk")
        assert split(token).payload["cnf"] == {"jkt": thumbprint(public)}  # bound to the page's key
        proof = split(page.text_content("#proof"))
        assert proof.header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        assert set(proof.payload) == {"jti", "htm", "htu", "iat"} and proof.payload["htu"] == server.url + "/login"

        page.click("#profile-button")
        expect(page.locator("#profile")).to_contain_text("With a proof: 200 OK")
        assert set(split(page.text_content("#proof")).payload) == {"jti", "htm", "htu", "iat", "ath"}
        page.click("#bare")
        expect(page.locator("#profile")).to_contain_text("The token alone: 401")

        # The token copied out of the page, replayed from Python: no proof, Bearer, another key's proof.
        url = server.url + "/profile"
        other = make_proof(make_proof_key(), "GET", url, now(), token=token)
        for headers in ({"Authorization": f"DPoP {token}"}, {"Authorization": f"Bearer {token}"},
                        {"Authorization": f"DPoP {token}", "DPoP": other}):
            assert requests.get(url, headers=headers, timeout=10).status_code == 401, headers

        # The private key stays in the browser: exportKey rejects; signing with it still works.
        assert page.evaluate("keys.privateKey.extractable") is False
        assert page.evaluate("crypto.subtle.exportKey('jwk', keys.privateKey).then(() => 'exported', (e) => e.name)") \
            == "InvalidAccessError"
        page.click("#export")
        expect(page.locator("#export-answer")).to_contain_text("exportKey refused: InvalidAccessError")
        limits = " ".join(page.text_content("#limits").split())
        assert "can ask the browser to sign proofs" in limits and "RFC 9449 §11.4" in limits
        assert page.problems == []


def test_the_demos_page_scripts_run_in_the_dpop_page(page):
    """demo browser --dpop's own scripts (KEY, STEAL, INJECTED), in the page fixture's Chromium:
    the key is not extractable, the token copied out gets 401 from Python, and script in the page
    still signs proofs with the page's key (what DPoP does not stop)."""
    from authcli.walkthroughs.browser_dpop import INJECTED, KEY, LOGIN, STEAL

    with AuthServer(DpopJwtAuth(make_signing_key("ES256"), 60)) as server:
        page.goto(server.url + "/")
        expect(page.locator("#key")).to_contain_text("Key made")
        key = page.evaluate(KEY)
        assert key["extractable"] is False and key["exportKey"] == "InvalidAccessError"
        page.click(LOGIN)
        expect(page.locator("#login-answer")).to_contain_text("200 OK")
        stolen = page.evaluate(STEAL)
        assert split(stolen).payload["cnf"] == {"jkt": thumbprint(key["jwk"])}
        assert requests.get(server.url + "/profile", headers={"Authorization": f"DPoP {stolen}"},
                            timeout=10).status_code == 401
        assert page.evaluate(INJECTED) == "200 Welcome user 1"
        assert page.problems == []
