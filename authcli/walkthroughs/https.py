"""What HTTPS adds to the demos: the handshake's facts, the Secure cookie kept off plain HTTP,
and the defences Secure, __Host- and Strict-Transport-Security, with what this demo shows of them."""

from __future__ import annotations

from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.server.transport.httpd import AuthServer
from authcli.tls import TlsFiles, inspect
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import ExchangeBlock, Note, Step, Table, TableBlock, step

HTTPS_DEFENCES = ["secure", "host-prefix", "hsts"]
HTTPS_NOTES = [
    Note("Strict-Transport-Security", "every HTTPS answer carries it, so you can see it, but in this "
         "demo it has no effect: 127.0.0.1 is an IP address, never recorded as an HSTS host "
         "[^rfc6797-8.1]; requests ignores the header; Chromium did not apply it to localhost here either "
         "(tested with this demo's certificate). A year (max-age=31536000) is the usual advice [^owasp-hsts]; this demo sends 300 s."),
]


def tls_step(server: AuthServer, files: TlsFiles) -> Step:
    """A real handshake with the server, verified against the CA, and what it agreed."""
    agreed = inspect(server.host, server.port, files.ca)
    rows = [["protocol", agreed.version], ["cipher", f"{agreed.cipher} ({agreed.bits}-bit key)"],
            ["certificate subject", agreed.subject], ["names it is valid for (SAN)", ", ".join(agreed.names)],
            ["valid", f"{agreed.not_before} to {agreed.not_after}"], ["issued by", agreed.issuer]]
    return step(None, f"HTTPS: what the TLS handshake agreed with {server.url}", [
        f"authcli made a throwaway certificate authority and a certificate for localhost, "
        f"127.0.0.1 and ::1 in a private temporary directory, deleted at exit. The client trusts "
        f"that CA and nothing else ({files.ca}): it verifies the server, never verify=False.",
        "Every request below goes over TLS, encrypted, except the one step that uses a plain-HTTP "
        "port on purpose.",
    ], TableBlock(Table("The TLS connection", ["what", "agreed"], rows)))


def plain_http_step(server: AuthServer, client: ScriptedClient, cookie: str) -> Step:
    """The same app on a plain-HTTP port of the same host: the Secure cookie stays home."""
    with AuthServer(server.app) as plain:
        where = plain.url
        other = ScriptedClient(plain, jar_of=client)
        sent = expect(other.send("GET", "/profile"), 401, "GET /profile over plain HTTP")
        other.close()
    if cookie in (sent.request.header("Cookie") or ""):
        raise WalkthroughError("the client sent the Secure cookie over plain HTTP")
    return step(None, "HTTPS: the Secure cookie is not sent to a plain-HTTP port", [
        f"The same server, on another port of the same host, speaking plain HTTP ({where}). "
        f"Cookies belong to a host, not a port [^rfc6265-8.5], so the jar has a cookie for this host: "
        f"but it is Secure, and requests does not send it over http://. The request goes out with no "
        "Cookie header: 401. Browsers do the same for a real host name [^rfc6265-4.1.2.5]. Loopback "
        "is where they differ: Chromium counts http://127.0.0.1 as secure and would send it (tested "
        "in tests/test_https.py); Safari does not [^webkit-281149].",
    ], ExchangeBlock(sent), predict="The same client asks a plain-HTTP port of the same host for /profile.")
