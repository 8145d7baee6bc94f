"""`authcli tamper` against real verifiers: authcli's hardened server refuses what it must over
real HTTP, the lab's weak server with the matching mistake accepts it, and node's jsonwebtoken
verifies what tamper re-signs (and refuses what it only edited)."""

from __future__ import annotations

import functools
import json
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt as pyjwt
import pytest
import requests

from authcli.clock import now as clock_now
from authcli.passwords import ATTACKER_EMAIL, ATTACKER_PASSWORD
from authcli.server.transport.httpd import AuthServer
from authcli.server.lab.weaknesses import WEAKNESSES
from authcli.walkthroughs.lab.attacks import jwt_apps
from test_sign_keys import VERIFY_JS, node_jwt  # noqa: F401 - node_jwt is a fixture
from test_tamper import cli, tampered

BECOME_USER_1 = ["--set", 'sub="1"', "--set", "userId=1"]  # the attacker is user 2 (eve)


class KeySetHost:
    """The attacker's `python3 -m http.server` in a folder: another loopback port, port 0."""

    def __init__(self, folder: Path):
        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-jwks")

    def __enter__(self) -> KeySetHost:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def attacker_token(url: str) -> str:
    resp = requests.post(url + "/login", json={"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]


def profile(url: str, token: str) -> requests.Response:
    return requests.get(url + "/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def public_pem(url: str, folder: Path) -> Path:
    """The server's published RSA key, written as PEM: the alg-confusion attacker's HMAC secret."""
    from cryptography.hazmat.primitives import serialization

    jwk = requests.get(url + "/.well-known/jwks.json", timeout=10).json()["keys"][0]
    public = pyjwt.algorithms.RSAAlgorithm.from_jwk(jwk)
    path = folder / "public.pem"
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def modes(weakness: str, folder: Path, host: KeySetHost, url: str) -> list[str]:
    if weakness == "alg-confusion":
        return ["--alg", "HS256", "--secret-file", str(public_pem(url, folder))]
    return {"alg-none": ["--alg", "nOnE"], "no-verify": [], "jwk-header": ["--embed-jwk"],
            "weak-secret": ["--secret", "mySecretKey"],
            "kid-path": ["--header", "kid=../../../../../../../../dev/null", "--secret", ""],
            "jku-header": ["--jku", f"{host.url}/jwks.json", "--jwks-out", str(folder / "jwks.json")]}[weakness]


@pytest.mark.parametrize("weakness", ["alg-none", "no-verify", "jwk-header", "weak-secret", "jku-header", "kid-path",
                                      "alg-confusion"])
def test_the_weak_server_accepts_the_matching_tampering_and_the_hardened_one_refuses(weakness, tmp_path):
    weak_app, hard_app = jwt_apps(WEAKNESSES[weakness])
    with AuthServer(weak_app) as weak, AuthServer(hard_app) as hard, KeySetHost(tmp_path) as host:
        token = attacker_token(weak.url)
        forged, diff = tampered(token, *BECOME_USER_1, *modes(weakness, tmp_path, host, weak.url))
        assert '~ payload sub: "2" -> "1"' in diff
        got = profile(weak.url, forged)
        assert (got.status_code, got.text) == (200, "Welcome user 1\n")
        assert got.headers["X-Authcli-Weak"] == weakness
        refused = profile(hard.url, forged)  # the very same bytes
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


@pytest.mark.parametrize("how", [["--alg", "none"], ["--alg", "NONE"], [], ["--blank-sig"], ["--embed-jwk"],
                                 ["--header", "alg=HS512"], ["--secret", "mySecretKey"]],
                         ids=["alg none", "alg NONE", "old signature kept", "blank signature", "embedded jwk",
                              "alg changed, signature kept", "another secret"])
def test_authcli_s_own_server_refuses_each_tampering(how):
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.passwords import lab_users
    from authcli.tokens.signing import make_signing_key

    with AuthServer(JwtAuth(make_signing_key("HS256"), 300, users=lab_users())) as server:
        token = attacker_token(server.url)
        assert profile(server.url, token).status_code == 200
        forged, _ = tampered(token, *BECOME_USER_1, *how)
        refused = profile(server.url, forged)
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        untouched, _ = tampered(token)  # no edit, signature kept: the same token, still good
        assert untouched == token and profile(server.url, untouched).status_code == 200


def node_verify(node: str, token: str, key: str, alg: str) -> subprocess.CompletedProcess:
    return subprocess.run([node, "-e", VERIFY_JS, token, key, alg, str(int(clock_now()))],
                          capture_output=True, text=True, timeout=20)


def test_node_jsonwebtoken_verifies_a_token_re_signed_with_a_secret(node_jwt):  # noqa: F811
    secret = "k" * 40
    token = cli("sign", "--sub", "9", "--exp", "5m", "--aud", "class", "--secret", "an-old-secret-" * 3).stdout.strip()
    forged, _ = tampered(token, "--set", "role=admin", "--set", "n=[1,2]", "--secret", secret)
    out = node_verify(node_jwt, forged, secret, "HS256")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) | {"iat": 0, "exp": 0} == {"sub": "9", "aud": "class", "role": "admin", "n": [1, 2],
                                                              "iat": 0, "exp": 0}
    kept, _ = tampered(token, "--set", "role=admin")  # edited, old signature: node refuses it too
    refused = node_verify(node_jwt, kept, "an-old-secret-" * 3, "HS256")
    assert refused.returncode != 0 and "invalid signature" in refused.stderr


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_node_jsonwebtoken_verifies_a_token_re_signed_with_a_key(node_jwt, alg, tmp_path):  # noqa: F811
    assert cli("keys", "--alg", alg, "--out", str(tmp_path)).exit_code == 0
    private, public = (tmp_path / f"authcli-{alg.lower()}.{s}.pem" for s in ("private", "public"))
    token = cli("sign", "--sub", "9", "--exp", "5m", "--aud", "class", "--secret", "x" * 40).stdout.strip()
    forged, _ = tampered(token, "--set", 'sub="1"', "--key", str(private), "--alg", alg)
    out = node_verify(node_jwt, forged, public.read_text(), alg)
    assert out.returncode == 0 and json.loads(out.stdout)["sub"] == "1", out.stderr
    unsigned, _ = tampered(forged, "--alg", "none")
    assert node_verify(node_jwt, unsigned, public.read_text(), alg).returncode != 0
