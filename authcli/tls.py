"""HTTPS for the demos: a throwaway certificate authority and a server certificate made with
`cryptography`, in a private temporary directory deleted at exit, or files the user gives.

Clients verify the server against the CA file (requests' `verify=CA`, curl's `--cacert`):
nothing here ever turns verification off.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authcli.errors import TlsError

NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")
LIFETIME = dt.timedelta(hours=24)  # a throwaway certificate: a day is plenty for a class


@dataclass(frozen=True)
class TlsFiles:
    """Where the PEM files are: the server's certificate chain and key, and the CA clients trust."""

    cert: Path
    key: Path
    ca: Path
    directory: Path | None = None  # a private temporary directory, removed by `remove()`

    def server_context(self) -> ssl.SSLContext:
        """The server's TLS settings: TLS 1.2 at least, Python's default ciphers."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert, self.key)
        except ssl.SSLError as err:
            reason = ("the key does not match the certificate" if "KEY_VALUES_MISMATCH" in str(err)
                      else "not a PEM certificate and its unencrypted private key")
            raise TlsError(f"cannot serve HTTPS with {self.cert} and {self.key}: {reason}") from None
        except OSError as err:
            raise TlsError(f"cannot read {err.filename or self.cert}: {err.strerror}") from None
        return context

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def _name(common: str) -> Any:
    from cryptography.x509.oid import NameOID
    from cryptography import x509

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "authcli demo")])


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_files(now: dt.datetime | None = None, lifetime: dt.timedelta = LIFETIME) -> TlsFiles:
    """A new CA and a certificate it signed for localhost, 127.0.0.1 and ::1, written to a new
    directory only this user can read. ECDSA P-256: fast to make, what browsers prefer."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = now or dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(minutes=5), now + lifetime
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("authcli throwaway CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    names = [x509.DNSName(n) for n in NAMES] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_name)
            .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory = Path(tempfile.mkdtemp(prefix="authcli-tls-"))  # mode 0700: this user only
    pem = serialization.Encoding.PEM
    files = TlsFiles(directory / "server.pem", directory / "server-key.pem", directory / "ca.pem", directory)
    for path, data in ((files.cert, cert.public_bytes(pem)), (files.key, _pem_key(server_key)),
                       (files.ca, ca.public_bytes(pem))):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return files


def given_files(cert: Path, key: Path, ca: Path | None, now: dt.datetime | None = None) -> TlsFiles:
    """The user's own files; clients trust `ca` (default: the certificate itself, self-signed).
    A pair that does not match, or a certificate out of its validity, is one line now rather
    than a failed handshake for every client later."""
    import stat

    for path in (cert, key, ca or cert):
        # OpenSSL opens what it is given: a FIFO or a terminal would block `serve` forever.
        try:
            regular = stat.S_ISREG(os.stat(path).st_mode)
        except OSError as err:
            raise TlsError(f"cannot read {path}: {err.strerror}") from None
        if not regular:
            raise TlsError(f"{path} is not a regular file")
    files = TlsFiles(cert, key, ca or cert)
    files.server_context()
    from cryptography import x509

    leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    now = now or dt.datetime.now(dt.timezone.utc)
    if now > leaf.not_valid_after_utc:
        raise TlsError(f"the certificate {cert} expired at {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: "
                       "every client would refuse it")
    if now < leaf.not_valid_before_utc:
        raise TlsError(f"the certificate {cert} is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return files


@dataclass(frozen=True)
class Connection:
    """What one real TLS handshake with the server gave: what the walkthrough shows."""

    version: str
    cipher: str
    bits: int
    subject: str
    issuer: str
    names: list[str]
    not_before: str
    not_after: str


def inspect(host: str, port: int, ca: Path, server_name: str = "localhost") -> Connection:
    """Handshake with the server, verifying it against `ca`, and report what was agreed."""
    import socket

    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection((host, port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        cert = tls.getpeercert()
        cipher, _, bits = tls.cipher()
        version = tls.version() or "?"

    def flat(name: Any) -> str:
        return ", ".join(f"{k}={v}" for rdn in name for k, v in rdn)

    # One word each (ISO 8601): a validity stays whole when a table wraps at 80 columns.
    from authcli.timefmt import iso as utc

    names = [f"{kind}:{value}" for kind, value in cert.get("subjectAltName", ())]
    return Connection(version, cipher, bits or 0, flat(cert["subject"]), flat(cert["issuer"]), names,
                      utc(ssl.cert_time_to_seconds(cert["notBefore"])),
                      utc(ssl.cert_time_to_seconds(cert["notAfter"])))
