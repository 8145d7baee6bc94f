"""The join URL as a QR code (segno: pure Python, an optional extra): for the terminal, as a
PNG or SVG file for the projector, and as SVG on a joined student's page (so a neighbour can
scan it). Without segno the URL and token are printed alone."""

from __future__ import annotations

import io
from pathlib import Path

from authcli.errors import UsageError


def _code(url: str):
    try:
        import segno
    except ImportError:
        return None
    return segno.make(url, error="m")


def available() -> bool:
    from importlib.util import find_spec

    return find_spec("segno") is not None


def svg(url: str) -> str | None:
    """An SVG document (no script, no external reference); None without segno."""
    code = _code(url)
    if code is None:
        return None
    data = io.BytesIO()
    code.save(data, kind="svg", scale=6, border=4, xmldecl=False, light="#fff")  # scannable on a dark page
    return data.getvalue().decode("utf-8")


def terminal_text(url: str) -> str | None:
    """Half-block characters, two rows of modules per line; None without segno."""
    code = _code(url)
    if code is None:
        return None
    out = io.StringIO()
    code.terminal(out=out, compact=True, border=2)
    return out.getvalue()


def save(url: str, path: Path) -> None:
    """A PNG (scale 8) or SVG file, created new (files.write_new): never written through a symlink."""
    from authcli.files import write_new

    code = _code(url)
    if code is None:
        raise UsageError("--qr needs segno: pip install 'authcli[class]' (or pip install segno)")
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise UsageError(f"--qr writes .png or .svg, not {path.name[:80]!r}")
    data = io.BytesIO()
    code.save(data, kind=kind, scale=8, border=4)
    try:
        write_new(path, data.getvalue(), 0o644, replace=True)
    except OSError as err:
        raise UsageError(f"cannot write {str(path)[:200]}: {err.strerror or err}") from None
