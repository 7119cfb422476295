"""Safe image decoding: allow-listed formats, a pixel cap read from the header, EXIF orientation, JPEG out.

`decode` validates and measures (every byte is decoded, so a truncated file is caught) and yields the
small gray pixels the perceptual hash reads; `to_jpeg` makes the output JPEG of an image that is not
already a plain upright one. They are separate so that pairs dropped in between are never re-encoded.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from polyvlm.core.step import Drop
from polyvlm.image.phash import REDUCED_MIN_SIDE, Box, reduced_gray

DEFAULT_FORMATS = ("jpeg", "png", "webp", "gif")
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_JPEG_QUALITY = 90
# Plugins tried when identifying bytes: raster formats only, so that no plugin that hands a file to an
# outside program (EPS -> Ghostscript) is ever reached. Which of these are accepted is the caller's
# allow-list; the others are identified only to name them in the drop reason (format:bmp).
SNIFF_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP", "TIFF", "ICO", "JPEG2000", "PPM")
KNOWN_FORMATS = frozenset(f.lower() for f in SNIFF_FORMATS)
_FORMAT_NAMES = {"MPO": "jpeg"}  # camera JPEGs with a multi-picture (MPF) block open as MPO
_ORIENTATION = ExifTags.Base.Orientation
# ImageOps.exif_transpose's table; applied directly, since that function also rewrites the EXIF block
# (several ms a photo) that a re-encoded JPEG does not keep anyway
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_WHITE = (255, 255, 255)
_T = TypeVar("_T")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_ICC_SPACE = {"RGB": b"RGB ", "L": b"GRAY"}  # ICC header bytes 16-20 name the profile's colour space


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A validated image: its bytes, its size after orientation, and the pixels phash reads."""

    data: bytes = field(repr=False)  # the input, unchanged
    width: int
    height: int
    source_format: str  # format of the input bytes: jpeg, png, gif, webp, ...
    needs_jpeg: bool  # not a plain upright RGB or gray JPEG: to_jpeg makes one
    # what phash reads: a reduced grayscale copy, stored as decoded; `transpose` turns it upright
    pixels: Image.Image = field(repr=False)
    pixels_box: Box | None = None  # the region of `pixels` that is the image
    transpose: Image.Transpose | None = None


def decode(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    formats: Collection[str] = DEFAULT_FORMATS,
    allow_animated: bool = False,
) -> DecodedImage | Drop:
    """Decode image bytes into their size and hash pixels, or say why they are dropped; bad bytes never raise."""
    if not data:
        return Drop("empty")
    return _guarded(data, lambda: _decode(data, max_pixels, formats, allow_animated))


def to_jpeg(data: bytes, quality: int = DEFAULT_JPEG_QUALITY) -> tuple[bytes, int, int] | None | Drop:
    """The upright 8-bit JPEG of decoded bytes and its size; None when the bytes are one already."""
    return _guarded(data, lambda: _to_jpeg(data, quality))


def _guarded(data: bytes, work: Callable[[], _T]) -> _T | Drop:
    """Run decoding work; what bad bytes raise becomes a Drop with its reason."""
    try:
        return work()
    except UnidentifiedImageError:
        return Drop("not_an_image")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        return Drop("too_many_pixels", str(e))
    except MemoryError:
        raise  # a resource problem of this process, not a property of the record
    except Exception as e:  # bad bytes raise OSError, SyntaxError, ValueError, EOFError, struct.error ...
        return _failure(e, data)


def _decode(
    data: bytes, max_pixels: int, formats: Collection[str], allow_animated: bool
) -> DecodedImage | Drop:
    im = _open(data)
    fmt = _FORMAT_NAMES.get(im.format or "", (im.format or "").lower())
    if fmt not in formats:
        return Drop(f"format:{fmt}")
    width, height = im.size
    if width * height > max_pixels:
        return Drop("too_many_pixels", f"{width}x{height}")
    if fmt != "jpeg" and getattr(im, "is_animated", False) and not allow_animated:
        return Drop("animated", f"{getattr(im, 'n_frames', 0)} frames")
    if fmt == "jpeg":
        orientation = _orientation(im)  # from the APP1 block parsed with the header: no decode
        if im.mode in ("RGB", "L"):
            return _draft_jpeg(im, data, orientation)
    else:
        im.load()  # the first frame; other formats may keep their EXIF after the pixels
        orientation = _orientation(im)
    return _full_decode(im, data, fmt, orientation)


def _to_jpeg(data: bytes, quality: int) -> tuple[bytes, int, int] | None | Drop:
    im = _open(data)
    is_jpeg = im.format in ("JPEG", "MPO")
    orientation = _orientation(im) if is_jpeg else 1
    if is_jpeg and im.mode in ("RGB", "L") and orientation == 1:
        return None
    im.load()
    if not is_jpeg:
        orientation = _orientation(im)  # other formats may keep their EXIF after the pixels
    if orientation != 1:
        im = im.transpose(_TRANSPOSE[orientation])
    flat = _flatten(im)
    if isinstance(flat, Drop):
        return flat
    icc = im.info.get("icc_profile")
    if not isinstance(icc, bytes) or icc[16:20] != _ICC_SPACE[flat.mode]:
        icc = None  # a profile of another colour space (CMYK, or gray for an image made RGB) would be wrong
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=quality, icc_profile=icc)  # no EXIF: orientation applied, GPS not kept
    return out.getvalue(), flat.width, flat.height


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns above Image.MAX_IMAGE_PIXELS and raises above twice that: both become too_many_pixels
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=SNIFF_FORMATS)


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation that ImageOps.exif_transpose would apply (2-8), else 1 (none)."""
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:
        return 1  # unreadable EXIF: show the pixels as stored, as browsers do
    return value if value in _TRANSPOSE else 1


def _draft_jpeg(im: Image.Image, data: bytes, orientation: int) -> DecodedImage:
    # sizes come from the header; the pixels are needed only for the hash: decode at 1/2, 1/4 or 1/8 scale
    width, height = im.size
    draft = im.draft("L", (REDUCED_MIN_SIDE, REDUCED_MIN_SIDE))
    im.load()  # reads the whole entropy-coded stream even at 1/8 scale: a truncated file fails here
    transpose = _TRANSPOSE.get(orientation)
    if orientation in (5, 6, 7, 8):  # a quarter turn: shown upright, the sides swap
        width, height = height, width
    box = draft[1] if draft else None
    return DecodedImage(data, width, height, "jpeg", orientation != 1, im, box, transpose)


def _full_decode(im: Image.Image, data: bytes, fmt: str, orientation: int) -> DecodedImage | Drop:
    im.load()
    if orientation != 1:
        im = im.transpose(_TRANSPOSE[orientation])
    if im.mode in ("RGB", "L", "P", "1", "CMYK", "YCbCr") and "transparency" not in im.info:
        gray = im.convert("L")  # the hash needs gray only: one conversion, no RGB copy
    else:
        flat = _flatten(im)  # alpha on white, 16-bit scaled: as encode_jpeg will show it
        if isinstance(flat, Drop):
            return flat
        gray = flat
    return DecodedImage(data, gray.width, gray.height, fmt, True, *reduced_gray(gray))


def _flatten(im: Image.Image) -> Image.Image | Drop:
    """The image as 8-bit RGB or L, with any transparency composited on white."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        # Pillow's convert("L") clips 16-bit values at 255 (a white image); scale the range instead
        return Image.fromarray((np.clip(np.asarray(im), 0, 65535) >> 8).astype(np.uint8))
    if mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", im.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if mode in ("RGB", "L"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "CMYK", "YCbCr"):
        return im.convert("RGB")
    return Drop(f"mode:{mode.lower()}")  # F, LAB, HSV: no faithful 8-bit conversion without more context


def _failure(e: Exception, data: bytes) -> Drop:
    text = str(e)
    # a RIFF (WebP) file states its length, and libwebp only says it "could not create decoder object"
    riff_cut = data[:4] == b"RIFF" and int.from_bytes(data[4:8], "little") + 8 > len(data)
    if isinstance(e, EOFError) or "truncated" in text.lower() or riff_cut:
        return Drop("truncated", text[:200])
    return Drop("corrupt", f"{type(e).__name__}: {text}"[:200])
