"""fetch_images: fill each image's bytes (pairs, documents, samples) from its sources (image_sources.py), one verdict per image."""

from __future__ import annotations

import os
import tempfile

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Pair, Record
from polyvlm.core.step import BatchStep, Drop, register
from polyvlm.image.domain_cap import urls_over_cap
from polyvlm.image.fetch import domain_of
from polyvlm.image.fetch_params import FetchImagesParams, cache_root
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics
from polyvlm.image.image_sources import ImageSources
from polyvlm.image.ssrf import SCHEMES, AddressPolicy
from polyvlm.image.warc_store import expand_globs
from polyvlm.io.image_format import describe_non_image, sniff_format


@register
class FetchImages(BatchStep):
    """Fill each image's bytes, sha256 and format (WARC store, then cache, then HTTP); a document loses an image that fails."""

    name = "fetch_images"
    Params = FetchImagesParams

    def check(self) -> None:
        try:
            AddressPolicy(self.params.allow_addresses)
            expand_globs(self.params.warc_images)
        except ValueError as e:
            raise RecipeError(f"{self.label}: {e}") from None
        if self.params.use_cache:
            root = cache_root(self.params)
            try:
                os.makedirs(root, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check."):
                    pass
            except OSError as e:
                raise RecipeError(
                    f"{self.label}: cache_dir {root} is not a writable directory ({e.strerror}); "
                    "choose another cache_dir or set use_cache: false"
                ) from None

    def setup(self) -> None:
        self._sources = ImageSources(self.params)
        self._counts: dict[str, float] = {}

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        # one verdict per image: (record, image) slots; a document loses a failed image, a pair goes
        verdicts: list[dict[int, Drop]] = [{} for _ in records]
        wanted: dict[str, list[tuple[int, int]]] = {}
        for i, record in enumerate(records):
            for k, image in enumerate(_images(record)):
                verdict = self._triage(image)
                if verdict is None:
                    wanted.setdefault(image.url, []).append((i, k))
                elif verdict is not True:
                    verdicts[i][k] = verdict
        cap = self.params.max_per_domain
        for url in urls_over_cap(wanted, cap, self.params.seed):
            for i, k in wanted.pop(url):
                verdicts[i][k] = Drop(
                    "domain_batch_cap", f"{domain_of(url)}: over {cap} image URLs in one batch"
                )
        found, failed = self._sources.acquire(list(wanted))
        for url, slots in wanted.items():
            for i, k in slots:
                verdict = failed[url] if url in failed else self._fill(records[i], k, *found[url])
                if verdict is not None:
                    verdicts[i][k] = verdict
        return [apply_verdicts(r, v, self) for r, v in zip(records, verdicts, strict=True)]

    def _triage(self, image: ImageRef) -> Drop | bool | None:
        """A Drop, True for an image that holds its bytes already, None for one to fetch."""
        if image.data is not None:
            return True
        url = image.url
        if not url:
            return Drop("no_image_url")
        if url.split(":", 1)[0].lower() not in SCHEMES:
            return Drop("bad_scheme", f"{url[:200]}: only http and https are fetched")
        return None

    def _fill(self, record: Record, k: int, data: bytes, sha256: str, source: str) -> Drop | None:
        image = _images(record)[k]
        fmt = sniff_format(data)
        if not fmt:
            return Drop("not_an_image", f"{image.url[:200]}: {describe_non_image(data)} ({source})")
        image.data = data
        image.sha256 = sha256
        image.format = fmt
        if isinstance(record, Pair):
            record.metadata["image_source"] = source
        self._counts[f"images_from_{source}"] = self._counts.get(f"images_from_{source}", 0) + 1
        return None

    def metrics(self) -> dict[str, float]:
        """Images served per source (warc, cache, http): what a run paid for; images removed from documents."""
        return {**getattr(self, "_counts", {}), **image_drop_metrics(self)}


def _images(record: Record) -> list[ImageRef]:
    """A record's images, in order (a pair's one image)."""
    return [record.image] if isinstance(record, Pair) else record.images
