"""The tiny local HTTP server and the auth schemes it runs."""

from authcli.server.httpd import AuthServer
from authcli.server.jwt_auth import JwtAuth
from authcli.server.session_auth import SessionAuth

__all__ = ["AuthServer", "JwtAuth", "SessionAuth"]
