"""What `authcli serve` tells its user beside the banner: how to trust its HTTPS, how to check
its tokens yourself, the addresses students can type (LAN discovery), the browser page."""

from __future__ import annotations


def https_hints(tls, path: str = "/profile") -> list[str]:
    if tls is None:
        return []
    return [f"HTTPS: clients verify this server against the CA in {tls.ca}"
            + (" (a throwaway one, deleted when the server stops)" if tls.directory else "") + ". Try: "
            f"curl --cacert {tls.ca} -i URL{path}   (never -k: that would trust anyone)"]


def verify_hints(key, given_secret: str | None) -> list[str]:
    """How to check (and make) this server's tokens yourself: what the README's last step needs."""
    if key.secret is None and key.jwks is None:
        return [f"Tokens are signed with a {key.private.key_size}-bit {key.alg} key that this server publishes "
                "nowhere (/.well-known/jwks.json: 404): two of its tokens give it away (authcli lab "
                "alg-confusion-no-key)."]
    if key.secret is None:
        return [f"Tokens are signed with a {key.alg} private key; the public key is at "
                "/.well-known/jwks.json. Verify one: curl -s URL/.well-known/jwks.json > jwks.json && "
                'authcli decode "$TOKEN" --key jwks.json']
    secret = key.secret.decode("utf-8", "replace")
    where = "the secret you gave" if given_secret is not None else (
        "256 random bits made at start, written as 43 characters, shown here so you can verify and "
        "sign tokens yourself; anyone who sees it can sign tokens for any user, and it dies with this "
        "server" if key.generated else "the handout's, the weak-secret lab's mistake: authcli crack finds it")
    return [f"HS256 secret ({where}): {secret}",
            f'Verify a token: authcli decode "$TOKEN" --secret {secret}   '
            f"Make one: authcli sign --sub 1 --exp 15m --secret {secret}"]


def reachable(host: str, port: int) -> list[str]:
    """The URLs students can type, for a server bound beyond loopback: the very addresses the
    server answers to (server/transport/hosts.py), so every printed URL works and no other name does."""
    from authcli.server.transport.hosts import interface_addresses

    if host not in ("0.0.0.0", "::"):
        return [f"http://{host}:{port}/"]
    return [f"http://{address}:{port}/" for address in interface_addresses()]


def open_in_browser(url: str) -> str:
    """Open `url` in the default browser; what to tell the user."""
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    return f"Opened {url} in your browser." if opened else f"No browser could be started from here: open {url} yourself."


def oauth_hints(policy, tls=None) -> list[str]:
    """Where a class's own client starts: discovery, then registration of its redirect URI; what
    this server's policy asks of it (a lab server's says what it does not)."""
    match = "matched exactly" if policy.redirect_match == "exact" else "matched BY PREFIX (the lab's mistake)"
    pkce = ("PKCE with S256 is required of every client" if policy.require_pkce
            else "PKCE is NOT required (the lab's mistake)")
    curl = f"curl --cacert {tls.ca}" if tls is not None else "curl"
    discovery = [] if tls is not None else ["Discovery: curl URL/.well-known/openid-configuration"]  # https_hints has it
    return [*discovery,
            f"Register a client (redirect URIs on loopback only, {match}): {curl} -H 'Content-Type: "
            "application/json' -d '{\"redirect_uris\": [\"http://127.0.0.1:8080/callback\"]}' URL/register",
            f"{pkce}; see the README for a five-line Authlib client."]
