"""Read every source format into TrainSamples (an in-memory index; images stay encoded until a worker needs them).

Formats, as polyvlm's recipes and the published layouts write them:
- ``pairs_webdataset``: tar shards of KEY.jpg + KEY.json + KEY.txt (``write_webdataset``), read with `webdataset`;
- ``llava_json``: a JSON array of {id, image, conversations: [{from, value}]} with ``<image>`` marks;
- ``messages_jsonl``: {id, messages: [{role, content: str | [{type: text|image_url|image, ...}]}]} per line;
- ``mmc4_jsonl``: mmc4's documents {text_list, image_info: [{image_name, matched_text_index}]} per line; images
  are files under image_root (or beside the JSONL), or members of a tar of the same stem (``write_mmc4``);
- ``text_jsonl`` / ``text_parquet``: {id?, text} rows, or polyvlm Documents ({texts: [...]}, joined);
- ``hf``: a `datasets` dataset by hub name or saved path, with messages, conversations or text columns.
Conversations (LLaVA, messages, HF rows) are read by ``io/conversation_formats``, the reader review and
evaluation use: one rule for roles, image marks and empty turns. A relative image path is taken from
``image_root``, else from the folder of the file that names it. A record that cannot become a sample (no
text, a broken line, an unknown role, an empty assistant turn, a missing image file) is dropped and
counted with its reason and place (file:line).
"""

from __future__ import annotations

import glob
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Sample
from polyvlm.io.conversation_formats import ConversationError, from_llava, from_messages, image_ref
from polyvlm.text.sentence_join import sentence_separator
from polyvlm.train.config import SourceConfig
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
    """The files a source's path matches (relative paths were resolved from the config's folder)."""
    if config.format == "hf":
        return [config.path]
    files = sorted(f for f in glob.glob(config.path, recursive=True) if os.path.isfile(f))
    if not files:
        where = "" if os.path.isabs(config.path) else f" (from {os.getcwd()})"
        raise RecipeError(f"source {config.name!r}: {config.path!r} matches no file{where}")
    return files


def load_source(config: SourceConfig, limit: int | None = None) -> LoadedSource:
    """Read one configured source (at most ``limit`` records); RecipeError when files are missing or none is usable."""
    reader = READERS[config.format]
    loaded = LoadedSource(config, [])
    for path in source_files(config):
        for item in reader(path, config):
            if isinstance(item, Drop):
                loaded.drop(item)
            else:
                loaded.samples.append(item)
            if config.limit and len(loaded.samples) >= config.limit:
                return loaded
            if limit and loaded.read >= limit:
                return loaded
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
    return TrainSample(f"{config.name}:{sample.id}", config.name, chat_segments(messages))


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


def read_pairs_webdataset(path: str, config: SourceConfig):
    """Pairs from one WebDataset shard: an image segment (no loss) then the caption (loss) and <|endoftext|>."""
    import webdataset as wds

    for record in wds.WebDataset(path, shardshuffle=False, empty_check=False):
        key = record["__key__"]
        image = next((record[e] for e in IMAGE_EXTS if e in record), None)
        text = record.get("txt")
        if text is None and "json" in record:
            text = json.loads(record["json"]).get("text")
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        if image is None:
            yield Drop("pair without an image", f"{path}:{key}")
        elif not text or not text.strip():
            yield Drop("pair without text", f"{path}:{key}")
        else:
            yield TrainSample(f"{config.name}:{key}", config.name, caption_segments(text, image))


def caption_segments(text: str, image: ImageSource) -> list[Segment]:
    """An image then its caption: the caption and the end-of-text token carry loss."""
    return [Segment(IMAGE_MARK, False, [image]), Segment(text.strip() + "<|endoftext|>", True)]


def read_llava_json(path: str, config: SourceConfig):
    """LLaVA records, read by io/conversation_formats (roles, image marks, empty turns: one rule)."""
    with open(path, encoding="utf-8") as f:
        try:
            records = json.load(f)
        except json.JSONDecodeError as e:
            raise RecipeError(f"source {config.name!r}: {path}:{e.lineno}: not valid JSON: {e.msg}") from None
    if not isinstance(records, list):
        raise RecipeError(f"source {config.name!r}: {path}: a LLaVA JSON file holds an array of records")
    for n, rec in enumerate(records):
        yield _conversation(from_llava, rec, n, path, config, f"{path}[{n}]")


def read_messages_jsonl(path: str, config: SourceConfig):
    """OpenAI-style messages, read by io/conversation_formats: image parts become <image> marks in place."""
    for n, (line_no, line) in enumerate(_lines(path)):
        yield (
            line
            if isinstance(line, Drop)
            else _conversation(from_messages, line, n, path, config, f"{path}:{line_no}")
        )


def _tar_images(path: str) -> dict[str, bytes]:
    """The image members of the tar beside a JSONL file (same stem, as write_mmc4 makes them), by name."""
    import tarfile

    tar_path = os.path.splitext(path)[0] + ".tar"
    if not os.path.isfile(tar_path):
        return {}
    with tarfile.open(tar_path) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]  (regular files only)
            for m in tar.getmembers()
            if m.isfile() and m.name.rsplit(".", 1)[-1].lower() in IMAGE_EXTS
        }


def read_mmc4_jsonl(path: str, config: SourceConfig):
    """mmc4 documents: each image goes before the sentence it was matched to; sentences carry loss."""
    members = _tar_images(path)
    for n, (line_no, doc) in enumerate(_lines(path)):
        if isinstance(doc, Drop):
            yield doc
            continue
        texts = doc.get("text_list") or []
        before = _mmc4_images(doc, len(texts), members, _image_root(path, config), f"{path}:{line_no}")
        if isinstance(before, Drop):
            yield before
            continue
        segments = []
        for i, sentence in enumerate(texts):
            if before.get(i):
                segments.append(Segment(IMAGE_MARK * len(before[i]), False, before[i]))
            # Japanese sentences run on; a space only between sentences of space-separated scripts
            segments.append(Segment(sentence_separator(texts[i - 1] if i else "", sentence) + sentence, True))
        if not any(s.text.strip() for s in segments if s.supervised):
            yield Drop("document without text", f"{path}:{line_no}")
            continue
        segments.append(Segment("<|endoftext|>", True))
        yield TrainSample(f"{config.name}:{doc.get('url', n)}", config.name, segments)


def _mmc4_images(
    doc: dict, sentences: int, members: dict[str, bytes], root: str, where: str
) -> dict[int, list[ImageSource]] | Drop:
    """The images of an mmc4 document by the sentence they go before (tar members, else files)."""
    before: dict[int, list[ImageSource]] = {}
    for info in doc.get("image_info") or []:
        ref = info.get("image_path") or info.get("path") or info.get("image_name")
        index = info.get("matched_text_index")
        if ref is None or not isinstance(index, int) or not 0 <= index < sentences:
            continue
        found = members.get(ref) or _image_source(image_ref(ref, root), where)
        if isinstance(found, Drop):
            return found
        before.setdefault(index, []).append(found)
    return before


def read_text_jsonl(path: str, config: SourceConfig):
    """Text-only rows {id?, text}: all text carries loss."""
    for n, (line_no, row) in enumerate(_lines(path)):
        yield row if isinstance(row, Drop) else _text_sample(row, n, config, f"{path}:{line_no}")


def read_text_parquet(path: str, config: SourceConfig):
    """Text-only Parquet rows with a 'text' column."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if "text" not in table.column_names and "texts" not in table.column_names:
        raise RecipeError(
            f"source {config.name!r}: {path} has no 'text' or 'texts' column ({table.column_names})"
        )
    for n, row in enumerate(table.to_pylist()):
        yield _text_sample(row, n, config, f"{path}[{n}]")


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


def read_hf(path: str, config: SourceConfig):
    """A `datasets` dataset (saved dir or hub name) with messages, conversations or text columns."""
    try:
        import datasets
    except ImportError:
        raise RecipeError(
            f"source {config.name!r}: format 'hf' needs the 'datasets' package (pip install datasets)"
        ) from None
    ds = (
        datasets.load_from_disk(path)
        if os.path.isdir(path)
        else datasets.load_dataset(path, split=config.split)
    )
    if isinstance(ds, datasets.DatasetDict):
        ds = ds[config.split]
    for n, row in enumerate(ds):
        where = f"{path}[{n}]"
        if "messages" in row:
            yield _conversation(from_messages, row, n, path, config, where)
        elif "conversations" in row:
            yield _conversation(from_llava, row, n, path, config, where)
        else:
            yield _text_sample(row, n, config, where)


def _lines(path: str):
    """(line number, JSON object) of a JSONL file; a broken line yields its Drop instead."""
    with open(path, "rb") as f:  # bytes: a line in another encoding is one drop, not the file's end
        for line_no, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                yield line_no, Drop("line is not valid JSON", f"{path}:{line_no}")
                continue
            yield (
                line_no,
                obj if isinstance(obj, dict) else Drop("line is not a JSON object", f"{path}:{line_no}"),
            )


def decode_image(image: ImageSource):
    """A PIL RGB image from a path or encoded bytes (PIL's decompression-bomb cap applies)."""
    from PIL import Image

    with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as im:
        return im.convert("RGB")


READERS = {
    "pairs_webdataset": read_pairs_webdataset,
    "llava_json": read_llava_json,
    "messages_jsonl": read_messages_jsonl,
    "mmc4_jsonl": read_mmc4_jsonl,
    "text_jsonl": read_text_jsonl,
    "text_parquet": read_text_parquet,
    "hf": read_hf,
}
