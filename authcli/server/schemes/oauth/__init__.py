"""OAuth 2.0 and OpenID Connect: the authorization server, a client web app and a resource server."""

from authcli.errors import OAuthError
from authcli.server.schemes.oauth.clients import Client, Registry
from authcli.server.schemes.oauth.provider import OAuthProvider

__all__ = ["Client", "OAuthError", "OAuthProvider", "Registry"]
