"""Every source format as records by position: scan a file's records with their addresses, read one by its
address, parse it into a TrainSample (images stay encoded until a worker needs them).

Formats, as polyvlm's recipes and the published layouts write them (local files, or gs:// / s3:// URLs
read by range through pyarrow.fs as the data engine reads them):
- ``pairs_webdataset``: tar shards of KEY.jpg + KEY.json + KEY.txt (``write_webdataset``; webdataset's key rule);
- ``llava_json``: a JSON array of {id, image, conversations: [{from, value}]} with ``<image>`` marks;
- ``messages_jsonl``: {id, messages: [{role, content: str | [{type: text|image_url|image, ...}]}]} per line;
- ``mmc4_jsonl``: mmc4's documents {text_list, image_info: [{image_name, matched_text_index}]} per line; images
  are files under image_root (or beside the JSONL), or members of a tar of the same stem (``write_mmc4``);
- ``text_jsonl`` / ``text_parquet``: {id?, text} rows, or polyvlm Documents ({texts: [...]}, joined);
- ``hf``: a `datasets` dataset by hub name or saved path, with messages, conversations or text columns, or
  FineVision's {images, texts: [{user, assistant}]}.
Conversations (LLaVA, messages, HF rows) are read by ``io/conversation_formats``, the reader review and
evaluation use: one rule for roles, image marks and empty turns. A relative image path is taken from
``image_root``, else from the folder of the file that names it. A record that cannot become a sample (no
text, a broken line, an unknown role, an empty assistant turn, a missing image file) is dropped and
counted with its reason and place (file:line).
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Sample
from polyvlm.io.conversation_formats import ConversationError, from_llava, from_messages, image_ref
from polyvlm.text.sentence_join import sentence_separator
from polyvlm.train.config import SourceConfig
from polyvlm.train.data.files import (
    json_array_items,
    json_at,
    line_at,
    match_files,
    open_file,
    read_range,
    scan_lines,
    tar_group_at,
    tar_groups,
    tar_members,
)
from polyvlm.train.data.sample import IMAGE_MARK, ImageSource, Segment, TrainSample, chat_segments

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")
EXAMPLES_PER_REASON = 3


@dataclass
class Drop:
    """A record that could not become a sample: the countable reason and where it is (file:line)."""

    reason: str
    where: str


@dataclass
class LoadedSource:
    """A source's samples and what was dropped while reading it, by reason, with a few places each."""

    config: SourceConfig
    samples: list[TrainSample]
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def drop(self, d: Drop) -> None:
        """Count a dropped record and keep its place among the first few of its reason."""
        self.dropped[d.reason] += 1
        places = self.examples.setdefault(d.reason, [])
        if len(places) < EXAMPLES_PER_REASON:
            places.append(d.where)

    @property
    def read(self) -> int:
        """Records read: samples kept plus records dropped."""
        return len(self.samples) + sum(self.dropped.values())


def source_files(config: SourceConfig) -> list[str]:
    """The files a source's path matches, local or gs:// / s3:// (relative paths were resolved from the config's folder)."""
    if config.format == "hf":
        return [config.path]
    files = match_files(config.path)
    if not files:
        where = "" if os.path.isabs(config.path) or "://" in config.path else f" (from {os.getcwd()})"
        raise RecipeError(f"source {config.name!r}: {config.path!r} matches no file{where}")
    return files


def scan_source(config: SourceConfig, limit: int | None = None, lazy_images: bool = False):
    """(file number, record number, address, sample or Drop) of a source's records in order, up to
    ``config.limit`` samples or ``limit`` records read."""
    kept = read = 0
    for fi, path in enumerate(source_files(config)):
        reader = READERS[config.format](path, config)
        try:
            for n, address, where, raw in reader.scan(lazy_images):
                item = reader.parse(n, raw, where)
                read += 1
                kept += not isinstance(item, Drop)
                yield fi, n, address, item
                if (config.limit and kept >= config.limit) or (limit and read >= limit):
                    return
        finally:
            reader.close()


def load_source(config: SourceConfig, limit: int | None = None) -> LoadedSource:
    """Read one configured source into memory (at most ``limit`` records); RecipeError when files are
    missing or none is usable. Training streams instead (``train/data/stream.py``); this serves
    preflight's first records and tests."""
    loaded = LoadedSource(config, [])
    for _, _, _, item in scan_source(config, limit):
        if isinstance(item, Drop):
            loaded.drop(item)
        else:
            loaded.samples.append(item)
    if not loaded.samples:
        raise RecipeError(
            f"source {config.name!r}: no usable sample in {config.path!r}: {describe_drops(loaded)}"
        )
    return loaded


def describe_drops(loaded: LoadedSource, top: int = 3) -> str:
    """The most common drop reasons of a source with counts and where the first ones are."""
    parts = []
    for reason, count in loaded.dropped.most_common(top):
        parts.append(f"{count} x {reason} (e.g. {'; '.join(loaded.examples.get(reason, []))})")
    return "; ".join(parts) or "nothing read"


def _image_root(path: str, config: SourceConfig) -> str:
    """Where a file's relative image paths start: image_root, else the folder of the file naming them."""
    return config.image_root or os.path.dirname(path)


def _image_source(image: ImageRef, where: str) -> ImageSource | Drop:
    """What a worker decodes: the bytes, or a path that exists; else why the sample cannot train."""
    if image.data is not None:
        return image.data
    if image.path:
        if not os.path.isfile(image.path):
            return Drop("image file missing", f"{where}: {image.path}")
        return image.path
    return Drop("image not local", f"{where}: {image.url or image.sha256 or 'no location'}")


def conversation_sample(sample: Sample, config: SourceConfig, where: str) -> TrainSample | Drop:
    """A conversation read by io/conversation_formats as a training sample: images handed out by mark."""
    images = []
    for image in sample.images:
        found = _image_source(image, where)
        if isinstance(found, Drop):
            return found
        images.append(found)
    it = iter(images)
    messages = [
        (m.role, m.content, [next(it) for _ in range(m.content.count(IMAGE_MARK))]) for m in sample.messages
    ]
    category = sample.metadata.get("category")
    return TrainSample(f"{config.name}:{sample.id}", config.name, chat_segments(messages),
                       category if isinstance(category, str) else "")  # fmt: skip


def _conversation(
    read, record: Any, n: int, path: str, config: SourceConfig, where: str
) -> TrainSample | Drop:
    """One record through a conversation reader (from_llava / from_messages), or its drop."""
    try:
        sample = read(record, n, _image_root(path, config))
    except ConversationError as e:
        return Drop(e.reason, f"{where}: {e}")
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        return Drop("malformed record", f"{where}: {type(e).__name__}: {e}")
    return conversation_sample(sample, config, where)


def caption_segments(text: str, image: ImageSource) -> list[Segment]:
    """An image then its caption: the caption and the end-of-text token carry loss."""
    return [Segment(IMAGE_MARK, False, [image]), Segment(text.strip() + "<|endoftext|>", True)]


class FileReader:
    """One file of a source: scan its records with their addresses, fetch one by address, parse it.

    ``scan`` yields (record number, address, place, raw record) in file order; ``fetch(n, address)``
    returns (place, raw record) by seeking; ``parse`` turns a raw record into a sample or its Drop. The
    index pass (scan + parse, samples discarded) and a worker's read (fetch + parse) share ``parse``.
    """

    def __init__(self, path: str, config: SourceConfig):
        self.path = path
        self.config = config
        self._file: IO[bytes] | None = None

    @property
    def file(self) -> IO[bytes]:
        """The open file (opened on first use: in the worker that reads it)."""
        if self._file is None:
            self._file = open_file(self.path)
        return self._file

    def close(self) -> None:
        """Close the file if it was opened."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def scan(self, lazy_images: bool = False) -> Iterator[tuple[int, int, str, Any]]:
        """Every record with its address; ``lazy_images``: image bytes need not be read (index pass)."""
        raise NotImplementedError

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """The raw record ``n`` at ``address`` and its place."""
        raise NotImplementedError

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """A raw record as a sample, or why it cannot be one."""
        raise NotImplementedError

    def __getstate__(self) -> dict:  # an open file does not travel to a worker: it reopens there
        return {**self.__dict__, "_file": None}


class JsonlReader(FileReader):
    """Lines of a JSONL file, addressed by byte offset."""

    def scan(self, lazy_images: bool = False):
        """Every non-blank line, with its offset."""
        for n, (line_no, offset, line) in enumerate(scan_lines(self.file)):
            yield n, offset, f"{self.path}:{line_no}", line

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """The line at ``address``."""
        return f"{self.path}@{address}", line_at(self.file, address)

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """Decode the line, then the format's record."""
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Drop("line is not valid JSON", where)
        if not isinstance(obj, dict):
            return Drop("line is not a JSON object", where)
        return self.record(n, obj, where)

    def record(self, n: int, obj: dict, where: str) -> TrainSample | Drop:
        """One decoded JSON object as a sample."""
        raise NotImplementedError


class MessagesReader(JsonlReader):
    """OpenAI-style messages, read by io/conversation_formats: image parts become <image> marks in place."""

    def record(self, n: int, obj: dict, where: str) -> TrainSample | Drop:
        """One messages record."""
        return _conversation(from_messages, obj, n, self.path, self.config, where)


class TextJsonlReader(JsonlReader):
    """Text-only rows {id?, text}: all text carries loss."""

    def record(self, n: int, obj: dict, where: str) -> TrainSample | Drop:
        """One text row."""
        return _text_sample(obj, n, self.config, where)


class Mmc4Reader(JsonlReader):
    """mmc4 documents: each image goes before the sentence it was matched to; sentences carry loss.

    Images are files under image_root (or beside the JSONL), or members of a tar of the same stem
    (``write_mmc4``), read by offset from that tar's member table."""

    def __init__(self, path: str, config: SourceConfig):
        super().__init__(path, config)
        self._members: dict[str, tuple[int, int]] | None = None
        self._tar: IO[bytes] | None = None

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "_tar": None}

    def members(self) -> dict[str, tuple[int, int]]:
        """Image members of the tar beside the JSONL, by name (headers read once)."""
        if self._members is None:
            tar = os.path.splitext(self.path)[0] + ".tar"
            self._members = {}
            if match_files(tar):
                self._tar = open_file(tar)
                self._members = tar_members(self._tar, IMAGE_EXTS)
        return self._members

    def record(self, n: int, obj: dict, where: str) -> TrainSample | Drop:
        """One mmc4 document."""
        texts = obj.get("text_list") or []
        before = self._images(obj, len(texts), where)
        if isinstance(before, Drop):
            return before
        segments = []
        for i, sentence in enumerate(texts):
            if before.get(i):
                segments.append(Segment(IMAGE_MARK * len(before[i]), False, before[i]))
            # Japanese sentences run on; a space only between sentences of space-separated scripts
            segments.append(Segment(sentence_separator(texts[i - 1] if i else "", sentence) + sentence, True))
        if not any(s.text.strip() for s in segments if s.supervised):
            return Drop("document without text", where)
        segments.append(Segment("<|endoftext|>", True))
        return TrainSample(f"{self.config.name}:{obj.get('url', n)}", self.config.name, segments)

    def _images(self, doc: dict, sentences: int, where: str) -> dict[int, list[ImageSource]] | Drop:
        """The images of a document by the sentence they go before (tar members, else files)."""
        before: dict[int, list[ImageSource]] = {}
        members = self.members()
        root = _image_root(self.path, self.config)
        for info in doc.get("image_info") or []:
            ref = info.get("image_path") or info.get("path") or info.get("image_name")
            index = info.get("matched_text_index")
            if ref is None or not isinstance(index, int) or not 0 <= index < sentences:
                continue
            if ref in members:
                found: ImageSource | Drop = read_range(self._tar, *members[ref])  # type: ignore[arg-type]
            else:
                found = _image_source(image_ref(ref, root), where)
            if isinstance(found, Drop):
                return found
            before.setdefault(index, []).append(found)
        return before

    def close(self) -> None:
        """Close the JSONL and the tar beside it."""
        super().close()
        if self._tar is not None:
            self._tar.close()
            self._tar = None
            self._members = None


class PairsReader(FileReader):
    """Pairs from WebDataset tar shards (KEY.jpg + KEY.json + KEY.txt, as ``write_webdataset`` lays them
    out): an image segment (no loss) then the caption (loss) and <|endoftext|>. Addressed by the offset
    of a sample's first tar header."""

    def scan(self, lazy_images: bool = False):
        """Every sample of the shard (image bytes skipped when ``lazy_images``)."""
        for n, (offset, key, parts) in enumerate(tar_groups(self.file, IMAGE_EXTS if lazy_images else ())):
            yield n, offset, f"{self.path}:{key}", (key, parts)

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """The sample whose first header is at ``address``."""
        key, parts = tar_group_at(self.file, address)
        return f"{self.path}:{key}", (key, parts)

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """An image and its caption (txt, else json's text)."""
        key, record = raw
        image = next((record[e] for e in IMAGE_EXTS if e in record), None)
        text = record.get("txt")
        if text is None and "json" in record:
            try:
                text = json.loads(record["json"]).get("text")
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                return Drop("malformed record", where)
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if image is None:
            return Drop("pair without an image", where)
        if not text or not text.strip():
            return Drop("pair without text", where)
        return TrainSample(f"{self.config.name}:{key}", self.config.name, caption_segments(text, image))


class LlavaReader(FileReader):
    """LLaVA records (a JSON array), read by io/conversation_formats; addressed by each element's byte offset."""

    def scan(self, lazy_images: bool = False):
        """Every element of the array (the file is parsed once, whole)."""
        try:
            data = self.file.read()
            for n, (offset, rec) in enumerate(json_array_items(data)):
                yield n, offset, f"{self.path}[{n}]", rec
        except json.JSONDecodeError as e:
            raise RecipeError(
                f"source {self.config.name!r}: {self.path}:{e.lineno}: not valid JSON: {e.msg}"
            ) from None
        except (ValueError, UnicodeDecodeError) as e:
            raise RecipeError(f"source {self.config.name!r}: {self.path}: {e}") from None

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """The element at ``address``."""
        return f"{self.path}[{n}]", json_at(self.file, address)

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """One LLaVA record (roles, image marks, empty turns: one rule)."""
        return _conversation(from_llava, raw, n, self.path, self.config, where)


class ParquetReader(FileReader):
    """Text-only Parquet rows with a 'text' (or 'texts') column; addressed by row number, read by row group."""

    def __init__(self, path: str, config: SourceConfig):
        super().__init__(path, config)
        self._groups: list[int] | None = None
        self._cached: tuple[int, list[dict]] | None = None

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "_cached": None}

    def _parquet(self):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.file)
        cols = [c for c in ("id", "text", "texts") if c in pf.schema_arrow.names]
        if "text" not in cols and "texts" not in cols:
            raise RecipeError(
                f"source {self.config.name!r}: {self.path} has no 'text' or 'texts' column "
                f"({pf.schema_arrow.names})"
            )
        return pf, cols

    def scan(self, lazy_images: bool = False):
        """Every row, one row group at a time."""
        pf, cols = self._parquet()
        n = 0
        for g in range(pf.num_row_groups):
            for row in pf.read_row_group(g, columns=cols).to_pylist():
                yield n, n, f"{self.path}[{n}]", row
                n += 1

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """Row ``address``: its row group is read (and kept for the next rows of the same group)."""
        import bisect

        pf, cols = self._parquet()
        if self._groups is None:
            ends, total = [], 0
            for g in range(pf.num_row_groups):
                total += pf.metadata.row_group(g).num_rows
                ends.append(total)
            self._groups = ends
        g = bisect.bisect_right(self._groups, address)
        if self._cached is None or self._cached[0] != g:
            self._cached = (g, pf.read_row_group(g, columns=cols).to_pylist())
        first = self._groups[g - 1] if g else 0
        return f"{self.path}[{address}]", self._cached[1][address - first]

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """One text row."""
        return _text_sample(raw, n, self.config, where)


def _text_sample(row: dict, n: int, config: SourceConfig, where: str) -> TrainSample | Drop:
    text = row.get("text")
    if text is None and isinstance(
        row.get("texts"), list
    ):  # a polyvlm Document (write_jsonl / write_parquet)
        text = "\n".join(t for t in row["texts"] if isinstance(t, str) and t.strip())  # its paragraphs
    if not isinstance(text, str) or not text.strip():
        return Drop("row without text", where)
    return TrainSample(
        f"{config.name}:{row.get('id', n)}", config.name, [Segment(text + "<|endoftext|>", True)]
    )


class HfReader(FileReader):
    """A `datasets` dataset (saved dir or hub name) with messages, conversations or text columns, or
    FineVision's {images: [...], texts: [{user, assistant}]}; addressed by row number (Arrow, memory-mapped)."""

    def __init__(self, path: str, config: SourceConfig):
        super().__init__(path, config)
        self._ds = None

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "_ds": None}

    def dataset(self):
        """The dataset, opened once per process; image columns stay encoded."""
        if self._ds is None:
            self._ds = open_hf(self.path, self.config)
        return self._ds

    def close(self) -> None:
        """Forget the dataset."""
        self._ds = None

    def scan(self, lazy_images: bool = False):
        """Every row."""
        for n, row in enumerate(self.dataset()):
            yield n, n, f"{self.path}[{n}]", row

    def fetch(self, n: int, address: int) -> tuple[str, Any]:
        """Row ``address``."""
        return f"{self.path}[{address}]", self.dataset()[int(address)]

    def parse(self, n: int, raw: Any, where: str) -> TrainSample | Drop:
        """A row by its columns: messages, conversations, FineVision texts, else text."""
        if "messages" in raw:
            return _conversation(from_messages, raw, n, self.path, self.config, where)
        if "conversations" in raw:
            return _conversation(from_llava, raw, n, self.path, self.config, where)
        if "texts" in raw and "images" in raw:
            return finevision_sample(raw, n, self.config, where)
        return _text_sample(raw, n, self.config, where)


def open_hf(path: str, config: SourceConfig):
    """A `datasets` dataset by saved path or hub name (its split), image columns left encoded."""
    import datasets

    ds = (
        datasets.load_from_disk(path)
        if os.path.isdir(path)
        else datasets.load_dataset(path, split=config.split)
    )
    if isinstance(ds, datasets.DatasetDict):
        ds = ds[config.split]
    for name, feature in ds.features.items():  # bytes to the worker, not PIL images to every reader
        if isinstance(feature, datasets.Image):
            ds = ds.cast_column(name, datasets.Image(decode=False))
        elif isinstance(feature, (list, datasets.Sequence, datasets.List)) and isinstance(
            getattr(feature, "feature", None) or (feature[0] if isinstance(feature, list) else None),
            datasets.Image,
        ):
            ds = ds.cast_column(name, datasets.List(datasets.Image(decode=False)))
    return ds


def finevision_sample(row: dict, n: int, config: SourceConfig, where: str) -> TrainSample | Drop:
    """A FineVision row: its images before the first user turn, then each {user, assistant} turn."""
    images = []
    for im in row.get("images") or []:
        data = im.get("bytes") if isinstance(im, dict) else None
        if data is None and isinstance(im, dict) and im.get("path"):
            data = im["path"]
        if data is None:
            return Drop("image not local", where)
        images.append(data)
    turns = row.get("texts") or []
    if not turns:
        return Drop("row without text", where)
    messages = []
    for i, turn in enumerate(turns):
        user, assistant = turn.get("user"), turn.get("assistant")
        if not isinstance(user, str) or not isinstance(assistant, str):
            return Drop("malformed record", where)
        if not assistant.strip():
            return Drop("empty assistant turn", where)
        marks = IMAGE_MARK * len(images) if i == 0 else ""
        messages.append(("user", marks + user, images if i == 0 else []))
        messages.append(("assistant", assistant, []))
    sid = row.get("id", n)
    return TrainSample(f"{config.name}:{sid}", config.name, chat_segments(messages))


READERS: dict[str, type[FileReader]] = {
    "pairs_webdataset": PairsReader,
    "llava_json": LlavaReader,
    "messages_jsonl": MessagesReader,
    "mmc4_jsonl": Mmc4Reader,
    "text_jsonl": TextJsonlReader,
    "text_parquet": ParquetReader,
    "hf": HfReader,
}


def decode_image(image: ImageSource):
    """A PIL RGB image from a path or encoded bytes (PIL's decompression-bomb cap applies)."""
    from PIL import Image

    with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as im:
        return im.convert("RGB")
