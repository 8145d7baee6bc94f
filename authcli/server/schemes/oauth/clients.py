"""The authorization server's clients: dynamic registration (RFC 7591), redirect URIs, client authentication."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Hashable
from urllib.parse import unquote_plus

from authcli.encoding import is_text, shows_plainly
from authcli.errors import BadKey, OAuthError
from authcli.server.journal import Request
from authcli.server.lab import outbound

AUTH_METHODS = ("client_secret_basic", "none")  # none: a public client, PKCE its only proof
GRANT_TYPES = ("authorization_code", "refresh_token")
MAX_URIS = 5
MAX_URI = 512
MAX_NAME = 100


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str | None           # SHA-256 of a 256-bit random secret; None: a public client
    redirect_uris: tuple[str, ...]
    name: str
    auth_method: str
    grant_types: tuple[str, ...] = ("authorization_code",)  # RFC 7591 2: the default when none is named

    @property
    def public(self) -> bool:
        return self.secret_hash is None


def _digest(secret: str) -> str:
    # A fast hash is enough: the secret is 256 random bits, not a password anyone chose.
    return hashlib.sha256(secret.encode()).hexdigest()


def loopback_uri(uri: Any) -> str:
    """A redirect URI this server accepts: http (RFC 8252 7.3) or https on a loopback address, no
    fragment (RFC 6749 3.1.2), no userinfo, nothing parsers read differently. OAuthError if not."""
    if not isinstance(uri, str) or len(uri) > MAX_URI:
        raise OAuthError("invalid_redirect_uri", f"a redirect URI is a string of at most {MAX_URI} characters")
    try:  # the one loopback URL parser the jku lab uses; https differs from it in the scheme only
        outbound.parse("http://" + uri[len("https://"):] if uri.startswith("https://") else uri)
    except BadKey:
        raise OAuthError("invalid_redirect_uri", "redirect URIs must be http:// or https:// on 127.0.0.1, "
                         "[::1] or localhost, with a path, no fragment, userinfo or encoded host") from None
    return uri


class Registry:
    """Clients by client_id, bounded; registration answers the RFC 7591 3.2.1 document.

    Each address (transport.limits.address_key: an IPv6 /64 is one) may keep `per_address`
    clients (then 429). Past `limit` in all, the oldest client of the address keeping the most
    is dropped for the newcomer: refusing everyone once full let one student with 50 addresses
    lock registration for the rest of the class in under a second (measured), for good, since
    clients never expire."""

    def __init__(self, limit: int, per_address: int = 20):
        self.limit, self.per_address = limit, per_address
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._by_address: dict[Hashable, dict[str, None]] = {}  # each address's clients, oldest first
        self._address_of: dict[str, Hashable] = {}
        self.evicted = 0

    def add(self, client: Client, address: Hashable = "") -> str | None:
        """Keep `client`; the client_id dropped to make room, if one was."""
        with self._lock:
            if len(self._by_address.get(address, ())) >= self.per_address:
                raise OAuthError("invalid_client_metadata", f"{self.per_address} clients registered from "
                                 "this address, the most one address may keep", 429)
            dropped = None
            if len(self._clients) >= self.limit:
                # Of the biggest, the address that registered last: a script in a loop, not
                # the teacher who registered early (max keeps the first of equals).
                biggest = max(reversed(self._by_address), key=lambda a: len(self._by_address[a]))
                dropped = next(iter(self._by_address[biggest]))
                self._drop(dropped)
                self.evicted += 1
            self._clients[client.client_id] = client
            self._address_of[client.client_id] = address
            mine = self._by_address.pop(address, {})
            mine[client.client_id] = None
            self._by_address[address] = mine  # addresses in the order they last registered
            return dropped

    def _drop(self, client_id: str) -> None:
        del self._clients[client_id]
        address = self._address_of.pop(client_id)
        keys = self._by_address[address]
        del keys[client_id]
        if not keys:
            del self._by_address[address]

    def __len__(self) -> int:
        return len(self._clients)

    def get(self, client_id: Any) -> Client | None:
        return self._clients.get(client_id) if isinstance(client_id, str) else None

    def register(self, metadata: Any, issued_at: int,
                 address: Hashable = "") -> tuple[Client, dict[str, Any], str | None]:
        """A new client from its metadata (RFC 7591 2), the answer's body, and the client_id
        dropped to make room for it (None when there was room)."""
        if not isinstance(metadata, dict) or not is_text(metadata):
            raise OAuthError("invalid_client_metadata", "send a JSON object of client metadata")
        uris = metadata.get("redirect_uris")
        if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_URIS:
            raise OAuthError("invalid_redirect_uri", f"redirect_uris: a list of 1 to {MAX_URIS} URIs is required")
        uris = [loopback_uri(u) for u in uris]
        method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS:
            raise OAuthError("invalid_client_metadata",
                             f"token_endpoint_auth_method: this server takes {' or '.join(AUTH_METHODS)}")
        for name, allowed in (("grant_types", GRANT_TYPES), ("response_types", ("code",))):
            value = metadata.get(name, list(allowed[:1]))
            if not isinstance(value, list) or not all(v in allowed for v in value) or allowed[0] not in value:
                raise OAuthError("invalid_client_metadata", f"{name}: this server supports {', '.join(allowed)} "
                                 f"(with {allowed[0]})")
        grants = tuple(dict.fromkeys(metadata.get("grant_types", ["authorization_code"])))
        name = metadata.get("client_name", "")
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise OAuthError("invalid_client_metadata", f"client_name: a string of at most {MAX_NAME} characters")
        # The consent page shows it to the user as the app asking: a right-to-left override or
        # a control character would make it read as another app's name (RFC 7591 5).
        if not shows_plainly(name):
            raise OAuthError("invalid_client_metadata", "client_name: no control, invisible or "
                             "direction characters (they make a name read as another)")
        secret = secrets.token_urlsafe(32) if method != "none" else None
        client = Client(secrets.token_urlsafe(32), _digest(secret) if secret else None, tuple(uris), name, method,
                        grants)
        dropped = self.add(client, address)
        body: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": issued_at,
                                "redirect_uris": uris, "token_endpoint_auth_method": method,
                                "grant_types": list(grants),
                                "response_types": ["code"]}
        if name:
            body["client_name"] = name
        if secret:
            body.update(client_secret=secret, client_secret_expires_at=0)  # 0: never expires
        return client, body, dropped

    def authenticate(self, request: Request, form: dict[str, str]) -> Client:
        """The client making a token request: client_secret_basic for a confidential client,
        client_id alone for a public one (RFC 6749 2.3.1, 3.2.1). OAuthError invalid_client."""
        values = request.header_values("Authorization")
        if len(values) > 1:
            raise OAuthError("invalid_request", "send at most one Authorization header")
        if "client_secret" in form:
            raise OAuthError("invalid_client", "client_secret in the body (client_secret_post) is not "
                             "accepted here: use HTTP Basic", 401)
        if not values:
            client = self.get(form.get("client_id"))
            if client is None:
                raise OAuthError("invalid_client", "unknown client_id", 401)
            if not client.public:
                raise OAuthError("invalid_client", "a confidential client authenticates with HTTP Basic", 401)
            return client
        client_id, secret = _basic(values[0])
        client = self.get(client_id)
        if "client_id" in form and form["client_id"] != client_id:
            raise OAuthError("invalid_request", "client_id in the body differs from the one authenticated")
        given = _digest(secret)
        # Compared against a real digest even for an unknown client: the time taken says nothing.
        ok = hmac.compare_digest(given, client.secret_hash if client and client.secret_hash else _digest(""))
        if client is None or client.public or not ok:
            raise OAuthError("invalid_client", "client authentication failed", 401)
        return client

    def snapshot(self) -> list[dict[str, Any]]:
        return [{"client_id": c.client_id, "secret": "SHA-256 stored" if c.secret_hash else "none (public)",
                 "redirect_uris": list(c.redirect_uris)} for c in list(self._clients.values())]


def _basic(value: str) -> tuple[str, str]:
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "the token endpoint takes HTTP Basic client authentication", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client", "the Basic credentials are not base64 of UTF-8 text", 401) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "the Basic credentials have no ':'", 401)
    return unquote_plus(client_id), unquote_plus(secret)


def error_body(err: OAuthError) -> str:
    return json.dumps({"error": err.error, "error_description": err.description}) + "\n"
