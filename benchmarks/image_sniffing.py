"""Image-format sniffing: polyvlm.io.image_format (magic bytes) vs Pillow, filetype, puremagic, libmagic.

On real photos (examples/data, and ../shared/data/images where present), on each format Pillow can encode
(GIF, WebP, TIFF, BMP, ICO, AVIF where built in), on HEIC/AVIF file headers, and on the bytes fetch_images
meets that are not images (HTML, SVG, empty, a truncated JPEG that decode must judge): calls per second
over the real photos for each sniffer, and each input where a sniffer's answer differs from ours (what
would change for fetch_images, the conversation writers and the eval adapters if it replaced ours).
A library that is not installed is skipped (filetype and puremagic are not dependencies: measure them
with PYTHONPATH=<a pip --target folder>).

Run: .venv/bin/python benchmarks/image_sniffing.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import io
import platform
import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, UnidentifiedImageError, features

from polyvlm.io.image_format import sniff_format

ROOT = Path(__file__).resolve().parents[1]
PHOTO_DIRS = [ROOT / "examples/data/photos", ROOT / "examples/data/synth", ROOT.parent / "shared/data/images"]
# each library's names for the formats we know, mapped onto ours
_ALIASES = {
    "jpg": "jpeg",
    "jfif": "jpeg",
    "tif": "tiff",
    "heif": "heic",
    "x-icon": "ico",
    "vnd.microsoft.icon": "ico",
}


def real_photos() -> dict[str, bytes]:
    """Every JPEG/PNG file under the photo folders, by name."""
    found: dict[str, bytes] = {}
    for folder in PHOTO_DIRS:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                found.setdefault(path.name, path.read_bytes())
    return found


def encoded_formats(photo: bytes) -> dict[str, bytes]:
    """One real photo re-encoded by Pillow in every other format it writes here."""
    with Image.open(io.BytesIO(photo)) as im:
        small = im.convert("RGB").resize((128, 96))
    out: dict[str, bytes] = {}
    for fmt in ("GIF", "WEBP", "TIFF", "BMP", "ICO", "AVIF"):
        if fmt == "AVIF" and not features.check("avif"):
            continue
        buf = io.BytesIO()
        small.save(buf, format=fmt)
        out[f"encoded.{fmt.lower()}"] = buf.getvalue()
    return out


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk (a valid header, no pixels)."""
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + ihdr + zlib.crc32(ihdr).to_bytes(4, "big")


def edge_cases(jpeg: bytes) -> dict[str, bytes]:
    """Headers no Pillow here writes, and the non-images fetch_images must refuse or pass on."""
    return {
        "20000x20000.png (decode's cap judges)": png_header(20_000, 20_000),
        "header.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
        "header.avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64),
        "half.jpg (decode judges it)": jpeg[: len(jpeg) // 2],
        "page.html": b"<!DOCTYPE html><html><p>not here</p></html>",
        "drawing.svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "empty": b"",
        "text": b"not found",
    }


def pillow(data: bytes) -> str:
    """Pillow's answer: Image.open reads the header only."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return (im.format or "").lower()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return ""


def sniffers() -> dict[str, Callable[[bytes], str]]:
    """Each available sniffer as bytes -> our format name ('' when it says: not an image)."""
    found: dict[str, Callable[[bytes], str]] = {"polyvlm (magic bytes)": sniff_format, "Pillow": pillow}
    try:
        import filetype

        found["filetype"] = lambda d: (filetype.guess_extension(d) or "") if d else ""
    except ImportError:
        pass
    try:
        import puremagic

        def by_puremagic(d: bytes) -> str:
            try:
                return puremagic.from_string(d).lstrip(".") if d else ""
            except puremagic.PureError:
                return ""

        found["puremagic"] = by_puremagic
    except ImportError:
        pass
    try:
        import magic

        def by_libmagic(d: bytes) -> str:
            mime = magic.from_buffer(d, mime=True) if d else ""
            return mime.removeprefix("image/") if mime.startswith("image/") else ""

        found["libmagic"] = by_libmagic
    except ImportError:
        pass
    return found


def rate(fn: Callable[[bytes], str], inputs: list[bytes], seconds: float) -> float:
    """Calls per second of fn over the inputs, repeated for about `seconds`."""
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for data in inputs:
            fn(data)
        calls += len(inputs)
    return calls / (time.perf_counter() - start)


def main() -> None:
    """Print each sniffer's calls/s on the real photos and where its answers differ from ours."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="timing per sniffer")
    args = ap.parse_args()
    photos = real_photos()
    first_jpeg = next(d for n, d in photos.items() if not n.endswith(".png"))
    inputs = {**photos, **encoded_formats(first_jpeg), **edge_cases(first_jpeg)}
    found = sniffers()
    print(f"Python {platform.python_version()}, Pillow {Image.__version__}, {platform.machine()}")
    print(f"{len(photos)} real photos, {len(inputs)} inputs in all\n")
    ours = {name: sniff_format(data) for name, data in inputs.items()}
    base = None
    for label, fn in found.items():
        per_s = rate(fn, list(photos.values()), args.seconds)
        base = base or per_s
        answers = {name: _ALIASES.get(fn(data), fn(data)) for name, data in inputs.items()}
        differ = {n: a for n, a in answers.items() if a != ours[n]}
        print(f"{label:22s} {per_s:12,.0f} calls/s  ({base / per_s:5.1f}x slower)  differs on {len(differ)}")
        for name, answer in differ.items():
            print(f"    {name:34s} ours {ours[name] or '-':6s} theirs {answer or '-'}")


if __name__ == "__main__":
    main()
