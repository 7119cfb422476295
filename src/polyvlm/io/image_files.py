"""read_images: image files (jpg, png, webp) as Samples with the image's path, for generators that look at photos.

Two ways in: a glob of image files (`photos/*.jpg`, one shard per file), or a listing file (`.txt`, one
image path per line, relative to the listing's folder) read with `reader: read_images`. A listing makes
one shard of many images, so that a batched model step gets full batches: the engine batches within a
shard, and a shard of one image would send one request at a time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from polyvlm.core.records import ImageRef, Provenance, Record, Sample
from polyvlm.core.step import Params, ReadIssue, ReadStep, register

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
LISTING_EXTENSIONS = (".txt", ".lst")


class ReadImagesParams(Params):
    """Parameters of read_images."""

    license: str = ""
    """licence of the images, recorded in every sample's provenance"""


def image_sample(path: str, license: str, source: str) -> Sample:
    """The Sample of one image file (its id: a hash of the path; the file's stem kept as image_id)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return Sample(
        id=hashlib.sha1(path.encode()).hexdigest()[:20],
        images=[ImageRef(path=path)],
        task="photo",
        metadata={"image_id": stem},
        provenance=Provenance(source=source, license=license, record_id=stem),
    )


@register
class ReadImages(ReadStep):
    """Read image files (or a .txt listing of them) as Samples holding each image's path."""

    name = "read_images"
    Params = ReadImagesParams
    extensions = IMAGE_EXTENSIONS

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        lower = path.lower()
        if lower.endswith(LISTING_EXTENSIONS):
            yield from self._read_listing(path)
        elif lower.endswith(IMAGE_EXTENSIONS):
            # the bytes are read by the step that needs them (photo_qa); only the file is checked here
            if os.path.getsize(path) == 0:
                yield ReadIssue("error", "empty_file", path)
            else:
                yield image_sample(path, self.params.license, path)
        else:
            yield ReadIssue("skipped", "not_an_image_file", path)  # a glob over a mixed folder

    def _read_listing(self, path: str) -> Iterator[Record | ReadIssue]:
        base = os.path.dirname(path)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                name = line.strip()
                if not name or name.startswith("#"):
                    continue
                image = os.path.join(base, name)
                if not name.lower().endswith(IMAGE_EXTENSIONS):
                    yield ReadIssue("skipped", "not_an_image_file", f"{path}:{lineno}: {name}", lineno)
                elif not os.path.isfile(image):
                    yield ReadIssue("error", "missing_image", f"{path}:{lineno}: {image}", lineno)
                else:
                    yield image_sample(image, self.params.license, path)
