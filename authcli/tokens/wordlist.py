"""The wordlist of secrets people really use (authcli/data/secrets.txt): cracking and the
short-secret warning both read it."""

from __future__ import annotations


def wordlist(data: bytes | None = None) -> list[bytes]:
    """Candidate secrets, one per line; `#` lines are comments. None: the list authcli ships."""
    if data is None:
        import os

        import authcli.data as package

        # What pkgutil.get_data does (a file beside the package, or in a zip), without importing
        # importlib.resources (tempfile, zipfile, shutil...): `authcli sign` reads this list at
        # every run, and that import was a tenth of its start.
        data = package.__spec__.loader.get_data(os.path.join(os.path.dirname(package.__file__), "secrets.txt"))
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip() and not line.startswith(b"#")]
