"""Inputs and outputs behind a URL (gs://, s3://, hdfs://, ...) through pyarrow.fs: list, fetch, publish."""

from __future__ import annotations

import fnmatch
import os
import shutil
from datetime import timedelta
from typing import Any

import pyarrow.fs as pafs

COPY_BUFFER = 8 << 20  # bytes per read while streaming a remote file to or from the local disk


def is_remote(path: str) -> bool:
    """True for a URL with a scheme other than file:// (a local path or file:// URL is not remote)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme not in ("", "file") and "/" not in scheme


def filesystem(url: str) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem of `url` and the path inside it.

    A gs:// URL goes to the GCS emulator named by STORAGE_EMULATOR_HOST when it is set (the variable
    Google's own clients read), anonymously; any other URL is resolved by pyarrow (its query string may
    carry options, e.g. s3://bucket/run?endpoint_override=127.0.0.1:9000&scheme=http for MinIO).
    """
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if url.startswith("gs://") and emulator:
        scheme, _, host = emulator.rpartition("://")
        fs: Any = pafs.GcsFileSystem(anonymous=True, endpoint_override=host, scheme=scheme or "http",
                                     retry_time_limit=timedelta(seconds=30))  # fmt: skip
        return fs, url[len("gs://") :].split("?", 1)[0]
    return pafs.FileSystem.from_uri(url)


def join_url(url: str, *parts: str) -> str:
    """`url`/parts (a URL's query string, if any, stays at the end)."""
    base, sep, query = url.partition("?")
    return "/".join([base.rstrip("/"), *parts]) + (sep + query if sep else "")


def _with_path(url: str, path: str) -> str:
    scheme = url.split("://", 1)[0]
    query = url.partition("?")[2]
    return f"{scheme}://{path}" + (f"?{query}" if query else "")


def glob_remote(pattern: str) -> list[str]:
    """The files under a URL that match its glob pattern (`*`, `?`, `[..]`; `**` crosses folders), sorted."""
    fs, path = filesystem(pattern)
    fixed = []
    for part in path.split("/"):
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    base = "/".join(fixed)
    if base == path:  # no wildcard: one file
        info = fs.get_file_info(path)
        return [pattern] if info.type == pafs.FileType.File else []
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    found = [i.path for i in infos if i.type == pafs.FileType.File and fnmatch.fnmatchcase(i.path, path)]
    return [_with_path(pattern, p) for p in sorted(found)]


def download(url: str, local: str) -> None:
    """Stream a remote file to a local path (written under a temporary name, then renamed)."""
    fs, path = filesystem(url)
    os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
    tmp = f"{local}.{os.getpid()}.part"
    with fs.open_input_stream(path) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, COPY_BUFFER)
    os.replace(tmp, local)


def upload(local: str, url: str) -> None:
    """Stream a local file to a URL (object stores publish an object whole, when the stream closes)."""
    fs, path = filesystem(url)
    with open(local, "rb") as src, fs.open_output_stream(path) as dst:
        shutil.copyfileobj(src, dst, COPY_BUFFER)


def list_files(url: str) -> list[str]:
    """Paths, relative to `url`, of every file under it (none when it does not exist)."""
    fs, path = filesystem(url)
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    prefix = path.rstrip("/") + "/"
    return sorted(i.path[len(prefix) :] for i in infos if i.type == pafs.FileType.File)


def file_size(path: str) -> int:
    """Size in bytes of a local file or of a remote one."""
    if not is_remote(path):
        return os.path.getsize(path)
    fs, inner = filesystem(path)
    return int(fs.get_file_info(inner).size or 0)
