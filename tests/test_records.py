"""Records survive JSONL and Parquet round-trips exactly."""

import json

import pyarrow.parquet as pq

from polyvlm.core.records import (
    Document,
    ImageRef,
    Message,
    Pair,
    Provenance,
    Sample,
    record_from_json,
    record_to_json,
    records_to_table,
    table_to_records,
)  # fmt: skip


def _doc(i: int) -> Document:
    return Document(
        id=f"d{i}",
        url="https://例え.jp/ページ?q=1",
        language="ja",
        texts=["日本語の段落。", 'second "quoted" segment\n with newline', ""],
        images=[
            ImageRef(
                url="https://x/a.jpg",
                alt="犬の写真",
                dom_index=7,
                segment_index=1,
                width=640,
                height=480,
                data=bytes(range(256)),
                sha256="ab" * 32,
                format="jpeg",
                phash="8f3a0c0c0c0c0c0c",
                scores={"nsfw": 0.1 + i, "clip": -0.333333333333333314829616256247390992939472198486328125},
            ),
            ImageRef(url="https://x/b.png"),
        ],
        metadata={"title": "題名", "nested": {"a": [1, 2.5, None, True]}, "big": 2**60},
        provenance=Provenance(source="a.warc.gz", license="CC-BY-4.0", offset=123, record_id="urn:x"),
        raw=b"\x00\xffraw",
        raw_content_type="text/html",
    )


def _sample() -> Sample:
    return Sample(
        id="s1",
        images=[ImageRef(path="img/1.jpg", width=3, height=4)],
        messages=[Message("user", "<image>\nこれは何？"), Message("assistant", "猫です。")],
        task="vqa",
        language="ja",
        metadata={"seed": 3},
        provenance=Provenance(source="coco", license="CC-BY-4.0", generator="Qwen/Qwen3-8B"),
    )


def _pair() -> Pair:
    return Pair(
        id="p1",
        text="桜の咲く公園",
        image=ImageRef(url="https://x/a.jpg", data=b"\xff\xd8jpeg", format="jpeg", phash="0123456789abcdef",
                       scores={"nsfw": 0.01, "clip": 0.3125}),
        url="https://x/page.html",
        language="ja",
        metadata={"alt_count": 2},
        provenance=Provenance(source="crawl.warc.gz", offset=9),
    )  # fmt: skip


def test_jsonl_roundtrip_is_lossless():
    for rec in [_doc(0), _doc(1), _sample(), _pair()]:
        line = record_to_json(rec)
        assert "\n" not in line
        back = record_from_json(line)
        assert back == rec
        assert json.loads(record_to_json(back)) == json.loads(line)


def test_parquet_roundtrip_is_lossless(tmp_path):
    docs = [_doc(0), _doc(1)]
    pq.write_table(records_to_table(docs), tmp_path / "d.parquet")
    assert table_to_records(pq.read_table(tmp_path / "d.parquet")) == docs
    samples = [_sample()]
    pq.write_table(records_to_table(samples), tmp_path / "s.parquet")
    assert table_to_records(pq.read_table(tmp_path / "s.parquet")) == samples
    pairs = [_pair(), Pair(id="p2")]
    pq.write_table(records_to_table(pairs), tmp_path / "p.parquet")
    assert table_to_records(pq.read_table(tmp_path / "p.parquet")) == pairs


def test_table_refuses_mixed_kinds():
    import pytest

    with pytest.raises(ValueError, match="one record kind"):
        records_to_table([_doc(0), _sample()])
