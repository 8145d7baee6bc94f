"""The wordlist of secrets people really use (authcli/data/secrets.txt): cracking and the
short-secret warning both read it."""

from __future__ import annotations


def wordlist(data: bytes | None = None) -> list[bytes]:
    """Candidate secrets, one per line; `#` lines are comments. None: the list authcli ships."""
    if data is None:
        from importlib.resources import files

        data = files("authcli.data").joinpath("secrets.txt").read_bytes()
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip() and not line.startswith(b"#")]
