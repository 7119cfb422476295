"""fetch_images: fill each image's bytes (pairs, documents, samples) from WARC files, the on-disk cache, or polite SSRF-safe HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Pair, Record
from polyvlm.core.step import BatchParams, BatchStep, Drop, register
from polyvlm.image.fetch import DEFAULT_USER_AGENT, Fetcher, FetchSettings, domain_of, downsample
from polyvlm.image.fetch_cache import CacheWrite, FetchCache
from polyvlm.image.image_drops import apply_verdicts, image_drop_metrics
from polyvlm.image.ssrf import SCHEMES, AddressPolicy
from polyvlm.image.warc_store import WarcImageStore, expand_globs


class FetchImagesParams(BatchParams):
    """Parameters of fetch_images."""

    warc_images: list[str] = []
    """globs of WARC files whose image responses are served first, with no HTTP request"""
    extensions: list[str] = [".jpg", ".jpeg", ".png", ".gif", ".webp"]
    """URL extensions that make a WARC response an image when its Content-Type is not image/*"""
    use_cache: bool = True
    """keep fetched bytes and permanent failures on disk, so that a re-run fetches nothing twice"""
    cache_dir: str | None = None
    """cache directory; None: $XDG_CACHE_HOME/polyvlm/images, else ~/.cache/polyvlm/images"""
    allow_addresses: list[str] = []
    """CIDRs, addresses or host names that may be fetched although not public (e.g. 127.0.0.1 in tests)"""
    max_bytes: int = Field(20_000_000, gt=0)
    """larger images are dropped (too_large): checked on Content-Length and while reading"""
    timeout_s: float = Field(30.0, gt=0)
    """time for one request, from connecting to the last byte"""
    connect_timeout_s: float = Field(10.0, gt=0)
    """time to open a connection"""
    retries: int = Field(3, ge=0)
    """further attempts after a 429, a 5xx, a timeout or a dropped connection"""
    backoff_s: float = Field(1.0, ge=0)
    """first retry delay, doubled at each retry, with ±50% jitter (a Retry-After header wins)"""
    max_retry_after_s: float = Field(60.0, ge=0)
    """a longer Retry-After gives up on the image now instead of waiting; also caps the backoff"""
    max_redirects: int = Field(5, ge=0)
    """redirects followed at most (each hop's address is checked again)"""
    concurrency: int = Field(64, ge=1)
    """requests in flight at once, in one worker process"""
    per_domain_concurrency: int = Field(8, ge=1)
    """requests in flight to one host at once, in one worker process"""
    max_per_domain: int = Field(0, ge=0)
    """distinct image URLs of one host kept per batch (a seeded hash choice); 0: no cap"""
    seed: int = 0
    """seed of the per-domain down-sampling choice; default: the recipe's seed"""
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1)
    """sent with every request: say who you are and where to reach you"""
    respect_noai: bool = True
    """drop images served with X-Robots-Tag: noai or noimageai (robots_noai)"""
    batch_size: int = Field(256, ge=1)
    """records fetched together (the concurrency limits apply within a batch)"""


def default_cache_dir() -> str:
    """$XDG_CACHE_HOME/polyvlm/images, else ~/.cache/polyvlm/images."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "polyvlm", "images")


_MAGIC = (
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"WEBP", 8, "webp"),  # after RIFF....
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"BM", 0, "bmp"),
    (b"\x00\x00\x01\x00", 0, "ico"),
)
_FTYP = {b"avif": "avif", b"avis": "avif", b"heic": "heic", b"heix": "heic", b"mif1": "heic"}


def sniff_format(data: bytes) -> str:
    """The image format the bytes start with (jpeg, png, gif, webp, ...), or '' when not an image."""
    for magic, at, name in _MAGIC:
        if data[at : at + len(magic)] == magic and (name != "webp" or data.startswith(b"RIFF")):
            return name
    if data[4:8] == b"ftyp":
        return _FTYP.get(data[8:12], "")
    return ""


def _looks_like(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    if not data:
        return "empty body"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith((b"<?xml", b"<svg")):
        return "XML/SVG (not a raster image)"
    return f"unknown bytes {data[:8].hex()}"


@register
class FetchImages(BatchStep):
    """Fill each image's bytes, sha256 and format (WARC store, then cache, then HTTP); a document loses an image that fails."""

    name = "fetch_images"
    Params = FetchImagesParams

    def _cache_root(self) -> str:
        return os.path.abspath(os.path.expanduser(self.params.cache_dir or default_cache_dir()))

    def settings(self) -> FetchSettings:
        """The fetcher's settings from the parameters."""
        p = self.params
        return FetchSettings(
            user_agent=p.user_agent, max_bytes=p.max_bytes, timeout_s=p.timeout_s,
            connect_timeout_s=p.connect_timeout_s, retries=p.retries, backoff_s=p.backoff_s,
            max_retry_after_s=p.max_retry_after_s, max_redirects=p.max_redirects, concurrency=p.concurrency,
            per_domain_concurrency=p.per_domain_concurrency, respect_noai=p.respect_noai,
            allow_addresses=tuple(p.allow_addresses),
        )  # fmt: skip

    def check(self) -> None:
        try:
            AddressPolicy(self.params.allow_addresses)
            expand_globs(self.params.warc_images)
        except ValueError as e:
            raise RecipeError(f"{self.label}: {e}") from None
        if self.params.use_cache:
            root = self._cache_root()
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
        p = self.params
        self._fetcher = Fetcher(self.settings())
        self._counts: dict[str, float] = {}
        self._cache = FetchCache(self._cache_root()) if p.use_cache else None
        self._warcs = None
        if p.warc_images:
            index = os.path.join(self._cache_root(), "warc_index.sqlite") if p.use_cache else ":memory:"
            self._warcs = WarcImageStore(p.warc_images, index, p.extensions)
        # failures are remembered only under the settings that produced them
        judged = [sorted(p.allow_addresses), p.max_bytes, p.max_redirects, p.respect_noai]
        self._policy_key = hashlib.sha1(json.dumps(judged).encode()).hexdigest()[:16]

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
        for url in downsample(wanted, cap, self.params.seed):
            for i, k in wanted.pop(url):
                verdicts[i][k] = Drop(
                    "domain_batch_cap", f"{domain_of(url)}: over {cap} image URLs in one batch"
                )
        found, failed = self._acquire(list(wanted))
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

    def _acquire(self, urls: list[str]) -> tuple[dict[str, tuple[bytes, str, str]], dict[str, Drop]]:
        """(bytes, sha256, source: warc, cache or http) per URL, or a Drop."""
        found: dict[str, tuple[bytes, str, str]] = {}
        failed: dict[str, Drop] = {}
        if self._warcs is not None and urls:
            for url, data in self._warcs.fetch(urls).items():
                found[url] = (data, hashlib.sha256(data).hexdigest(), "warc")
        todo = [u for u in urls if u not in found]
        if self._cache is not None and todo:
            for url, entry in self._cache.lookup(todo).items():
                if entry.sha256 is None:
                    if entry.policy == self._policy_key:
                        failed[url] = Drop(entry.reason, f"{entry.detail} (cached)")
                elif entry.size is not None and entry.size > self.params.max_bytes:
                    failed[url] = Drop("too_large", f"{entry.size} bytes > max_bytes (cached)")
                elif entry.noai and self.params.respect_noai:
                    failed[url] = Drop("robots_noai", "served with X-Robots-Tag noai (cached)")
                else:
                    data = self._cache.read(entry.sha256)
                    if data is not None:  # a missing blob is fetched again
                        found[url] = (data, entry.sha256, "cache")
            todo = [u for u in todo if u not in found and u not in failed]
        if not todo:
            return found, failed
        writes = []
        keep = self._cache.put_blob if self._cache is not None else None
        for url, res in self._fetcher.fetch_all(todo, keep).items():
            if res.data is not None:
                sha = hashlib.sha256(res.data).hexdigest()
                found[url] = (res.data, sha, "http")
                writes.append(CacheWrite(url, res.data, noai=res.noai, sha256=sha))
            else:
                failed[url] = Drop(res.reason, res.detail)
                if res.permanent:
                    writes.append(
                        CacheWrite(url, reason=res.reason, detail=res.detail, policy=self._policy_key)
                    )
        if self._cache is not None:
            self._cache.record(writes)
        return found, failed

    def _fill(self, record: Record, k: int, data: bytes, sha256: str, source: str) -> Drop | None:
        image = _images(record)[k]
        fmt = sniff_format(data)
        if not fmt:
            return Drop("not_an_image", f"{image.url[:200]}: {_looks_like(data)} ({source})")
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
