"""Streaming sources: a record read by position equals the same record read in order, for every format;
the index is built once and cached (keyed by the files' sizes and times), then nothing is scanned again."""

from __future__ import annotations

import json

import pytest
from stream_fixtures import read_log, write_llava, write_pairs, write_text_jsonl, write_text_parquet

from polyvlm.train.config import SourceConfig
from polyvlm.train.data.sources import load_source
from polyvlm.train.data.stream import StreamSource, source_index


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("POLYVLM_READ_LOG", str(tmp_path / "reads.log"))


def segments(sample):
    return [(s.text, s.supervised, s.images) for s in sample.segments]


@pytest.mark.parametrize(
    "fmt", ["pairs_webdataset", "text_jsonl", "text_parquet", "llava_json", "messages_jsonl"]
)
def test_a_record_by_position_equals_the_record_in_order(tmp_path, fmt):
    if fmt == "pairs_webdataset":
        path = write_pairs(tmp_path / "d", shards=3, per_shard=7)
    elif fmt == "text_jsonl":
        path = write_text_jsonl(tmp_path / "d", shards=2, per_shard=30, bad_every=9)
    elif fmt == "text_parquet":
        path = write_text_parquet(tmp_path / "d", rows=50, row_group=8)
    elif fmt == "llava_json":
        path = write_llava(tmp_path / "d", records=12)
    else:
        (tmp_path / "d").mkdir()
        lines = [json.dumps({"id": f"m{i}", "messages": [{"role": "user", "content": "問"},
                                                         {"role": "assistant", "content": f"答{i}"}]})
                 for i in range(10)]  # fmt: skip
        lines.insert(4, json.dumps({"id": "bad", "messages": [{"role": "assistant", "content": " "}]}))
        (tmp_path / "d" / "m.jsonl").write_text("\n".join(lines) + "\n\n")
        path = str(tmp_path / "d" / "m.jsonl")
    config = SourceConfig(name="s", format=fmt, path=path)
    in_order = load_source(config)
    index = source_index(config)
    assert (len(index), index.read, index.dropped) == (len(in_order.samples), in_order.read, in_order.dropped)
    stream = StreamSource(index)
    for k in reversed(range(len(stream))):  # backwards: every read seeks
        assert stream[k].id == in_order.samples[k].id
        assert segments(stream[k]) == segments(in_order.samples[k])
    with pytest.raises(IndexError):
        stream[len(stream)]


def test_the_index_is_cached_until_a_file_changes(tmp_path):
    path = write_text_jsonl(tmp_path / "d", shards=2, per_shard=5)
    config = SourceConfig(name="t", format="text_jsonl", path=path)
    first = source_index(config)
    again = source_index(config)
    assert (first.addresses == again.addresses).all() and len(again) == 10
    assert [e for e in read_log(tmp_path / "reads.log") if e[0] == "index"] == [("index", "t", 10)]
    write_text_jsonl(tmp_path / "d", shards=3, per_shard=5)  # a new shard: another index
    assert len(source_index(config)) == 15
    assert [e for e in read_log(tmp_path / "reads.log") if e[0] == "index"] == [
        ("index", "t", 10),
        ("index", "t", 15),
    ]


def test_a_changed_record_is_an_unreadable_sample_not_a_wrong_one(tmp_path):
    path = write_text_jsonl(tmp_path / "d", shards=1, per_shard=3)
    stream = StreamSource(source_index(SourceConfig(name="t", format="text_jsonl", path=path)))
    with open(
        tmp_path / "d" / "text-0000.jsonl", "r+b"
    ) as f:  # same size, same place: the cache cannot see it, the parse can
        f.write(b"X")
    with pytest.raises(ValueError, match="changed since it was indexed"):
        stream[0]
