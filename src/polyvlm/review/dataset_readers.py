"""Read any conversation or pair output of polyvlm for review: Parquet, polyvlm JSONL, LLaVA JSON, messages JSONL.

A file or a run's output folder (its part files, sorted). A line or entry that cannot be read is reported
with its place and reason; the rest is read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from polyvlm.core.records import Pair, Record, Sample, record_from_dict, table_to_records
from polyvlm.io.conversation_formats import from_llava, from_messages

SUFFIXES = (".parquet", ".jsonl", ".json")


@dataclass(slots=True)
class Unreadable:
    """An entry of the input that could not be turned into a record."""

    where: str
    reason: str


def dataset_files(path: str) -> list[str]:
    """The files of a dataset: the file itself, or a folder's readable files, sorted."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith(SUFFIXES) and not n.startswith("."))
        return [os.path.join(path, n) for n in names]
    if os.path.isfile(path):
        return [path]
    raise FileNotFoundError(f"{path}: no such file or folder")


def read_dataset(path: str) -> Iterator[Record | Unreadable]:
    """Every record of a dataset, or why an entry could not be read."""
    files = dataset_files(path)
    if not files:
        raise FileNotFoundError(f"{path}: no .parquet, .jsonl or .json files in it")
    for f in files:
        if f.endswith(".parquet"):
            yield from _parquet(f)
        elif f.endswith(".jsonl"):
            yield from _jsonl(f)
        else:
            yield from _llava_json(f)


def _parquet(path: str) -> Iterator[Record | Unreadable]:
    try:
        yield from table_to_records(pq.read_table(path))
    except (pa.ArrowInvalid, OSError, ValueError, KeyError) as e:
        yield Unreadable(path, f"bad_parquet: {e}")


def _jsonl(path: str) -> Iterator[Record | Unreadable]:
    with open(path, "rb") as f:  # bytes: a line in another encoding is reported, the others read
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                d = json.loads(raw.decode("utf-8"))
                if "kind" not in d and "messages" in d:  # image paths are relative to this file's folder
                    yield from_messages(d, n, os.path.dirname(path))
                else:
                    yield record_from_dict(d)
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                yield Unreadable(f"{path}:{n}", f"bad_line: {type(e).__name__}: {e}")


def _llava_json(path: str) -> Iterator[Record | Unreadable]:
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
        if not isinstance(entries, list):
            raise ValueError("a LLaVA JSON file holds an array of records")
    except ValueError as e:
        yield Unreadable(path, f"bad_json: {e}")
        return
    for n, d in enumerate(entries):
        try:
            yield from_llava(d, n, os.path.dirname(path))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            yield Unreadable(f"{path}[{n}]", f"bad_entry: {type(e).__name__}: {e}")


def turns_of(record: Record) -> list[tuple[str, str]]:
    """The texts an annotator reviews and may edit: a sample's messages, a pair's text."""
    if isinstance(record, Sample):
        return [(m.role, m.content) for m in record.messages]
    if isinstance(record, Pair):
        return [("text", record.text)]
    return [("text", t) for t in record.texts]
