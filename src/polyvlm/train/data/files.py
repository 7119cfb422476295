"""Shard files by position: open (local or gs:// / s3:// through pyarrow.fs), and find or read one record.

Streaming sources read a record by its address, not by reading what comes before it: a JSONL line or a
JSON array element by its byte offset, a WebDataset sample by the offset of its first tar header. The
scans here find those addresses in one pass (the source index caches them); the readers seek.
"""

from __future__ import annotations

import codecs
import glob
import json
import os
import re
import tarfile
from collections.abc import Iterator
from typing import IO

from polyvlm.core.remote_fs import filesystem, glob_remote, is_remote

CHUNK = 1 << 20
"""bytes per read while scanning"""
WDS_KEY = re.compile(r"^((?:.*/|)[^./]+)[.]([^/]*)$")
"""webdataset's own rule: the key is the member name up to the first dot of its basename"""


def open_file(path: str) -> IO[bytes]:
    """A seekable binary file, local or behind a URL (pyarrow's random-access file: reads by range)."""
    if not is_remote(path):
        return open(path, "rb")  # noqa: SIM115 (the caller closes it)
    fs, inner = filesystem(path)
    return fs.open_input_file(inner)  # type: ignore[return-value]


def match_files(pattern: str) -> list[str]:
    """The files a glob pattern matches, sorted: local, or under a gs:// / s3:// URL."""
    if is_remote(pattern):
        return glob_remote(pattern)
    return sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))


def file_stamp(path: str) -> tuple[int, float]:
    """(size, modification time) of a file: what a cached index of it is keyed by."""
    if not is_remote(path):
        st = os.stat(path)
        return st.st_size, st.st_mtime
    fs, inner = filesystem(path)
    info = fs.get_file_info(inner)
    return int(info.size or 0), info.mtime.timestamp() if info.mtime else 0.0


def scan_lines(f: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(line number from 1, byte offset, line) of every non-blank line, read in large chunks."""
    offset, line_no, rest = 0, 0, b""
    while True:
        chunk = f.read(CHUNK)
        data = rest + chunk
        lines = data.split(b"\n")
        rest = lines.pop() if chunk else b""
        for line in lines:
            line_no += 1
            if line.strip():
                yield line_no, offset, line
            offset += len(line) + 1
        if not chunk:
            return


def line_at(f: IO[bytes], offset: int) -> bytes:
    """The line that starts at ``offset``."""
    f.seek(offset)
    out = b""
    while True:
        chunk = f.read(64 << 10)
        cut = chunk.find(b"\n")
        if cut >= 0 or not chunk:
            return out + (chunk[:cut] if cut >= 0 else chunk)
        out += chunk


def json_array_items(data: bytes) -> Iterator[tuple[int, object]]:
    """(byte offset, value) of each element of a JSON array held in ``data``; ValueError when it is not one."""
    text = data.decode("utf-8")
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if text[i : i + 1] != "[":
        raise ValueError("a LLaVA JSON file holds an array of records")
    i, byte_at, char_at = _skip_ws(text, i + 1), 0, 0
    if text[i : i + 1] == "]":
        return
    while True:
        byte_at += len(text[char_at:i].encode("utf-8"))  # bytes are counted piecewise: one pass in all
        char_at = i
        value, end = decoder.raw_decode(text, i)
        yield byte_at, value
        i = _skip_ws(text, end)
        if text[i : i + 1] == "]":
            return
        if text[i : i + 1] != ",":
            raise json.JSONDecodeError("expected , or ]", text, i)
        i = _skip_ws(text, i + 1)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def json_at(f: IO[bytes], offset: int) -> object:
    """The JSON value that starts at byte ``offset``, reading only as much as it spans."""
    f.seek(offset)
    decoder, text = codecs.getincrementaldecoder("utf-8")(), ""
    size = 64 << 10
    while True:
        chunk = f.read(size)
        text += decoder.decode(chunk, final=not chunk)
        try:
            return json.JSONDecoder().raw_decode(text)[0]
        except json.JSONDecodeError:
            if not chunk:
                raise
        size *= 2  # a long record: fewer, larger reads


def tar_groups(f: IO[bytes], skip: tuple[str, ...] = ()) -> Iterator[tuple[int, str, dict[str, bytes]]]:
    """(header offset of its first member, key, {extension: bytes}) of each WebDataset sample in a tar;
    members with an extension in ``skip`` are noted with empty bytes, not read."""
    with tarfile.open(fileobj=f, mode="r:") as tar:
        key, start, parts = None, 0, {}
        for member in tar:
            if not member.isfile():
                continue
            m = WDS_KEY.match(member.name)
            if not m:
                continue
            if m.group(1) != key:
                if key is not None:
                    yield start, key, parts
                key, start, parts = m.group(1), member.offset, {}
            ext = m.group(2).lower()
            parts[ext] = b"" if ext in skip else tar.extractfile(member).read()  # type: ignore[union-attr]
        if key is not None:
            yield start, key, parts


def tar_group_at(f: IO[bytes], offset: int) -> tuple[str, dict[str, bytes]]:
    """The WebDataset sample whose first tar header is at ``offset``: its key and members."""
    f.seek(offset)
    for _, key, parts in tar_groups(f):  # tarfile starts at the file's position
        return key, parts
    raise ValueError(f"no tar member at offset {offset}")


def tar_members(f: IO[bytes], exts: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Name -> (data offset, size) of a tar's members with one of ``exts`` (headers only are read)."""
    with tarfile.open(fileobj=f, mode="r:") as tar:
        return {
            m.name: (m.offset_data, m.size)
            for m in tar
            if m.isfile() and m.name.rsplit(".", 1)[-1].lower() in exts
        }


def read_range(f: IO[bytes], offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset``."""
    f.seek(offset)
    return f.read(size)
