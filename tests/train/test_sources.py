"""Sources: each format read into samples, bad records dropped with a counted reason."""

from __future__ import annotations

import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from train_fixtures import noise_png

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import SourceConfig
from polyvlm.train.data.sources import load_source
from polyvlm.train.data.tokenize import tokenize_sample


def src(tmp_path, fmt, name, **kw):
    return load_source(SourceConfig(name="s", format=fmt, path=str(tmp_path / name), **kw))


def add(tar, name, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def test_pair_shards_as_write_webdataset_lays_them_out(tmp_path, processor):
    with tarfile.open(tmp_path / "part-0.tar", "w") as tar:
        add(tar, "k1.jpg", noise_png())
        add(tar, "k1.json", json.dumps({"text": "港の看板"}).encode())
        add(tar, "k1.txt", "港の看板".encode())
        add(tar, "k2.json", b"{}")
        add(tar, "k2.txt", "画像なし".encode())
    loaded = src(tmp_path, "pairs_webdataset", "*.tar")
    assert [s.id for s in loaded.samples] == ["s:k1"] and loaded.dropped == {"pair without an image": 1}
    tok = tokenize_sample(loaded.samples[0], processor, 4096)
    assert processor.tokenizer.decode([t for t in tok.targets if t >= 0]) == "港の看板<|endoftext|>"


def test_llava_json_with_and_without_image_marks(tmp_path):
    (tmp_path / "img.png").write_bytes(noise_png())
    records = [
        {"id": "a", "image": "img.png", "conversations": [{"from": "human", "value": "<image>\n何？"}, {"from": "gpt", "value": "猫"}]},
        {"id": "b", "image": "img.png", "conversations": [{"from": "human", "value": "何？"}, {"from": "gpt", "value": "犬"}]},
        {"id": "c", "conversations": [{"from": "robot", "value": "x"}]},
        {"id": "d", "image": ["img.png", "img.png"], "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]},
    ]  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps(records, ensure_ascii=False))
    loaded = src(tmp_path, "llava_json", "c.json")
    assert [s.id for s in loaded.samples] == ["s:a", "s:b"]
    assert loaded.dropped == {"unknown role": 1, "image count differs from <image> marks": 1}
    assert loaded.samples[1].segments[1].text.startswith("<image>") and loaded.samples[1].num_images == 1
    assert loaded.samples[0].segments[1].images == [str(tmp_path / "img.png")]


def test_messages_jsonl_mmc4_and_text(tmp_path):
    (tmp_path / "img.png").write_bytes(noise_png())
    msg = {"id": "m", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "img.png"}}, {"type": "text", "text": "何？"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "看板"}]}]}  # fmt: skip
    (tmp_path / "m.jsonl").write_text(json.dumps(msg) + "\nnot json\n")
    loaded = src(tmp_path, "messages_jsonl", "m.jsonl")
    assert loaded.samples[0].segments[1].text == "<image>何？" and loaded.dropped == {
        "line is not valid JSON": 1
    }

    doc = {
        "url": "u",
        "text_list": ["一文目。", "二文目。"],
        "image_info": [{"image_name": "img.png", "matched_text_index": 1}],
    }
    (tmp_path / "d.jsonl").write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    seg = src(tmp_path, "mmc4_jsonl", "d.jsonl").samples[0].segments
    assert [(s.text, s.supervised, len(s.images)) for s in seg] == [
        ("一文目。", True, 0), ("<image>", False, 1), ("二文目。", True, 0), ("<|endoftext|>", True, 0)]  # fmt: skip
    # Japanese sentences run on; French ones (and Japanese next to Latin text) keep a space where due
    doc = {"url": "f", "text_list": ["Il pleut.", "Je reste.", "雨です。", "OK"], "image_info": []}
    (tmp_path / "f.jsonl").write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    seg = src(tmp_path, "mmc4_jsonl", "f.jsonl").samples[0].segments
    assert "".join(s.text for s in seg) == "Il pleut. Je reste.雨です。OK<|endoftext|>"

    (tmp_path / "t.jsonl").write_text('{"text": "本文"}\n{"text": ""}\n')
    loaded = src(tmp_path, "text_jsonl", "t.jsonl")
    assert len(loaded.samples) == 1 and loaded.dropped == {"row without text": 1}
    pq.write_table(pa.table({"text": ["一", "二"]}), tmp_path / "t.parquet")
    assert len(src(tmp_path, "text_parquet", "t.parquet").samples) == 2


def test_missing_files_and_empty_sources_are_clear(tmp_path):
    with pytest.raises(RecipeError, match="matches no file"):
        src(tmp_path, "text_jsonl", "none*.jsonl")
    (tmp_path / "e.jsonl").write_text('{"text": ""}\n')
    with pytest.raises(RecipeError, match="no usable sample"):
        src(tmp_path, "text_jsonl", "e.jsonl")
