"""Sources as streams read by position: an index of each source's usable records, built once and cached.

The index pass reads every record of a source once (images skipped where the format allows), keeps the
address of each usable one (file, record number, byte offset or row) and counts the rest with their
reason and place — what preflight's failure share and ``data.json`` report. It is cached on disk keyed by
the files' sizes and modification times, so a restarted run reads no record to find its place: the
mixture's cursors name positions, and a worker reads exactly the records of its micro-batches by seeking.
Memory per source is 12 bytes per usable record, never the records themselves.

``POLYVLM_INDEX_CACHE`` sets the cache folder (default ``~/.cache/polyvlm/train-index``).
``POLYVLM_READ_LOG``, when set, names a file each process appends ``index <source> <records>`` (an index
pass) and ``read <source> <position>`` (a record read for training) lines to: what the tests and the
benchmark count reads with.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from polyvlm.train.config import SourceConfig
from polyvlm.train.data.files import file_stamp
from polyvlm.train.data.sample import TrainSample
from polyvlm.train.data.sources import (
    EXAMPLES_PER_REASON,
    READERS,
    Drop,
    FileReader,
    scan_source,
    source_files,
)

INDEX_VERSION = 2  # 2: each position's category
OPEN_FILES = 16
"""files a worker keeps open per source (shards are visited window by window)"""


@dataclass
class SourceIndex:
    """A source's usable records by position (file bounds, record numbers, addresses) and its drops."""

    config: SourceConfig
    files: list[str]
    bounds: np.ndarray
    """usable records before each file, and the total at the end"""
    ordinals: np.ndarray
    addresses: np.ndarray
    read: int
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    category_names: list[str] = field(default_factory=lambda: [""])
    """the categories the records carry ("" for none), in order of first sight"""
    category_codes: np.ndarray | None = None
    """each usable position's category as an index into category_names (None: all the first)"""

    def __len__(self) -> int:
        return int(self.bounds[-1])

    def categories(self) -> dict[str, np.ndarray]:
        """The positions of each category the source's records carry ("" for records without one)."""
        if self.category_codes is None:
            return {self.category_names[0]: np.arange(len(self), dtype=np.int64)}
        found = {}
        for c, name in enumerate(self.category_names):
            positions = np.flatnonzero(self.category_codes == c)
            if len(positions):
                found[name] = positions
        return found

    def category_sizes(self) -> dict[str, int]:
        """Usable samples per category ("" for records without one), counted without listing positions."""
        if self.category_codes is None:
            return {self.category_names[0]: len(self)}
        counts = np.bincount(self.category_codes, minlength=len(self.category_names))
        return {name: int(n) for name, n in zip(self.category_names, counts, strict=True) if n}


def cache_dir() -> str:
    """Where source indexes are cached."""
    return os.environ.get("POLYVLM_INDEX_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "polyvlm", "train-index"
    )


def _cache_key(config: SourceConfig, files: list[str]) -> str:
    stamps = (
        [] if config.format == "hf" and not os.path.isdir(config.path) else [file_stamp(f) for f in files]
    )
    what = {"v": INDEX_VERSION, "format": config.format, "files": files, "stamps": stamps,
            "image_root": config.image_root, "limit": config.limit, "split": config.split}  # fmt: skip
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]


def log_read(kind: str, source: str, value: int) -> None:
    """Append one line to POLYVLM_READ_LOG when it is set (tests and the benchmark count reads)."""
    path = os.environ.get("POLYVLM_READ_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{kind} {source} {value}\n")


def build_index(config: SourceConfig) -> SourceIndex:
    """Scan a source once: the position of every usable record and every drop (no record is kept)."""
    files = source_files(config)
    per_file = [0] * len(files)
    ordinals, addresses, codes = array("q"), array("q"), array("h")
    names: dict[str, int] = {}
    dropped: Counter = Counter()
    examples: dict[str, list[str]] = {}
    read = 0
    for fi, n, address, item in scan_source(config, lazy_images=True):
        read += 1
        if isinstance(item, Drop):
            dropped[item.reason] += 1
            places = examples.setdefault(item.reason, [])
            if len(places) < EXAMPLES_PER_REASON:
                places.append(item.where)
        else:
            per_file[fi] += 1
            ordinals.append(n)
            addresses.append(address)
            codes.append(names.setdefault(item.category, len(names)))
    log_read("index", config.name, read)
    bounds = np.concatenate([[0], np.cumsum(per_file)]).astype(np.int64)
    return SourceIndex(config, files, bounds, np.frombuffer(ordinals, np.int64).astype(np.int32),
                       np.frombuffer(addresses, np.int64).copy(), read, dropped, examples,
                       list(names) or [""], np.frombuffer(codes, np.int16).copy())  # fmt: skip


def source_index(config: SourceConfig) -> SourceIndex:
    """The cached index of a source, built (and written atomically) when its files changed or it is new."""
    files = source_files(config)
    path = os.path.join(cache_dir(), _cache_key(config, files))
    try:
        with np.load(path + ".npz") as z, open(path + ".json", encoding="utf-8") as f:
            meta = json.load(f)
            return SourceIndex(config, files, z["bounds"], z["ordinals"], z["addresses"], meta["read"],
                               Counter(meta["dropped"]), meta["examples"], meta["categories"],
                               z["categories"])  # fmt: skip
    except (FileNotFoundError, KeyError, ValueError, OSError):
        pass
    index = build_index(config)
    os.makedirs(cache_dir(), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp + ".npz", "wb") as f:
        np.savez(f, bounds=index.bounds, ordinals=index.ordinals, addresses=index.addresses,
                 categories=index.category_codes)  # fmt: skip
    with open(tmp + ".json", "w", encoding="utf-8") as f:
        json.dump({"read": index.read, "dropped": dict(index.dropped), "examples": index.examples,
                   "categories": index.category_names}, f)  # fmt: skip
    os.replace(tmp + ".npz", path + ".npz")  # the arrays first: a reader needs both, and .json last
    os.replace(tmp + ".json", path + ".json")
    return index


class StreamSource:
    """A source's usable samples by position: ``source[k]`` seeks to record k and parses it.

    Files open on first use, in the process that reads them (a dataloader worker), at most OPEN_FILES at
    a time; nothing before record k is read. With ``positions`` it is a part of the source (one category
    of it): its k-th sample is the source's ``positions[k]``."""

    def __init__(self, index: SourceIndex, positions: np.ndarray | None = None, name: str | None = None):
        self.index = index
        self.name = name or index.config.name
        self.positions = positions
        self._readers: OrderedDict[int, FileReader] = OrderedDict()

    def __len__(self) -> int:
        return len(self.index) if self.positions is None else len(self.positions)

    def __getstate__(self) -> dict:  # open files stay in the process that opened them
        return {**self.__dict__, "_readers": OrderedDict()}

    def _reader(self, fi: int) -> FileReader:
        reader = self._readers.pop(fi, None)
        if reader is None:
            reader = READERS[self.index.config.format](self.index.files[fi], self.index.config)
            if len(self._readers) >= OPEN_FILES:
                self._readers.popitem(last=False)[1].close()
        self._readers[fi] = reader
        return reader

    def __getitem__(self, k: int) -> TrainSample:
        """Usable record ``k``; ValueError when it no longer parses (the file changed since it was indexed)."""
        if not 0 <= k < len(self):
            raise IndexError(k)
        if self.positions is not None:
            k = int(self.positions[k])
        fi = bisect.bisect_right(self.index.bounds, k) - 1
        n, address = int(self.index.ordinals[k]), int(self.index.addresses[k])
        reader = self._reader(fi)
        log_read("read", self.index.config.name, k)  # the source and its position, for a category part too
        where, raw = reader.fetch(n, address)
        item = reader.parse(n, raw, where)
        if isinstance(item, Drop):
            raise ValueError(f"{item.where}: {item.reason} (the file changed since it was indexed?)")
        return item
