"""The parameters of fetch_images, and what they give: the fetcher's settings and the cache's folder."""

from __future__ import annotations

import dataclasses
import os

from pydantic import Field

from polyvlm.core.step import BatchParams
from polyvlm.image.fetch import DEFAULT_USER_AGENT, FetchSettings


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


def cache_root(params: FetchImagesParams) -> str:
    """The absolute cache directory of the parameters."""
    return os.path.abspath(os.path.expanduser(params.cache_dir or default_cache_dir()))


def fetch_settings(params: FetchImagesParams) -> FetchSettings:
    """The fetcher's settings: each FetchSettings field from the parameter of the same name."""
    values = {f.name: getattr(params, f.name) for f in dataclasses.fields(FetchSettings)}
    values["allow_addresses"] = tuple(values["allow_addresses"])  # frozen settings hold no list
    return FetchSettings(**values)
