"""Synthetic shards of every streaming format, each record numbered so a test can tell which it read."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from train_fixtures import noise_png


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def write_pairs(folder: Path, shards: int, per_shard: int) -> str:
    """WebDataset pair shards as write_webdataset lays them out; returns their glob."""
    os.makedirs(folder, exist_ok=True)
    for s in range(shards):
        with tarfile.open(folder / f"pairs-{s:04d}.tar", "w") as tar:
            for i in range(per_shard):
                key = f"p{s:02d}{i:04d}"
                _add(tar, f"{key}.png", noise_png(32, 24, seed=s * per_shard + i))
                _add(tar, f"{key}.json", json.dumps({"text": f"写真 {key}"}).encode())
                _add(tar, f"{key}.txt", f"写真 {key} の説明".encode())
    return str(folder / "pairs-*.tar")


def write_text_jsonl(folder: Path, shards: int, per_shard: int, bad_every: int = 0) -> str:
    """Text JSONL shards (a broken line every ``bad_every`` when > 0); returns their glob."""
    os.makedirs(folder, exist_ok=True)
    for s in range(shards):
        lines = []
        for i in range(per_shard):
            if bad_every and i % bad_every == bad_every - 1:
                lines.append("not json")
            else:
                lines.append(
                    json.dumps({"id": f"t{s:02d}{i:04d}", "text": f"文書 {s}-{i} です。"}, ensure_ascii=False)
                )
        (folder / f"text-{s:04d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(folder / "text-*.jsonl")


def write_text_parquet(folder: Path, rows: int, row_group: int) -> str:
    """One Parquet file of text rows in row groups of ``row_group``; returns its path."""
    os.makedirs(folder, exist_ok=True)
    table = pa.table(
        {"id": [f"q{i:05d}" for i in range(rows)], "text": [f"行 {i} の本文" for i in range(rows)]}
    )
    pq.write_table(table, folder / "text.parquet", row_group_size=row_group)
    return str(folder / "text.parquet")


def write_llava(folder: Path, records: int) -> str:
    """A LLaVA JSON array (every record with an image file beside it); returns its path."""
    os.makedirs(folder, exist_ok=True)
    (folder / "img.png").write_bytes(noise_png())
    recs = [
        {"id": f"c{i:04d}", "image": "img.png",
         "conversations": [{"from": "human", "value": "<image>\n何？"}, {"from": "gpt", "value": f"答え {i}"}]}
        for i in range(records)
    ]  # fmt: skip
    (folder / "conv.json").write_text(json.dumps(recs, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(folder / "conv.json")


def read_log(path: Path) -> list[tuple[str, str, int]]:
    """The (kind, source, value) lines of a POLYVLM_READ_LOG file (none when it was not written)."""
    if not path.exists():
        return []
    return [(k, s, int(v)) for k, s, v in (line.split() for line in path.read_text().splitlines())]
