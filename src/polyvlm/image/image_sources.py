"""Where fetch_images finds an image's bytes, in order: WARC files, then the on-disk cache, then HTTP."""

from __future__ import annotations

import hashlib
import json
import os

from polyvlm.core.step import Drop
from polyvlm.image.fetch import Fetcher
from polyvlm.image.fetch_cache import CacheWrite, FetchCache
from polyvlm.image.fetch_params import FetchImagesParams, cache_root, fetch_settings
from polyvlm.image.warc_store import WarcImageStore

Found = tuple[bytes, str, str]  # bytes, sha256, source: warc, cache or http


class ImageSources:
    """The WARC store, the cache and the fetcher of one fetch_images step (opened in its setup)."""

    def __init__(self, params: FetchImagesParams) -> None:
        p = self.params = params
        self.fetcher = Fetcher(fetch_settings(p))
        self.cache = FetchCache(cache_root(p)) if p.use_cache else None
        self.warcs = None
        if p.warc_images:
            index = os.path.join(cache_root(p), "warc_index.sqlite") if p.use_cache else ":memory:"
            self.warcs = WarcImageStore(p.warc_images, index, p.extensions)
        # failures are remembered only under the settings that produced them
        judged = [sorted(p.allow_addresses), p.max_bytes, p.max_redirects, p.respect_noai]
        self.policy_key = hashlib.sha1(json.dumps(judged).encode()).hexdigest()[:16]

    def acquire(self, urls: list[str]) -> tuple[dict[str, Found], dict[str, Drop]]:
        """(bytes, sha256, source) per URL found, or a Drop per URL that failed, from the first source that knows it."""
        found: dict[str, Found] = {}
        failed: dict[str, Drop] = {}
        if self.warcs is not None and urls:
            for url, data in self.warcs.fetch(urls).items():
                found[url] = (data, hashlib.sha256(data).hexdigest(), "warc")
        todo = [u for u in urls if u not in found]
        if self.cache is not None and todo:
            self._from_cache(self.cache, todo, found, failed)
            todo = [u for u in todo if u not in found and u not in failed]
        if todo:
            self._from_http(todo, found, failed)
        return found, failed

    def _from_cache(
        self, cache: FetchCache, urls: list[str], found: dict[str, Found], failed: dict[str, Drop]
    ) -> None:
        p = self.params
        for url, entry in cache.lookup(urls).items():
            if entry.sha256 is None:
                if entry.policy == self.policy_key:
                    failed[url] = Drop(entry.reason, f"{entry.detail} (cached)")
            elif entry.size is not None and entry.size > p.max_bytes:
                failed[url] = Drop("too_large", f"{entry.size} bytes > max_bytes (cached)")
            elif entry.noai and p.respect_noai:
                failed[url] = Drop("robots_noai", "served with X-Robots-Tag noai (cached)")
            else:
                data = cache.read(entry.sha256)
                if data is not None:  # a missing blob is fetched again
                    found[url] = (data, entry.sha256, "cache")

    def _from_http(self, urls: list[str], found: dict[str, Found], failed: dict[str, Drop]) -> None:
        writes = []
        keep = self.cache.put_blob if self.cache is not None else None
        for url, res in self.fetcher.fetch_all(urls, keep).items():
            if res.data is not None:
                sha = hashlib.sha256(res.data).hexdigest()
                found[url] = (res.data, sha, "http")
                writes.append(CacheWrite(url, res.data, noai=res.noai, sha256=sha))
            else:
                failed[url] = Drop(res.reason, res.detail)
                if res.permanent:
                    writes.append(
                        CacheWrite(url, reason=res.reason, detail=res.detail, policy=self.policy_key)
                    )
        if self.cache is not None:
            self.cache.record(writes)
