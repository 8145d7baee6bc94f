"""Files authcli reads by name (regular files only) and files it writes (new, then renamed).

Reading: a FIFO, a terminal or a device named where a key file is expected would block or
never end (`kid=../../dev/stdin` froze the lab server; `--key FIFO` hung decode). The file is
opened with O_NONBLOCK, so even opening a FIFO cannot wait, and read only when fstat says it
is a regular file.

Writing: a private key written through a symlink, or into a file someone planted in a shared
folder, is a leaked key. Every file is created new beside its target (O_EXCL|O_NOFOLLOW, its
final mode from the start) and renamed over it: a rename replaces a symlink, never writes
through it.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from authcli.errors import FileTooLarge, NotRegularFile

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _is_dev_null(info: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == null.st_rdev


def read_regular(path: str | os.PathLike, limit: int, *, allow_null: bool = False) -> bytes:
    """At most `limit` bytes of a regular file (FileTooLarge past it); NotRegularFile for anything
    else, decided before a single byte is read. `allow_null`: /dev/null reads as empty (it can
    neither block nor go on forever), which the kid lab's attack relies on."""
    fd = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if allow_null and _is_dev_null(info):
                return b""
            raise NotRegularFile(0, f"{_kind(info.st_mode)}, not a regular file", str(path))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(0, f"larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes, mode: int, *, replace: bool = False) -> None:
    """Write `data` to `path` as a new file with `mode`: created under a random name in the same
    folder with O_EXCL|O_NOFOLLOW, then renamed into place. Without `replace`, an existing name
    (a dangling symlink included) is refused with FileExistsError."""
    if not replace and os.path.lexists(path):
        raise FileExistsError(17, "exists", str(path))
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, _NEW_FLAGS, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # the umask may have taken bits a public key needs
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(temp, path)
        else:
            # link() fails if the name appeared meanwhile: never replace what we were told to keep.
            try:
                os.link(temp, path, follow_symlinks=False)
            except FileExistsError:
                raise
            except OSError:  # a filesystem without hard links: the check above has to do
                os.replace(temp, path)
            else:
                os.unlink(temp)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
