"""Which raster image format encoded bytes hold, from their first bytes: one table for every caller.

fetch_images judges a fetched body by it, the conversation writers name a stored file by it, and the
eval adapters label a data: URL by it. Signatures by hand (benchmarks/image_sniffing.py, docs/BENCHMARKS.md):
Pillow's header parse is ~200x slower and answers differently (no HEIC, no AVIF from a header alone,
nothing for a valid header over its pixel cap, which decode must judge and name); `filetype` agrees on
every input but is ~20x slower and would be a new dependency for these twenty lines.
"""

from __future__ import annotations

_SIGNATURES = (
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"WEBP", 8, "webp"),  # after RIFF and the length
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"BM", 0, "bmp"),
    (b"\x00\x00\x01\x00", 0, "ico"),
)
# ISO base media files (HEIF family): the major brand after "ftyp" says which
_FTYP_BRANDS = {b"avif": "avif", b"avis": "avif", b"heic": "heic", b"heix": "heic", b"mif1": "heic"}
_MIME = {"ico": "image/vnd.microsoft.icon"}
_EXTENSION = {"jpeg": "jpg"}


def sniff_format(data: bytes) -> str:
    """The image format the bytes start with (jpeg, png, gif, webp, tiff, bmp, ico, avif, heic), or ''."""
    for magic, at, name in _SIGNATURES:
        if data[at : at + len(magic)] == magic and (name != "webp" or data.startswith(b"RIFF")):
            return name
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12], "")
    return ""


def mime_type(fmt: str) -> str:
    """The MIME type of a sniffed format ('' for '')."""
    return _MIME.get(fmt, f"image/{fmt}") if fmt else ""


def file_extension(fmt: str) -> str:
    """The usual file extension of a sniffed format, without the dot ('bin' for '')."""
    return _EXTENSION.get(fmt, fmt) or "bin"


def describe_non_image(data: bytes) -> str:
    """What bytes that are no raster image look like, for a drop's detail (an HTML page, XML/SVG, ...)."""
    head = data[:64].lstrip().lower()
    if not data:
        return "empty body"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith((b"<?xml", b"<svg")):
        return "XML/SVG (not a raster image)"
    return f"unknown bytes {data[:8].hex()}"
