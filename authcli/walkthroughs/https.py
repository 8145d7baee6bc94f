"""What HTTPS adds to the demos: the handshake's facts, the Secure cookie kept off plain HTTP,
and the notes on Secure, __Host- and Strict-Transport-Security."""

from __future__ import annotations

from authcli.client import ScriptedClient
from authcli.errors import WalkthroughError
from authcli.server.httpd import AuthServer
from authcli.tls import TlsFiles, inspect
from authcli.walkthroughs.common import expect
from authcli.walkthroughs.model import ExchangeBlock, Note, Step, Table, TableBlock, step

HTTPS_NOTES = [
    Note("Secure", "the cookie travels over HTTPS only: the client never sends it to an http:// "
         "URL, where anyone on the network could read it (browsers make one exception: localhost "
         "and 127.0.0.1 count as secure, so they send it there even over http)."),
    Note("__Host- prefix", "the browser accepts a cookie named __Host-... only with Secure, Path=/ "
         "and no Domain: no subdomain, and no plain-HTTP page, can set or overwrite it."),
    Note("Strict-Transport-Security", "every HTTPS answer carries it: a browser that saw it goes "
         "straight to https:// next time, so a network attacker cannot downgrade the first request "
         "to plain HTTP. Production sends max-age=31536000 (a year); this demo 300 s, because HSTS "
         "is per host name and a class's browsers must not force https://localhost for a year."),
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
        "Everything below, headers and bodies, cookies and tokens, crossed the network encrypted.",
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
    return step(None, "HTTPS: the Secure cookie is never sent over plain HTTP", [
        f"The same server, on another port of the same host, speaking plain HTTP ({where}). "
        f"Cookies belong to a host, not a port, so the jar has a cookie for this host: but it is "
        f"Secure, and requests does not send it over http://. The request goes out with no Cookie "
        "header: 401. Browsers do the same for every real host name; for localhost and 127.0.0.1, "
        "which they count as secure, Chromium would send it (tested in tests/test_https.py).",
    ], ExchangeBlock(sent), predict="The same client asks a plain-HTTP port of the same host for /profile.")
