"""The authorization server against the field's client: Authlib completes the code flow with
PKCE, dynamic registration and client_secret_basic, and verifies the ID token; refresh rotation,
reuse detection and the RFCs' error codes, on real HTTP."""

from __future__ import annotations

import re
import signal
import warnings
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

with warnings.catch_warnings():  # Authlib 1.x moves its JOSE code to joserfc; the ID token API stays
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt as authlib_jwt
    from authlib.oidc.core import CodeIDToken

from authcli.clock import now as clock_now
from authcli.server.schemes.oauth import OAuthProvider
from authcli.server.transport.httpd import AuthServer
from conftest import ServeProcess

CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the test reads the Location header


@pytest.fixture
def provider():
    auth = OAuthProvider()
    with AuthServer(auth, request_timeout=2.0) as server:
        auth.bind(server.url)
        yield server


def register(url: str, verify: str | bool = True, **metadata) -> dict:
    endpoint = url if url.endswith("/register") else url + "/register"
    got = requests.post(endpoint, json={"redirect_uris": [CALLBACK], "client_name": "test",
                                        "grant_types": ["authorization_code", "refresh_token"], **metadata},
                        timeout=5, verify=verify)
    assert got.status_code == 201, got.text
    return got.json()


def login(authorize_url: str, verify: str | bool = True) -> str:
    """The user: GET the page, post the form it holds; the redirect's Location. The AS's sign-in
    cookie comes with it: Secure, and __Host-, over HTTPS only."""
    page = requests.get(authorize_url, timeout=5, verify=verify)
    assert page.status_code == 200 and "<form" in page.text
    query = dict(parse_qs(urlsplit(authorize_url).query))
    fields = {k: v[0] for k, v in query.items()}
    base = authorize_url.split("?")[0]
    answer = requests.post(base, data={**fields, "email": "a@b.com", "password": "123", "decision": "allow"},
                           allow_redirects=False, timeout=10, verify=verify)
    assert answer.status_code == 302, answer.text
    https = authorize_url.startswith("https://")
    assert answer.headers["Set-Cookie"].startswith("__Host-as_session=" if https else "as_session=")
    assert ("; Secure" in answer.headers["Set-Cookie"]) == https
    return answer.headers["Location"]


def metadata(server) -> dict:
    return requests.get(server.url + "/.well-known/openid-configuration", timeout=5).json()


def test_authlib_completes_the_flow_and_verifies_the_id_token(provider):
    authlib_flow(provider.url)


def test_authlib_completes_the_flow_against_serve_mode_oauth():
    with ServeProcess("--mode", "oauth", "--port", "0") as serve:
        url = serve.url()
        authlib_flow(url)
        assert serve.stop(signal.SIGINT) == 0
    assert "POST /token" in serve.out and "Traceback" not in serve.err


def test_authlib_completes_the_flow_against_serve_mode_oauth_https():
    """--https: the issuer, discovery's URLs, iss in the redirect and the ID token, and the AS's
    sign-in cookie (Secure, __Host-) all https; every request checked against the throwaway CA."""
    with ServeProcess("--mode", "oauth", "--port", "0", "--https") as serve:
        banner = serve.line()
        url = re.search(r"https://127\.0\.0\.1:\d+", banner).group(0)
        ca = None
        while ca is None:
            ca = re.search(r"against the CA in (\S+?ca\.pem)", serve.line())
        authlib_flow(url, ca.group(1))
        with pytest.raises(requests.exceptions.SSLError):  # nothing here trusts it by default
            requests.get(url + "/.well-known/openid-configuration", timeout=5)
        assert serve.stop(signal.SIGINT) == 0
    assert "POST /token" in serve.out and "Traceback" not in serve.err


def authlib_flow(url: str, verify: str | bool = True) -> None:
    """Discovery, registration, the code flow with PKCE and client_secret_basic, the ID token
    verified by Authlib, /userinfo, a refresh, and the old refresh token's reuse caught.
    `verify`: the CA an HTTPS server's certificate is checked against."""
    meta = requests.get(url + "/.well-known/openid-configuration", timeout=5, verify=verify).json()
    assert meta["issuer"] == url and all(meta[k].startswith(url + "/") for k in meta if k.endswith("_endpoint"))
    creds = register(meta["registration_endpoint"], verify)
    session = OAuth2Session(creds["client_id"], creds["client_secret"], scope="openid email",
                            redirect_uri=CALLBACK, code_challenge_method="S256",
                            token_endpoint_auth_method="client_secret_basic")
    session.verify = verify  # requests lets a set REQUESTS_CA_BUNDLE win over this: each call names it too
    verifier = "v" * 20 + "erifier-for-the-test-0123456789"
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                  nonce="n-0S6_WzA2Mj")
    location = login(url, verify)
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    assert parse_qs(urlsplit(location).query)["iss"] == [meta["issuer"]]  # RFC 9207: https over --https
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier,
                                verify=verify)
    assert token["token_type"] == "Bearer" and "refresh_token" in token
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=5, verify=verify).json())
    claims = authlib_jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                                claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
                                claims_params={"nonce": "n-0S6_WzA2Mj", "client_id": creds["client_id"],
                                               "access_token": token["access_token"]})
    claims.validate(now=int(clock_now()))
    assert claims["sub"] == "1" and claims["aud"] == creds["client_id"]
    info = session.get(meta["userinfo_endpoint"], verify=verify)
    assert info.status_code == 200 and info.json()["email"] == "a@b.com"
    # A refresh through Authlib: a new refresh token; the old one replayed revokes the family.
    old = token["refresh_token"]
    new = session.refresh_token(meta["token_endpoint"], refresh_token=old, verify=verify)
    assert new["refresh_token"] != old
    reused = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": old},
                           auth=(creds["client_id"], creds["client_secret"]), timeout=5, verify=verify)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    after = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                        "refresh_token": new["refresh_token"]},
                          auth=(creds["client_id"], creds["client_secret"]), timeout=5, verify=verify)
    assert after.json()["error"] == "invalid_grant" and "revoked" in after.json()["error_description"]


def test_a_public_client_uses_pkce_alone(provider):
    meta = metadata(provider)
    creds = register(meta["registration_endpoint"], token_endpoint_auth_method="none")
    assert "client_secret" not in creds
    session = OAuth2Session(creds["client_id"], scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256",
                            token_endpoint_auth_method="none")
    verifier = "p" * 50
    url, _ = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    location = login(url)
    code = parse_qs(urlsplit(location).query)["code"][0]
    wrong = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": CALLBACK, "client_id": creds["client_id"],
                                                        "code_verifier": "q" * 50}, timeout=5)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The code was spent by the failed try: a thief's wrong guess burns it for everyone.
    again = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": CALLBACK, "client_id": creds["client_id"],
                                                        "code_verifier": verifier}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_discovery_names_what_the_flow_needs(provider):
    meta = metadata(provider)
    assert meta["issuer"] == provider.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]  # no implicit flow
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "registration_endpoint"):
        assert meta[name].startswith(provider.url + "/")


@pytest.mark.parametrize("uri", ["https://evil.example/cb", "http://127.0.0.1:9/cb#frag", "http://user@127.0.0.1/cb",
                                 "http://10.0.0.1/cb", "javascript:alert(1)", 5, "http://127.0.0.1:9/cb\n"])
def test_registration_takes_loopback_redirect_uris_only(provider, uri):
    got = requests.post(provider.url + "/register", json={"redirect_uris": [uri]}, timeout=5)
    assert got.status_code == 400 and got.json()["error"] == "invalid_redirect_uri"


def authorize_query(client: str, **over) -> dict:
    base = {"response_type": "code", "client_id": client, "redirect_uri": CALLBACK, "scope": "openid",
            "state": "s1", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256"}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


@pytest.mark.parametrize("over,error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scope": "openid admin"}, "invalid_scope"),
])
def test_authorization_errors_go_back_to_the_client_with_state(provider, over, error):
    creds = register(provider.url)
    got = requests.get(provider.url + "/authorize", params=authorize_query(creds["client_id"], **over),
                       allow_redirects=False, timeout=5)
    assert got.status_code == 302
    assert got.headers["Location"].startswith(CALLBACK + "?")
    answer = parse_qs(urlsplit(got.headers["Location"]).query)
    assert answer["error"] == [error] and answer["state"] == ["s1"]


@pytest.mark.parametrize("over", [{"redirect_uri": CALLBACK + "/../evil"}, {"redirect_uri": CALLBACK + "x"},
                                  {"client_id": "nobody"}, {"redirect_uri": None}])
def test_a_wrong_client_or_redirect_uri_is_never_redirected_to(provider, over):
    creds = register(provider.url)
    got = requests.get(provider.url + "/authorize", params=authorize_query(creds["client_id"], **over),
                       allow_redirects=False, timeout=5)
    assert got.status_code == 400 and "Location" not in got.headers


def test_a_code_used_twice_revokes_what_it_gave(provider):
    creds = register(provider.url)
    verifier = "w" * 43
    from authcli.tokens.pkce import s256

    q = authorize_query(creds["client_id"], code_challenge=s256(verifier))
    location = login(provider.url + "/authorize?" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in q.items()))
    code = parse_qs(urlsplit(location).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}
    auth = (creds["client_id"], creds["client_secret"])
    first = requests.post(provider.url + "/token", data=data, auth=auth, timeout=5)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    second = requests.post(provider.url + "/token", data=data, auth=auth, timeout=5)
    assert second.json()["error"] == "invalid_grant"
    refreshed = requests.post(provider.url + "/token", data={"grant_type": "refresh_token",
                                                             "refresh_token": first.json()["refresh_token"]},
                              auth=auth, timeout=5)
    assert refreshed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("auth,data,status,error", [
    (None, {"grant_type": "authorization_code", "code": "x"}, 401, "invalid_client"),
    (("nobody", "x"), {"grant_type": "authorization_code"}, 401, "invalid_client"),
    ("ok", {}, 400, "invalid_request"),
    ("ok", {"grant_type": "password", "username": "a", "password": "b"}, 400, "unsupported_grant_type"),
    ("ok", {"grant_type": "authorization_code", "code": "nope", "redirect_uri": CALLBACK,
            "code_verifier": "a" * 43}, 400, "invalid_grant"),
    ("ok", {"grant_type": "refresh_token", "refresh_token": "nope"}, 400, "invalid_grant"),
    ("ok", {"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
])
def test_token_errors_are_the_rfcs(provider, auth, data, status, error):
    creds = register(provider.url)
    auth = (creds["client_id"], creds["client_secret"]) if auth == "ok" else auth
    got = requests.post(provider.url + "/token", data=data, auth=auth, timeout=5)
    assert got.status_code == status and got.json()["error"] == error
    if status == 401:
        assert got.headers["WWW-Authenticate"].startswith("Basic")


def test_a_wrong_secret_and_json_bodies_are_refused(provider):
    creds = register(provider.url)
    wrong = requests.post(provider.url + "/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                          auth=(creds["client_id"], "wrong"), timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    as_json = requests.post(provider.url + "/token", json={"grant_type": "refresh_token"},
                            auth=(creds["client_id"], creds["client_secret"]), timeout=5)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    twice = requests.post(provider.url + "/token", data="grant_type=refresh_token&grant_type=refresh_token",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          auth=(creds["client_id"], creds["client_secret"]), timeout=5)
    assert twice.json()["error"] == "invalid_request"


def test_the_login_form_refuses_a_cross_site_post_and_wrong_passwords(provider):
    creds = register(provider.url)
    q = authorize_query(creds["client_id"])
    cross = requests.post(provider.url + "/authorize", data={**q, "email": "a@b.com", "password": "123"},
                          headers={"Origin": "http://evil.example"}, allow_redirects=False, timeout=5)
    assert cross.status_code == 403
    wrong = requests.post(provider.url + "/authorize", data={**q, "email": "a@b.com", "password": "nope"},
                          allow_redirects=False, timeout=10)
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    deny = requests.post(provider.url + "/authorize", data={**q, "decision": "deny"}, allow_redirects=False, timeout=5)
    assert "error=access_denied" in deny.headers["Location"]


def test_one_address_registers_its_share_and_a_refresh_loop_keeps_two_records():
    from dataclasses import replace

    from authcli.server.policy import HARDENED_OAUTH

    auth = OAuthProvider(policy=replace(HARDENED_OAUTH, clients_per_address=2))
    with AuthServer(auth, request_timeout=2.0) as server:
        auth.bind(server.url)
        creds = register(server.url)
        register(server.url)
        third = requests.post(server.url + "/register", json={"redirect_uris": [CALLBACK]}, timeout=5)
        assert third.status_code == 429 and third.json()["error"] == "invalid_client_metadata"
        verifier = "r" * 43
        from authcli.tokens.pkce import s256

        q = authorize_query(creds["client_id"], code_challenge=s256(verifier))
        location = login(server.url + "/authorize?" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in q.items()))
        code = parse_qs(urlsplit(location).query)["code"][0]
        auth_pair = (creds["client_id"], creds["client_secret"])
        token = requests.post(server.url + "/token", data={"grant_type": "authorization_code", "code": code,
                                                           "redirect_uri": CALLBACK, "code_verifier": verifier},
                              auth=auth_pair, timeout=5).json()
        for _ in range(5):
            token = requests.post(server.url + "/token", data={"grant_type": "refresh_token",
                                                               "refresh_token": token["refresh_token"]},
                                  auth=auth_pair, timeout=5).json()
        assert len(auth.refresh) == 2  # the active one and the one it replaced


def test_a_prefix_matching_provider_still_refuses_a_redirect_uri_no_header_can_carry():
    from dataclasses import replace

    from authcli.server.policy import HARDENED_OAUTH

    auth = OAuthProvider(policy=replace(HARDENED_OAUTH, redirect_match="prefix"))
    with AuthServer(auth, request_timeout=2.0) as server:
        auth.bind(server.url)
        creds = register(server.url)
        for uri, status in ((CALLBACK + "/../x\r\nSet-Cookie: a=b", 400), (CALLBACK + "/../attacker", 200)):
            got = requests.get(server.url + "/authorize", params=authorize_query(creds["client_id"], redirect_uri=uri),
                               allow_redirects=False, timeout=5)
            assert got.status_code == status


def test_serve_weak_no_pkce_takes_an_authorization_request_without_a_challenge():
    with ServeProcess("--weak", "no-pkce", "--port", "0", timeout=20) as serve:
        url = next(found.group(0) for found in (re.search(r"http://127\.0\.0\.1:\d+", serve.line()) for _ in range(5))
                   if found)
        creds = register(url)
        q = authorize_query(creds["client_id"], code_challenge=None, code_challenge_method=None)
        got = requests.get(url + "/authorize", params=q, allow_redirects=False, timeout=5)
        assert got.status_code == 200 and got.headers["X-Authcli-Weak"] == "no-pkce"
        assert serve.stop(signal.SIGINT) == 0


def test_a_client_that_registered_no_refresh_grant_gets_no_refresh_token(provider):
    got = requests.post(provider.url + "/register", json={"redirect_uris": [CALLBACK]}, timeout=5).json()
    assert got["grant_types"] == ["authorization_code"]  # RFC 7591's default
    verifier = "n" * 43
    from authcli.tokens.pkce import s256

    q = authorize_query(got["client_id"], code_challenge=s256(verifier))
    location = login(provider.url + "/authorize?" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in q.items()))
    code = parse_qs(urlsplit(location).query)["code"][0]
    auth = (got["client_id"], got["client_secret"])
    token = requests.post(provider.url + "/token", data={"grant_type": "authorization_code", "code": code,
                                                         "redirect_uri": CALLBACK, "code_verifier": verifier},
                          auth=auth, timeout=5).json()
    assert "access_token" in token and "refresh_token" not in token
    refused = requests.post(provider.url + "/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                            auth=auth, timeout=5)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("pkce", [True, False])
def test_the_code_line_says_what_the_code_is_bound_to(pkce):
    """The line the AS logs for a new code names the code_challenge only when there was one (the
    no-pkce lab's weak server must not claim a binding it did not make)."""
    from authcli.events import CodeIssued
    from authcli.server.lab.weaknesses import WEAKNESSES, oauth_policy

    auth = OAuthProvider(policy=oauth_policy([WEAKNESSES["no-pkce"]]), weak=("no-pkce",))
    with AuthServer(auth, request_timeout=2.0) as server:
        auth.bind(server.url)
        creds = register(server.url)
        over = {} if pkce else {"code_challenge": None, "code_challenge_method": None}
        login(server.url + "/authorize?" + urlencode(authorize_query(creds["client_id"], **over)))
        lines = [e.message for r in server.journal.since(0) for e in r.events if isinstance(e, CodeIssued)]
    assert len(lines) == 1
    assert ("code_challenge;" in lines[0]) is pkce and ("no code_challenge (no PKCE)" in lines[0]) is not pkce


def _authorize_url(meta: dict, creds: dict, **extra) -> str:
    from urllib.parse import urlencode

    from authcli.tokens.pkce import make_verifier, s256

    q = {"response_type": "code", "client_id": creds["client_id"], "redirect_uri": CALLBACK, "scope": "openid",
         "state": "s1", "code_challenge": s256(make_verifier()), "code_challenge_method": "S256", **extra}
    return meta["authorization_endpoint"] + "?" + urlencode(q)


def _post(browser: requests.Session, url: str, **fields) -> requests.Response:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return browser.post(url.split("?")[0], data={**query, **fields}, allow_redirects=False, timeout=10)


def test_a_second_authorize_in_the_same_browser_asks_consent_but_no_password(provider):
    """OIDC Core 3.1.2.3: the AS's own sign-in cookie; consent is still asked every time (3.1.2.4)."""
    meta = metadata(provider)
    creds = register(meta["registration_endpoint"])
    browser = requests.Session()
    first = _post(browser, _authorize_url(meta, creds), email="a@b.com", password="123", decision="allow")
    assert first.status_code == 302 and "code=" in first.headers["Location"]
    set_cookie = first.headers["Set-Cookie"]
    assert set_cookie.startswith("as_session=") and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # plain http: Secure would keep requests from sending it back
    page = browser.get(_authorize_url(meta, creds), timeout=5)
    assert page.status_code == 200 and "Signed in as a@b.com" in page.text
    assert 'name="password"' not in page.text and 'value="allow"' in page.text  # consent, still asked
    second = _post(browser, _authorize_url(meta, creds), decision="allow")
    assert second.status_code == 302 and "code=" in second.headers["Location"]
    assert "Set-Cookie" not in second.headers  # the same sign-in, not a new one
    # prompt=login: the client asks for a fresh login, so the password again
    fresh = browser.get(_authorize_url(meta, creds, prompt="login"), timeout=5)
    assert 'name="password"' in fresh.text
    refused = _post(browser, _authorize_url(meta, creds, prompt="login"), decision="allow")
    assert refused.status_code == 401
    # prompt=none: no page; this AS asks consent every time, so consent_required (OIDC Core 3.1.2.6)
    silent = browser.get(_authorize_url(meta, creds, prompt="none"), allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(silent.headers["Location"]).query)["error"] == ["consent_required"]
    stranger = requests.get(_authorize_url(meta, creds, prompt="none"), allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(stranger.headers["Location"]).query)["error"] == ["login_required"]
    bad = requests.get(_authorize_url(meta, creds, prompt="none login"), allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(bad.headers["Location"]).query)["error"] == ["invalid_request"]
    # max_age: a sign-in older than that many seconds is no sign-in (OIDC Core 3.1.2.1)
    assert 'name="password"' not in browser.get(_authorize_url(meta, creds, max_age="600"), timeout=5).text
    provider.app.logins.each(lambda r: True, lambda r: r.update(auth_time=r["auth_time"] - 120))  # 2 minutes on
    assert 'name="password"' in browser.get(_authorize_url(meta, creds, max_age="60"), timeout=5).text
    for junk in ("-1", "1e3", "soon", "9" * 12):
        got = requests.get(_authorize_url(meta, creds, max_age=junk), allow_redirects=False, timeout=5)
        assert parse_qs(urlsplit(got.headers["Location"]).query)["error"] == ["invalid_request"]


def test_the_sign_in_cookie_alone_never_consents_for_another_origin(provider):
    """A page elsewhere (another port counts: another origin) posting the consent form with the
    browser's sign-in cookie gets 403; a forged or unknown cookie is no sign-in."""
    meta = metadata(provider)
    creds = register(meta["registration_endpoint"])
    browser = requests.Session()
    _post(browser, _authorize_url(meta, creds), email="a@b.com", password="123", decision="allow")
    url = _authorize_url(meta, creds)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    forged = browser.post(url.split("?")[0], data={**query, "decision": "allow"}, allow_redirects=False,
                          headers={"Origin": "http://127.0.0.1:9", "Sec-Fetch-Site": "same-site"}, timeout=5)
    assert forged.status_code == 403
    for value in ("x" * 43, "", "a" * 5000):
        other = requests.post(url.split("?")[0], data={**query, "decision": "allow"}, allow_redirects=False,
                              headers={"Cookie": f"as_session={value}"}, timeout=5)
        assert other.status_code in (401, 431, 400) and "code=" not in other.headers.get("Location", "")
