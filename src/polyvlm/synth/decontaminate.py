"""decontaminate: drop samples whose image belongs to a named evaluation set, by image id and by perceptual hash."""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Record
from polyvlm.core.step import Drop, FilterStep, Params, register
from polyvlm.synth.eval_set import EvalSet, image_phash, load_eval_set
from polyvlm.synth.image_ids import normalize_image_id
from polyvlm.synth.image_payload import image_bytes


class DecontaminateParams(Params):
    """Parameters of decontaminate."""

    eval_set: str = Field(min_length=1)
    """the evaluation set's name (in the drop details and the samples' metadata), e.g. llava-bench-coco"""
    files: list[str] = []
    """globs of JSONL / JSON files whose rows name the eval set's images (field `image_field`)"""
    images: list[str] = []
    """globs of the eval set's image files: their ids join the set, their pHashes are compared"""
    image_field: str = "image"
    """the field of a row in `files` that names its image (a file name, a path or a list of them)"""
    by_id: bool = True
    """drop a sample whose image id (normalised file stem, COCO prefix and zeros dropped) is in the set"""
    max_distance: int = Field(8, ge=-1, le=64)
    """drop a sample whose image is within this Hamming distance (64-bit pHash) of an eval image; -1: off"""
    require_image: bool = False
    """drop a sample whose image cannot be read (image_unreadable) instead of checking it by id only"""


@register
class Decontaminate(FilterStep):
    """Drop samples whose image is in a named eval set: by id (contaminated:id) or pHash (contaminated:phash)."""

    name = "decontaminate"
    Params = DecontaminateParams

    def _load(self) -> EvalSet:
        p = self.params
        if not p.files and not p.images:
            raise RecipeError(
                f"step {self.label}: name the eval set's `files` (JSONL of image names) or `images`"
            )
        return load_eval_set(p.eval_set, tuple(p.files), tuple(p.images), p.image_field)

    def check(self) -> None:
        self._load()

    def setup(self) -> None:
        self._eval = self._load()

    def apply(self, record: Record) -> Record | Drop:
        self.ensure_setup()
        verdict = self._verdict(record)
        return record if verdict is None else Drop(*verdict)

    def reject(self, record: Record) -> str | None:
        self.ensure_setup()
        verdict = self._verdict(record)
        return None if verdict is None else verdict[0]

    def _verdict(self, record: Record) -> tuple[str, str] | None:
        """(reason, detail) when the record must go; else None, with the checks made noted in its metadata."""
        p, ev = self.params, self._eval
        images = list(record.images)
        checks = []
        if p.by_id:
            ids = {normalize_image_id(im.path or im.url) for im in images if im.path or im.url}
            if record.metadata.get("image_id"):
                ids.add(normalize_image_id(str(record.metadata["image_id"])))
            hit = sorted(ids & ev.ids)
            if hit:
                return "contaminated:id", f"{ev.name}: {hit[0]}"
            checks.append("id")
        if p.max_distance >= 0 and len(ev.hashes):
            for im in images:
                h = self._hash(im)
                if h is None:
                    if p.require_image:
                        return "image_unreadable", im.path or im.url
                    continue
                distance, eval_id = ev.nearest(h)
                if distance <= p.max_distance:
                    return "contaminated:phash", f"{ev.name}: {eval_id} (hamming {distance})"
            if images and all(im.phash for im in images):
                checks.append("phash")
        # which checks a kept sample passed: an unreadable image was checked by id only
        record.metadata.setdefault("decontaminated", {})[ev.name] = checks
        return None

    def _hash(self, image: ImageRef) -> str | None:
        """The image's pHash: the one decode_image stored, else computed from its bytes (kept on the image)."""
        if not image.phash:
            data = image_bytes(image)
            h = image_phash(data) if isinstance(data, bytes) else data
            if isinstance(h, Drop):
                return None
            image.phash = h
        return image.phash
