"""HTTPS at the door: the first byte says TLS hello or plain HTTP; a hello gets the handshake,
without blocking the loop, and plain HTTP one readable answer saying this port speaks HTTPS."""

from __future__ import annotations

import selectors
import socket
import ssl
from typing import TYPE_CHECKING

from authcli.errors import HttpError

if TYPE_CHECKING:
    from authcli.server.transport.connection import Connection, Shared

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
TLS_HANDSHAKE = 0x16  # the first byte of every TLS connection: a handshake record


class TlsDoor:
    """Starting TLS on a new connection: a part of Loop (which provides _receive, _send, _settle,
    _set_mask, _refuse and _close)."""

    shared: Shared

    def _start_tls(self, conn: Connection) -> None:
        """HTTPS: a TLS hello gets the handshake; plain HTTP gets one plain answer saying so."""
        try:
            first = conn.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            first = b""
        if not first:
            self._close(conn)
            return
        conn.tls_pending = False
        if first[0] != TLS_HANDSHAKE:
            self._refuse(conn, HttpError(400, "This port speaks HTTPS: use https:// (plain HTTP "
                                              "would send cookies and tokens readable on the wire)"))
            self._send(conn)
            self._settle(conn)
            return
        self._set_mask(conn, 0)
        conn.sock = self.shared.tls.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        conn.handshaking = True
        self._handshake(conn)

    def _handshake(self, conn: Connection) -> None:
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._set_mask(conn, READ)
            return
        except ssl.SSLWantWriteError:
            self._set_mask(conn, WRITE)
            return
        except (ssl.SSLError, OSError):  # a client that does not trust the CA, or not TLS at all
            self._close(conn)
            return
        conn.handshaking = False
        self._set_mask(conn, READ)
        self._receive(conn)  # the request may have come with the handshake's last flight
