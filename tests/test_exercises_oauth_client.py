"""The last four OAuth labs' exercises solved the way a student would (`authcli lab NAME --exercise`
in its own process, then plain HTTP and `authcli decode`), and what they must not accept: eve's
own tokens, the demo password, a token, code or callback URL from another run."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from test_exercises import Exercise, authcli

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EVE = {"email": "eve@example.com", "password": "eve", "decision": "allow"}


def provider_of(run: Exercise) -> str:
    return re.search(r"(http://127\.0\.0\.1:\d+)", run.until("Its authorization server: ")).group(1)


def app_login(url: str) -> tuple[requests.Session, str]:
    """curl -si -c jar.txt URL/login: the browser's jar, and the authorization request's query."""
    jar = requests.Session()
    start = jar.get(url + "/login", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    return jar, urlsplit(start.headers["Location"]).query


def sign_in(provider: str, query: str, who: dict[str, str] = EVE) -> requests.Response:
    """curl -X POST PROVIDER/authorize -d "$QUERY" -d email=... -d password=... -d decision=allow"""
    return requests.post(provider + "/authorize", data=query + "&" + urlencode(who), headers=FORM,
                         allow_redirects=False, timeout=10)


def post_token(url: str, jar: requests.Session | None, id_token: str) -> requests.Response:
    return (jar or requests).post(url + "/login/id-token", data={"id_token": id_token}, allow_redirects=False,
                                  timeout=10)


def link(url: str, to: str) -> requests.Response:
    return requests.post(url + "/victim", json={"link": to}, timeout=10)


def quit_unsolved(run: Exercise) -> str:
    run.type("q")
    code, out = run.finish()
    assert code == 1 and "solved:" not in out and "Traceback" not in out, out
    return out


# no-state: eve's callback URL, opened by user 1's browser, logs user 1's browser in as eve.

def eve_callback(run: Exercise, provider: str) -> str:
    _, query = app_login(run.url)
    signed = sign_in(provider, query)
    assert signed.status_code == 302, signed.text
    return signed.headers["Location"]


def test_a_student_logs_user_1s_browser_in_as_eve_with_a_callback_url(tmp_path):
    with Exercise("no-state", tmp_path) as run:
        provider = provider_of(run)
        callback = eve_callback(run, provider)
        assert callback.startswith(run.url + "/callback?code=")
        assert link(run.url, callback).status_code == 202
        code, out = run.finish()
    assert code == 0, out
    assert "solved: no-state" in out and "the app logged it in as user 2" in out
    assert "User 1's browser opening a callback URL from a login eve started there, sent to the hardened" in out
    assert "\n  400 No login in progress in this browser" in out


def test_no_state_not_by_eves_own_browser_a_bad_link_or_another_runs_callback(tmp_path):
    with Exercise("no-state", tmp_path) as first:
        provider = provider_of(first)
        old = eve_callback(first, provider)
        quit_unsolved(first)
    with Exercise("no-state", tmp_path) as run:
        provider = provider_of(run)
        assert sign_in(provider, app_login(run.url)[1], {**EVE, "email": "a@b.com", "password": "123"}
                       ).status_code == 401  # the demo password: user 1's is random in every run
        jar, query = app_login(run.url)
        mine = sign_in(provider, query).headers["Location"]
        assert jar.get(mine, allow_redirects=False, timeout=10).status_code == 302  # eve's own browser: eve
        profile = jar.get(run.url + "/profile", timeout=10)  # the app's page, its API the provider's /userinfo
        assert profile.status_code == 200 and profile.text.startswith("User 2.") and '"sub": "2"' in profile.text
        assert jar.get(run.url + "/admin", timeout=10).status_code == 404  # the app has no admins
        assert link(run.url, provider + "/authorize?x=1").status_code == 202
        assert "not followed" in run.until("not followed")
        moved = {k: v for k, v in parse_qsl(urlsplit(old).query) if k != "iss"}  # its iss names the old server
        assert link(run.url, f"{run.url}/callback?{urlencode(moved)}").status_code == 202
        assert "502 The token request failed: not counted" in run.until("user 1's browser opened it")
        assert requests.post(run.url + "/victim", json={"sessionId": "x"}, timeout=10).status_code == 400
        quit_unsolved(run)


# wrong-aud: an ID token the provider made for the student's own app, about user 1, posted here.

def my_app(run: Exercise) -> tuple[str, str, str]:
    from authcli.walkthroughs.lab.practice_client import MINE

    run.until("  MY_SECRET='")
    handout = "".join(run.seen)
    return re.search(r"MY_CLIENT='([^']+)'", handout).group(1), re.search(r"MY_SECRET='([^']+)'", handout).group(1), MINE


def my_apps_token(run: Exercise, provider: str, jar_query: str, client: str, secret: str, mine: str,
                  victim: bool = True) -> str:
    """Hints 3 and 4: the link (with this login's nonce and a challenge of mine), user 1 signs in,
    the code redeemed as my app; its id_token. victim False: eve signs in herself."""
    from authcli.tokens.pkce import make_verifier, s256

    verifier = make_verifier()
    nonce = dict(parse_qsl(jar_query))["nonce"]
    query = urlencode({"response_type": "code", "client_id": client, "scope": "openid", "state": "x", "nonce": nonce,
                       "code_challenge_method": "S256", "redirect_uri": mine, "code_challenge": s256(verifier)})
    if victim:
        assert link(run.url, f"{provider}/authorize?{query}").status_code == 202
        went = run.until("their browser went to your app's redirect URI")
    else:
        went = sign_in(provider, query).headers["Location"]
    code = re.search(r"[?&]code=([^&\s]+)", went).group(1)
    tokens = requests.post(provider + "/token", auth=(client, secret), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": mine, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"]


def test_a_student_logs_in_as_user_1_with_a_token_made_for_their_own_app(tmp_path):
    with Exercise("wrong-aud", tmp_path) as run:
        provider = provider_of(run)
        client, secret, mine = my_app(run)
        jar, query = app_login(run.url)
        id_token = my_apps_token(run, provider, query, client, secret, mine)
        claims = json.loads(authcli("decode", id_token, "-f", "json"))["payload"]
        assert claims["sub"] == "1" and client in json.dumps(claims["aud"])
        answer = post_token(run.url, jar, id_token)
        assert answer.status_code == 302 and answer.headers["Location"] == "/profile", answer.text
        code, out = run.finish()
    assert code == 0, out
    assert "solved: wrong-aud" in out and f"id_token={id_token[:20]}" in out
    assert "The same request, its cookie a login started there, sent to the hardened server" in out
    assert "\n  401 ID token refused: aud" in out and "The check that stopped it: aud" in out


def test_wrong_aud_not_by_eves_own_token_the_apps_redirect_or_another_runs_token(tmp_path):
    with Exercise("wrong-aud", tmp_path) as first:
        provider = provider_of(first)
        client, secret, mine = my_app(first)
        old = my_apps_token(first, provider, app_login(first.url)[1], client, secret, mine)
        quit_unsolved(first)
    with Exercise("wrong-aud", tmp_path) as run:
        provider = provider_of(run)
        client, secret, mine = my_app(run)
        jar, query = app_login(run.url)
        assert post_token(run.url, jar, old).status_code == 401  # another run's server signed it
        assert "kid FAILED" in run.until("POST /login/id-token -> 401")
        own = my_apps_token(run, provider, query, client, secret, mine, victim=False)
        assert post_token(run.url, jar, own).status_code == 302  # eve's own token: a session for eve
        assert "a session for user 2, not user 1: not counted" in run.until("not counted")
        app_query = dict(parse_qsl(app_login(run.url)[1]))
        assert link(run.url, f"{provider}/authorize?{urlencode(app_query)}").status_code == 202
        assert "not your app" in run.until("user 1 signed in")  # the app's own redirect: no code for you
        assert "code=" not in run.seen[-1]
        assert requests.post(run.url + "/victim", data="x", timeout=10).status_code == 415
        quit_unsolved(run)


# no-nonce: user 1's captured ID token posted into a login of the student's own.

def captured(run: Exercise) -> str:
    return re.search(r"ID_TOKEN='([^']+)'", run.until("  ID_TOKEN='")).group(1)


def test_a_student_replays_user_1s_captured_id_token_into_their_own_login(tmp_path):
    with Exercise("no-nonce", tmp_path) as run:
        id_token = captured(run)
        claims = json.loads(authcli("decode", id_token, "-f", "json"))["payload"]
        assert claims["sub"] == "1" and claims["nonce"]
        jar, query = app_login(run.url)
        assert dict(parse_qsl(query))["nonce"] != claims["nonce"]
        answer = post_token(run.url, jar, id_token)
        assert answer.status_code == 302, answer.text
        code, out = run.finish()
    assert code == 0, out
    assert "solved: no-nonce" in out
    assert "with user 1's token captured there and its cookie a login started there, sent to the hardened" in out
    assert "\n  401 ID token refused: nonce" in out and "The check that stopped it: nonce" in out


def test_no_nonce_not_by_a_tampered_token_or_another_runs(tmp_path):
    with Exercise("no-nonce", tmp_path) as first:
        old = captured(first)
        quit_unsolved(first)
    with Exercise("no-nonce", tmp_path) as run:
        theirs = captured(run)
        jar, _ = app_login(run.url)
        assert post_token(run.url, jar, old).status_code == 401  # signed by another run's server
        assert "kid FAILED" in run.until("POST /login/id-token -> 401")
        tampered = authcli("tamper", theirs, "--set", 'sub="2"')
        assert post_token(run.url, jar, tampered).status_code == 401  # the signature still counts
        assert post_token(run.url, jar, "not-a-token").status_code == 401
        quit_unsolved(run)


# implicit: the access token in user 1's history line, used at /userinfo.

def history(run: Exercise) -> tuple[str, str]:
    """The lines the exercise hands out to paste: CLIENT='...' and HISTORY='...'."""
    client = re.search(r"CLIENT='([^']+)'", run.until("  CLIENT='")).group(1)
    url = re.search(r"HISTORY='([^']+)'", run.until("  HISTORY='")).group(1)
    return client, dict(parse_qsl(urlsplit(url).fragment))["access_token"]


def userinfo(url: str, token: str) -> requests.Response:
    return requests.get(url + "/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_student_uses_the_access_token_from_user_1s_history(tmp_path):
    with Exercise("implicit", tmp_path) as run:
        _, token = history(run)
        assert json.loads(authcli("decode", token, "-f", "json"))["payload"]["sub"] == "1"
        answer = userinfo(run.url, token)
        assert answer.status_code == 200 and answer.json()["sub"] == "1", answer.text
        code, out = run.finish()
    assert code == 0, out
    assert "solved: implicit" in out and f"Authorization: Bearer {token}" in out
    assert "User 1's same implicit-flow login, sent to the hardened server" in out
    assert "error=unsupported_response_type" in out


def test_implicit_not_by_eves_own_token_the_demo_password_or_another_runs(tmp_path):
    with Exercise("implicit", tmp_path) as first:
        _, old = history(first)
        quit_unsolved(first)
    with Exercise("implicit", tmp_path) as run:
        client, _ = history(run)
        query = urlencode({"response_type": "token", "client_id": client, "scope": "openid", "state": "x",
                           "redirect_uri": "http://127.0.0.1:9/callback"})
        demo = sign_in(run.url, query, {**EVE, "email": "a@b.com", "password": "123"})
        assert demo.status_code == 401  # user 1's password is random in every run
        own = sign_in(run.url, query).headers["Location"]
        mine = dict(parse_qsl(urlsplit(own).fragment))["access_token"]
        assert userinfo(run.url, mine).json()["sub"] == "2"  # eve's own token: eve's claims, not counted
        assert "user 1, but not by implicit: not counted" in run.until("not counted")
        assert userinfo(run.url, old).status_code == 401  # another run's server signed it
        quit_unsolved(run)
