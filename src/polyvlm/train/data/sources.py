"""Read every source format into TrainSamples (an in-memory index; images stay encoded until a worker needs them).

Formats, as polyvlm's recipes and the published layouts write them:
- ``pairs_webdataset``: tar shards of KEY.jpg + KEY.json + KEY.txt (``write_webdataset``), read with `webdataset`;
- ``llava_json``: a JSON array of {id, image, conversations: [{from, value}]} with ``<image>`` marks;
- ``messages_jsonl``: {id, messages: [{role, content: str | [{type: text|image_url|image, ...}]}]} per line;
- ``mmc4_jsonl``: mmc4's documents {text_list, image_info: [{image_name, matched_text_index}]} per line; images
  are files under image_root (or beside the JSONL), or members of a tar of the same stem (``write_mmc4``);
- ``text_jsonl`` / ``text_parquet``: {id?, text} rows;
- ``hf``: a `datasets` dataset by hub name or saved path, with messages, conversations or text columns.
A record that cannot become a sample (no text, a broken line) is dropped and counted with its reason.
"""

from __future__ import annotations

import glob
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field

from polyvlm.core.errors import RecipeError
from polyvlm.text.sentence_join import sentence_separator
from polyvlm.train.config import SourceConfig
from polyvlm.train.data.sample import IMAGE_MARK, ImageSource, Segment, TrainSample, chat_segments

LLAVA_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}
IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")


@dataclass
class LoadedSource:
    """A source's samples and what was dropped while reading it, by reason."""

    config: SourceConfig
    samples: list[TrainSample]
    dropped: Counter = field(default_factory=Counter)


def load_source(config: SourceConfig, base_dir: str = ".") -> LoadedSource:
    """Read one configured source; raises RecipeError when its files are missing or it yields nothing."""
    reader = READERS[config.format]
    if config.format == "hf":
        files = [config.path]
    else:
        pattern = config.path if os.path.isabs(config.path) else os.path.join(base_dir, config.path)
        files = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        if not files:
            raise RecipeError(
                f"source {config.name!r}: {config.path!r} matches no file (from {os.path.abspath(base_dir)})"
            )
    loaded = LoadedSource(config, [])
    for path in files:
        for item in reader(path, config):
            if isinstance(item, str):
                loaded.dropped[item] += 1
            else:
                loaded.samples.append(item)
            if config.limit and len(loaded.samples) >= config.limit:
                return loaded
    if not loaded.samples:
        raise RecipeError(
            f"source {config.name!r}: no usable sample in {config.path!r} (dropped: {dict(loaded.dropped)})"
        )
    return loaded


def _image_path(ref: str, path: str, config: SourceConfig) -> str:
    root = config.image_root or os.path.dirname(path)
    return ref if os.path.isabs(ref) else os.path.join(root, ref)


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
            yield "pair without an image"
        elif not text or not text.strip():
            yield "pair without text"
        else:
            yield TrainSample(f"{config.name}:{key}", config.name, caption_segments(text, image))


def caption_segments(text: str, image: ImageSource) -> list[Segment]:
    """An image then its caption: the caption and the end-of-text token carry loss."""
    return [Segment(IMAGE_MARK, False, [image]), Segment(text.strip() + "<|endoftext|>", True)]


def read_llava_json(path: str, config: SourceConfig):
    """LLaVA records: roles mapped to ChatML; an image with no <image> mark goes before the first user turn."""
    with open(path, encoding="utf-8") as f:
        try:
            records = json.load(f)
        except json.JSONDecodeError as e:
            raise RecipeError(f"source {config.name!r}: {path} is not valid JSON: {e}") from None
    for n, rec in enumerate(records):
        images = rec.get("image") or []
        images = [images] if isinstance(images, str) else list(images)
        messages = _llava_messages(rec.get("conversations") or [], len(images))
        if isinstance(messages, str):
            yield messages
            continue
        _hand_out_images(messages, [_image_path(i, path, config) for i in images])
        yield TrainSample(f"{config.name}:{rec.get('id', n)}", config.name, chat_segments(messages))


def _llava_messages(turns: list[dict], images: int) -> list | str:
    """[role, text, []] per turn, or the reason the record cannot be used."""
    if not turns:
        return "no conversations"
    messages = []
    for t in turns:
        role = LLAVA_ROLES.get(t.get("from"))
        if role is None:
            return "unknown role"
        messages.append([role, str(t.get("value", "")), []])
    marks = sum(m[1].count(IMAGE_MARK) for m in messages)
    if images == 1 and marks == 0:  # LLaVA puts a lone unmarked image before the first turn
        messages[0][1] = IMAGE_MARK + "\n" + messages[0][1]
        marks = 1
    if marks != images:
        return "image count differs from <image> marks"
    return messages


def _hand_out_images(messages: list, images: list[ImageSource]) -> None:
    """Give each message the images its <image> marks stand for, in order."""
    it = iter(images)
    for m in messages:
        m[2] = [next(it) for _ in range(m[1].count(IMAGE_MARK))]


def read_messages_jsonl(path: str, config: SourceConfig):
    """OpenAI-style messages: image parts become <image> marks in place."""
    for n, line in enumerate(_lines(path)):
        if isinstance(line, str):
            yield line
            continue
        messages = []
        for m in line.get("messages") or []:
            content, images = m.get("content"), []
            if isinstance(content, list):
                text = ""
                for part in content:
                    if part.get("type") == "text":
                        text += part.get("text", "")
                    elif part.get("type") in ("image_url", "image"):
                        ref = (
                            part.get("image_url", {}).get("url")
                            if part["type"] == "image_url"
                            else part.get("image")
                        )
                        images.append(_image_path(str(ref), path, config))
                        text += IMAGE_MARK
                content = text
            messages.append((m.get("role"), str(content or ""), images))
        if not messages:
            yield "no messages"
        elif any(r not in ("user", "assistant", "system") for r, _, _ in messages):
            yield "unknown role"
        else:
            yield TrainSample(f"{config.name}:{line.get('id', n)}", config.name, chat_segments(messages))


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
    for n, doc in enumerate(_lines(path)):
        if isinstance(doc, str):
            yield doc
            continue
        texts = doc.get("text_list") or []
        before: dict[int, list[str]] = {}
        for info in doc.get("image_info") or []:
            ref = info.get("image_path") or info.get("path") or info.get("image_name")
            index = info.get("matched_text_index")
            if ref is None or not isinstance(index, int) or not 0 <= index < len(texts):
                continue
            before.setdefault(index, []).append(members.get(ref) or _image_path(ref, path, config))
        segments = []
        for i, sentence in enumerate(texts):
            if before.get(i):
                segments.append(Segment(IMAGE_MARK * len(before[i]), False, before[i]))
            # Japanese sentences run on; a space only between sentences of space-separated scripts
            segments.append(Segment(sentence_separator(texts[i - 1] if i else "", sentence) + sentence, True))
        if not any(s.text.strip() for s in segments if s.supervised):
            yield "document without text"
            continue
        segments.append(Segment("<|endoftext|>", True))
        yield TrainSample(f"{config.name}:{doc.get('url', n)}", config.name, segments)


def read_text_jsonl(path: str, config: SourceConfig):
    """Text-only rows {id?, text}: all text carries loss."""
    for n, row in enumerate(_lines(path)):
        if isinstance(row, str):
            yield row
        else:
            yield _text_sample(row, n, config)


def read_text_parquet(path: str, config: SourceConfig):
    """Text-only Parquet rows with a 'text' column."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if "text" not in table.column_names:
        raise RecipeError(f"source {config.name!r}: {path} has no 'text' column ({table.column_names})")
    for n, row in enumerate(table.to_pylist()):
        yield _text_sample(row, n, config)


def _text_sample(row: dict, n: int, config: SourceConfig) -> TrainSample | str:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return "row without text"
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
        if "messages" in row:
            yield from read_messages_rows([row], config)
        elif "conversations" in row:
            yield TrainSample(f"{config.name}:{row.get('id', n)}", config.name,
                              chat_segments([(LLAVA_ROLES.get(t["from"], t["from"]), t["value"], []) for t in row["conversations"]]))  # fmt: skip
        else:
            yield _text_sample(row, n, config)


def read_messages_rows(rows: list[dict], config: SourceConfig):
    """Messages rows already in memory (HF datasets): text content only."""
    for n, row in enumerate(rows):
        messages = [
            (m["role"], m["content"] if isinstance(m["content"], str) else "", []) for m in row["messages"]
        ]
        yield TrainSample(f"{config.name}:{row.get('id', n)}", config.name, chat_segments(messages))


def _lines(path: str):
    """JSON objects of a JSONL file; a broken line yields its reason instead."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield "line is not valid JSON"
                continue
            yield obj if isinstance(obj, dict) else "line is not a JSON object"


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
