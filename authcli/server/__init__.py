"""The tiny local HTTP server and the auth schemes it runs.

Names are imported on first use (PEP 562), so importing a small module such as
`authcli.server.journal` does not pull in the HTTP server.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "AuthServer": "authcli.server.transport.httpd",
    "JwtAuth": "authcli.server.schemes.jwt_auth",
    "SessionAuth": "authcli.server.schemes.session_auth",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
