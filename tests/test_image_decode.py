"""Safe decoding (a bad-image corpus built here, real files), the pHash and its fast path, image_size."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from functools import cache
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps
from pydantic import ValidationError

from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.core.step import REGISTRY, Drop
from polyvlm.image.decode import DecodedImage, decode
from polyvlm.image.decode_step import DecodeImage, DecodeImageParams
from polyvlm.image.encode_step import EncodeJpeg, EncodeJpegParams
from polyvlm.image.phash import hamming, phash, phash_pixels
from polyvlm.image.size_filter import ImageSize, ImageSizeParams

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "data" / "photos"  # examples/data/PROVENANCE.md
PHOTO = PHOTOS / "ukbench00120.jpg"  # 640x480 baseline JPEG, EXIF orientation 1
PROGRESSIVE = PHOTOS / "llava__waterview.jpg"  # 1000x667 progressive JPEG


# ---- building the bad-image corpus ------------------------------------------------------------


def _save(im: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kwargs)
    return out.getvalue()


@cache
def _photo(width: int = 320) -> Image.Image:
    """The real photo, reduced (an asymmetric picture: orientation mistakes show)."""
    im = Image.open(PHOTO).convert("RGB")
    return im.resize((width, width * im.height // im.width), Image.Resampling.LANCZOS)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def _bomb_png(width: int, height: int, with_pixels: bool = True) -> bytes:
    """A 1-bit palette PNG of width x height: kilobytes on disk, width*height pixels when decoded.

    Without pixels the IDAT is empty: enough for the checks that stop at the header.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)
    data = b""
    if with_pixels:
        comp = zlib.compressobj(9)
        rows = bytes(1 + (width + 7) // 8) * 1000  # filter byte + packed zero bits, 1000 rows at a time
        data = b"".join(comp.compress(rows) for _ in range(height // 1000)) + comp.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff")
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _with_orientation(im: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _save(im, "JPEG", quality=95, exif=exif.tobytes())


def _frames(fmt: str) -> bytes:
    frames = [Image.new("RGB", (200, 160), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _decode_pair(data: bytes | None, jpeg_quality: int = 90, **params) -> Pair | Drop:
    """decode_image then encode_jpeg, as the recipes run them."""
    out = DecodeImage(**params).apply(Pair(id="p", text="t", image=ImageRef(data=data)))
    if isinstance(out, Pair):
        out = EncodeJpeg(jpeg_quality=jpeg_quality).apply(out)
    assert isinstance(out, Pair | Drop)
    return out


def _pixels(pair: Pair) -> np.ndarray:
    assert pair.image.data is not None
    return np.asarray(Image.open(io.BytesIO(pair.image.data)).convert("RGB")).astype(int)


# ---- every bad input is dropped with its own reason, nothing raises -------------------------------

DROPS = {
    "zero bytes": (lambda: b"", "empty"),
    "html named .jpg": (
        lambda: b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>",
        "not_an_image",
    ),
    "text": (lambda: "写真です".encode() * 50, "not_an_image"),
    "JPEG cut in its header": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "truncated"),
    "truncated JPEG": (lambda: _save(_photo(), "JPEG")[:6000], "truncated"),
    "JPEG without its end": (lambda: _save(_photo(), "JPEG")[:-2], "truncated"),
    "truncated progressive JPEG": (lambda: _save(_photo(), "JPEG", progressive=True)[:9000], "truncated"),
    "truncated PNG": (lambda: _save(_photo(), "PNG")[:30000], "truncated"),
    "truncated GIF": (lambda: _save(_photo().convert("P"), "GIF")[:20000], "truncated"),
    "truncated WebP": (lambda: _save(_photo(), "WEBP")[:3000], "truncated"),
    "30000x30000 bomb PNG": (lambda: _bomb_png(30000, 30000), "too_many_pixels"),
    "8000x8000 PNG (over max_pixels)": (lambda: _bomb_png(8000, 8000, with_pixels=False), "too_many_pixels"),
    "animated GIF": (lambda: _frames("GIF"), "animated"),
    "APNG": (lambda: _frames("PNG"), "animated"),
    "animated WebP": (lambda: _frames("WEBP"), "animated"),
    "BMP": (lambda: _save(_photo(), "BMP"), "format:bmp"),
    "TIFF": (lambda: _save(_photo(), "TIFF"), "format:tiff"),
    "ICO": (lambda: _save(_photo(64), "ICO"), "format:ico"),
}


@pytest.mark.parametrize("case", sorted(DROPS))
def test_bad_images_are_dropped_with_their_reason(case):
    build, reason = DROPS[case]
    data = build()
    out = _decode_pair(data)
    assert isinstance(out, Drop), case
    assert out.reason == reason, (case, out)


def test_bomb_png_is_small_on_disk_and_refused_from_its_header():
    data = _bomb_png(30000, 30000)
    assert len(data) < 200_000
    assert _decode_pair(data).reason == "too_many_pixels"
    # our own cap: a 64-megapixel header is refused before Pillow would even warn
    out = _decode_pair(_bomb_png(8000, 8000, with_pixels=False))
    assert out == Drop("too_many_pixels", "8000x8000")


def test_pillow_bomb_warning_becomes_a_drop():
    # 100 Mpx: above Pillow's warning limit (89.5 Mpx) but below its error limit, with our cap out of the way
    assert decode(_bomb_png(10000, 10000, with_pixels=False), max_pixels=10**9).reason == "too_many_pixels"


def test_max_pixels_is_a_parameter():
    data = _save(_photo(), "JPEG")  # 320x240
    assert _decode_pair(data, max_pixels=320 * 240 - 1).reason == "too_many_pixels"
    assert isinstance(_decode_pair(data, max_pixels=320 * 240), Pair)


def test_animated_images_keep_their_first_frame_when_allowed():
    for fmt in ("GIF", "PNG", "WEBP"):
        out = _decode_pair(_frames(fmt), allow_animated=True)
        assert isinstance(out, Pair), fmt
        assert (out.image.width, out.image.height) == (200, 160)
        assert np.abs(_pixels(out).mean(axis=(0, 1)) - (255, 0, 0)).max() < 6, fmt  # red: the first frame


def test_disallowed_formats_can_be_allowed():
    out = _decode_pair(_save(_photo(), "BMP"), formats=["jpeg", "bmp"])
    assert isinstance(out, Pair)
    assert out.metadata["source_format"] == "bmp"
    assert _decode_pair(_save(_photo(), "PNG"), formats=["jpeg"]).reason == "format:png"


def test_a_fuzzed_corpus_never_raises():
    rng = np.random.default_rng(0)
    small = _photo(96)
    bases = [
        _save(small, "JPEG"),
        _save(small, "JPEG", progressive=True),
        _save(small, "PNG"),
        _save(small.convert("P"), "GIF"),
        _save(small, "WEBP"),
        _frames("PNG"),
    ]
    reasons: set[str] = set()
    for base in bases:
        variants = [base[:n] for n in np.linspace(0, len(base), 24, dtype=int)]
        for _ in range(12):
            b = bytearray(base)
            for i in rng.integers(0, len(b), size=4):
                b[i] = int(rng.integers(0, 256))
            variants.append(bytes(b))
        for data in variants:
            out = decode(data, allow_animated=True)  # must not raise
            assert isinstance(out, DecodedImage | Drop)
            if isinstance(out, Drop):
                reasons.add(out.reason)
            else:
                Image.open(io.BytesIO(out.data)).load()  # what is kept is a readable JPEG
    documented = {"empty", "not_an_image", "truncated", "corrupt", "too_many_pixels", "animated"}
    assert all(r in documented or r.startswith(("format:", "mode:")) for r in reasons), reasons
    assert {"empty", "not_an_image", "truncated"} <= reasons


# ---- what decodes, and how --------------------------------------------------------------------


def test_plain_jpeg_keeps_its_bytes():
    data = PHOTO.read_bytes()
    out = _decode_pair(data)
    assert isinstance(out, Pair)
    assert out.image.data == data
    assert out.image.sha256 == hashlib.sha256(data).hexdigest()
    assert (out.image.width, out.image.height, out.image.format) == (640, 480, "jpeg")
    assert len(out.image.phash) == 16
    assert "source_sha256" not in out.metadata


def test_grayscale_jpeg_keeps_its_bytes():
    data = (PHOTOS / "ukbench00120_gray.jpg").read_bytes()
    out = _decode_pair(data)
    assert isinstance(out, Pair) and out.image.data == data


def test_camera_mpo_is_a_jpeg_not_an_animation():
    first, second = Image.new("RGB", (300, 200), (200, 30, 30)), Image.new("RGB", (300, 200), (30, 30, 200))
    data = _save(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    out = _decode_pair(data)
    assert isinstance(out, Pair) and out.image.data == data and out.image.format == "jpeg"


def test_truncated_jpeg_is_caught_by_the_reduced_scale_decode():
    for path in (PHOTO, PROGRESSIVE):
        data = path.read_bytes()
        whole = decode(data)
        # the whole file takes the fast path: kept bytes, pixels decoded at reduced scale
        assert isinstance(whole, DecodedImage) and not whole.needs_jpeg
        assert whole.pixels.width < whole.width
        for cut in (0.3, 0.8, 0.99):
            assert decode(data[: int(len(data) * cut)]).reason == "truncated", (path.name, cut)


def test_cmyk_jpeg_becomes_rgb():
    rgb = _photo()
    out = _decode_pair(_save(rgb.convert("CMYK"), "JPEG", quality=95))
    assert isinstance(out, Pair)
    assert Image.open(io.BytesIO(out.image.data)).mode == "RGB"
    assert np.abs(_pixels(out) - np.asarray(rgb).astype(int)).mean() < 6
    assert out.metadata["source_format"] == "jpeg"
    assert hamming(out.image.phash, str(imagehash.phash(rgb))) <= 4


def test_16_bit_png_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (200, 1))
    im = Image.fromarray(ramp)
    assert im.mode == "I;16"
    out = _decode_pair(_save(im, "PNG"))
    assert isinstance(out, Pair)
    kept = Image.open(io.BytesIO(out.image.data))
    assert kept.mode == "L"
    row = np.asarray(kept).astype(int)[100]
    assert row[0] < 4 and row[-1] > 251 and abs(row[128] - 128) < 4  # Pillow's convert("L") gives 255 there


def test_alpha_is_composited_on_white():
    im = Image.new("RGBA", (200, 160), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 100, 160))  # left half: transparent black
    for name, src in {
        "RGBA": im,
        "LA": im.convert("LA"),
        "P with transparency": im.convert("P"),
    }.items():
        out = _decode_pair(_save(src, "PNG"))
        assert isinstance(out, Pair), name
        px = _pixels(out)
        assert px[:, :90].min() > 245, name  # white, not black
        assert px[:, 110:].mean() < 200, name  # the opaque half is not white
    assert Image.open(io.BytesIO(_decode_pair(_save(im, "PNG")).image.data)).mode == "RGB"


def test_palette_and_bilevel_pngs():
    out = _decode_pair(_save(_photo().convert("P"), "PNG"))
    assert isinstance(out, Pair) and np.abs(_pixels(out) - np.asarray(_photo())).mean() < 12
    out = _decode_pair(_save(_photo().convert("1"), "PNG"))
    assert isinstance(out, Pair) and Image.open(io.BytesIO(out.image.data)).mode == "L"


def test_exif_orientation_6_swaps_width_and_height():
    im = Image.new("RGB", (200, 100), (255, 0, 0))
    im.paste((0, 0, 255), (100, 0, 200, 100))  # stored: red left, blue right
    out = _decode_pair(_with_orientation(im, 6))
    assert isinstance(out, Pair)
    assert (out.image.width, out.image.height) == (100, 200)
    px = _pixels(out)
    assert px.shape == (200, 100, 3)
    # orientation 6: the camera was turned clockwise; shown upright, the stored left side is on top
    assert np.abs(px[10:90].mean(axis=(0, 1)) - (255, 0, 0)).max() < 10
    assert np.abs(px[110:190].mean(axis=(0, 1)) - (0, 0, 255)).max() < 10
    assert Image.open(io.BytesIO(out.image.data)).getexif().get(0x0112) is None  # not rotated twice


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_exif_transpose(orientation):
    data = _with_orientation(_photo(160), orientation)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    out = _decode_pair(data)
    assert isinstance(out, Pair)
    assert (out.image.width, out.image.height) == expected.size
    stored = Image.open(io.BytesIO(data)).convert("RGB")
    candidates = [stored, *(stored.transpose(t) for t in Image.Transpose)]
    diffs = [
        np.abs(_pixels(out) - np.asarray(c).astype(int)).mean() if c.size == expected.size else 255.0
        for c in candidates
    ]
    # the kept JPEG is the exif_transpose picture (up to re-encoding loss), and no other transposition
    assert min(diffs) == np.abs(_pixels(out) - np.asarray(expected).astype(int)).mean() < 8
    assert hamming(out.image.phash, str(imagehash.phash(expected))) <= 2
    assert ("source_sha256" in out.metadata) == (orientation != 1)


def test_reencoded_image_records_its_source():
    data = _save(_photo(), "PNG")
    out = _decode_pair(data, jpeg_quality=80)
    assert isinstance(out, Pair)
    assert out.metadata["source_sha256"] == hashlib.sha256(data).hexdigest()
    assert out.metadata["source_format"] == "png"
    assert out.image.sha256 == hashlib.sha256(out.image.data).hexdigest()
    assert out.image.data[:2] == b"\xff\xd8" and out.image.format == "jpeg"


def test_a_strip_decodes_and_the_size_filter_drops_it():
    out = _decode_pair(_save(Image.new("RGB", (1, 10000), (90, 90, 90)), "PNG"))
    assert isinstance(out, Pair) and (out.image.width, out.image.height) == (1, 10000)
    assert ImageSize().apply(out) == Drop("too_small")


def test_records_without_bytes_or_not_pairs():
    assert _decode_pair(None) == Drop("no_image_data")
    empty = Document(id="d")
    assert DecodeImage().apply(empty) is empty  # a document without images has no image to judge


def test_phash_can_be_turned_off():
    out = _decode_pair(PHOTO.read_bytes(), phash=False)
    assert isinstance(out, Pair) and out.image.phash == "" and out.image.width == 640


# ---- real files ---------------------------------------------------------------------------------


def test_real_corrupt_jpeg_is_not_an_image():
    assert _decode_pair((PHOTOS / "ukbench09268_corrupt.jpg").read_bytes()) == Drop("not_an_image")


def test_real_jpeg_named_png_is_read_as_the_jpeg_it_is():
    data = (PHOTOS / "ukbench09380.png").read_bytes()
    out = _decode_pair(data)
    assert isinstance(out, Pair)
    assert out.image.data == data and out.image.format == "jpeg"
    assert (out.image.width, out.image.height) == (640, 480)


def test_real_rotated_photo_is_upright():
    out = _decode_pair((PHOTOS / "ukbench09268.jpg").read_bytes())  # stored 640x480, EXIF orientation 6
    assert isinstance(out, Pair) and (out.image.width, out.image.height) == (480, 640)
    assert "source_sha256" in out.metadata


# ---- the perceptual hash ------------------------------------------------------------------------


def _real_photos() -> list[Path]:
    return sorted(p for p in PHOTOS.iterdir() if "corrupt" not in p.name)


def test_phash_is_imagehash_phash():
    rng = np.random.default_rng(1)
    for _ in range(20):
        im = Image.fromarray(rng.integers(0, 256, size=(32, 32), dtype=np.uint8))
        assert phash_pixels(np.asarray(im)) == str(imagehash.phash(im))
    for path in _real_photos()[:6]:
        im = Image.open(path).convert("RGB")
        assert phash(im) == str(imagehash.phash(im)), path.name


def test_fast_path_hash_agrees_with_imagehash_on_real_photos():
    for path in _real_photos():
        data = path.read_bytes()
        ref = str(imagehash.phash(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")))
        out = _decode_pair(data)
        assert isinstance(out, Pair)
        assert hamming(out.image.phash, ref) <= 2, path.name


def test_hash_agrees_at_every_reduction_scale():
    # sizes that make the JPEG decode at 1/1, 1/2, 1/4, 1/8 and the re-encoded path reduce by 1..8
    full = Image.open(PHOTOS / "llava__waterview.jpg").convert("RGB")
    for width in (150, 250, 500, 900, 1600):
        im = full.resize((width, width * full.height // full.width), Image.Resampling.LANCZOS)
        for data in (_save(im, "JPEG", quality=85), _save(im, "PNG")):
            out = _decode_pair(data)
            assert isinstance(out, Pair)
            ref = str(imagehash.phash(Image.open(io.BytesIO(data)).convert("RGB")))
            assert hamming(out.image.phash, ref) <= 2, width


def test_near_duplicates_are_close_and_unrelated_photos_far():
    hashes = {p.name: _decode_pair(p.read_bytes()).image.phash for p in _real_photos()}
    original = hashes["ukbench00120.jpg"]
    for copy in ("ukbench00120_resize.jpg", "ukbench00120_gray.jpg"):
        assert hamming(original, hashes[copy]) <= 4, copy
    unrelated = [n for n in hashes if not n.startswith("ukbench00120")]
    assert min(hamming(original, hashes[n]) for n in unrelated) >= 16
    # pHash does not see through mirroring or rotation: these copies are as far as a different photo
    assert hamming(original, hashes["ukbench00120_hflip.jpg"]) > 10
    assert hamming(original, hashes["ukbench00120_rotation.jpg"]) > 10


def test_hamming():
    assert hamming("0000000000000000", "ffffffffffffffff") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2
    assert hamming("9fee256238984d71", "9fee256238984d71") == 0


# ---- the size / aspect filter -------------------------------------------------------------------


def _sized(width: int | None, height: int | None) -> Pair:
    return Pair(id="p", image=ImageRef(width=width, height=height))


@pytest.mark.parametrize(
    "size, verdict",
    [
        ((150, 150), None),
        ((640, 480), None),
        ((400, 200), None),  # aspect 2.0: on the boundary, kept
        ((200, 400), None),  # aspect 0.5: kept
        ((149, 300), "too_small"),
        ((300, 149), "too_small"),
        ((1, 10000), "too_small"),
        ((401, 200), "aspect_ratio"),
        ((200, 401), "aspect_ratio"),
        ((None, None), "not_decoded"),
        ((640, None), "not_decoded"),
    ],
)
def test_image_size_keeps_and_drops(size, verdict):
    assert ImageSize().reject(_sized(*size)) == verdict


def test_image_size_parameters():
    step = ImageSize(min_side=32, min_aspect=0.25, max_aspect=4.0)
    assert step.reject(_sized(100, 400)) is None
    assert step.reject(_sized(20, 40)) == "too_small"
    assert step.reject(Document(id="d")) is None  # a document's images are judged one by one in apply
    with pytest.raises(ValidationError):
        ImageSizeParams(min_aspect=3.0, max_aspect=2.0)


def test_decode_image_parameters_are_checked():
    assert DecodeImageParams(formats=["JPG", "png", "tif"]).formats == ["jpeg", "png", "tiff"]
    with pytest.raises(ValidationError, match="unknown image formats"):
        DecodeImageParams(formats=["jpeg", "svg"])
    with pytest.raises(ValidationError):
        DecodeImageParams(max_pixels=Image.MAX_IMAGE_PIXELS + 1)
    with pytest.raises(ValidationError):
        EncodeJpegParams(jpeg_quality=0)
    assert REGISTRY["decode_image"] is DecodeImage and REGISTRY["image_size"] is ImageSize


def test_decode_image_measures_and_encode_jpeg_re_encodes_only_what_needs_it():
    rotated = (PHOTOS / "ukbench09268.jpg").read_bytes()  # EXIF orientation 6
    png = _save(_photo(), "PNG")
    for data, fmt in ((rotated, "jpeg"), (png, "png")):
        decoded = DecodeImage().apply(Pair(id="p", image=ImageRef(data=data)))
        assert isinstance(decoded, Pair) and decoded.image.data == data and decoded.image.format == fmt
        size, phash_before = (decoded.image.width, decoded.image.height), decoded.image.phash
        out = EncodeJpeg().apply(decoded)
        assert isinstance(out, Pair) and out.image.data != data and out.image.format == "jpeg"
        assert (out.image.width, out.image.height) == size == Image.open(io.BytesIO(out.image.data)).size
        again = DecodeImage().apply(Pair(id="q", image=ImageRef(data=out.image.data)))
        assert hamming(again.image.phash, phash_before) <= 2  # the hash is of the picture as shown
    plain = PHOTO.read_bytes()
    out = EncodeJpeg().apply(DecodeImage().apply(Pair(id="p", image=ImageRef(data=plain))))
    assert out.image.data == plain and "source_sha256" not in out.metadata
