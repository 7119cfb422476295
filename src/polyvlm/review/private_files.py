"""The project's files are private to its owner: folders 0700, files 0600, whatever the process umask.

The database holds the annotators' work and the session table, the key file signs sessions and device
cookies: another local user must not read either. Modes are set explicitly (open with a mode, then fchmod)
rather than through the umask, which is process-wide and not ours to change inside a library call.
"""

from __future__ import annotations

import contextlib
import os

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: str) -> None:
    """Create `path` (and parents) if missing and make it 0700."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)


def touch_private(path: str) -> None:
    """Create an empty 0600 file if there is none (SQLite then gives its WAL and SHM the same mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: str, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file + rename), mode 0600 from the first byte."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)  # an existing temp file keeps its old mode otherwise
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.replace(tmp, path)


def tighten(paths: list[str]) -> None:
    """Make existing folders 0700 and files 0600 (a project made before modes were set); others' files are left."""
    for p in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(p, DIR_MODE if os.path.isdir(p) else FILE_MODE)
