"""One image-format sniffer for fetching, stored image files and eval data: URLs (io/image_format.py)."""

import io

import pytest
from PIL import Image

from polyvlm.eval.adapters.images import sniff_mime
from polyvlm.io.image_files_store import image_extension
from polyvlm.io.image_format import describe_non_image, file_extension, mime_type, sniff_format


def encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 200, 30)).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "ICO"])
def test_every_format_pillow_writes_is_named_as_pillow_names_it(fmt):
    assert sniff_format(encoded(fmt)) == fmt.lower()


def test_heif_family_by_brand_and_non_images_by_what_they_look_like():
    assert sniff_format(b"\0\0\0\x18ftypheic" + bytes(16)) == "heic"
    assert sniff_format(b"\0\0\0\x1cftypavif" + bytes(16)) == "avif"
    assert sniff_format(b"\0\0\0\x18ftypisom" + bytes(16)) == ""  # an MP4 video
    assert sniff_format(b"RIFF\0\0\0\0WAVEfmt ") == ""  # RIFF, but no WebP
    assert describe_non_image(b"") == "empty body"
    assert describe_non_image(b"  <!DOCTYPE html><p>") == "an HTML page"
    assert describe_non_image(b"<svg xmlns='x'/>") == "XML/SVG (not a raster image)"
    assert describe_non_image(b"not found") == "unknown bytes 6e6f7420666f756e"


def test_mime_types_and_extensions_of_the_callers():
    assert mime_type("jpeg") == "image/jpeg" and mime_type("ico") == "image/vnd.microsoft.icon"
    assert mime_type("") == "" and file_extension("") == "bin" and file_extension("jpeg") == "jpg"
    assert image_extension(encoded("JPEG")) == "jpg" and image_extension(encoded("PNG")) == "png"
    assert image_extension(b"<html>") == "bin"
    assert sniff_mime(encoded("WEBP")) == "image/webp" and sniff_mime(encoded("GIF"), "x.png") == "image/gif"
    assert sniff_mime(b"????", "x.png") == "image/png"  # the name only when the bytes say nothing
    assert sniff_mime(b"????") == "application/octet-stream"
