"""An HF dataset saved to disk in FineVision's schema (a list of images, a list of user/assistant turns),
streamed by row: images stay encoded until a worker decodes them, turns become ChatML."""

from __future__ import annotations

import pytest
from train_fixtures import noise_png

from polyvlm.train.config import SourceConfig
from polyvlm.train.data.sources import decode_image
from polyvlm.train.data.stream import StreamSource, source_index

datasets = pytest.importorskip("datasets")


def test_finevision_rows_stream_as_conversations(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))
    features = datasets.Features({
        "images": datasets.List(datasets.Image()),
        "texts": datasets.List({"user": datasets.Value("string"), "assistant": datasets.Value("string")}),
        "source": datasets.Value("string"),
    })  # fmt: skip
    rows = {
        "images": [[noise_png(seed=1)], [noise_png(seed=2), noise_png(seed=3)], []],
        "texts": [
            [{"user": "何？", "assistant": "猫"}, {"user": "色は？", "assistant": "白"}],
            [{"user": "違いは？", "assistant": " "}],  # an empty answer: dropped, counted
            [{"user": "1+1?", "assistant": "2"}],
        ],
        "source": ["a", "b", "c"],
    }
    rows["images"] = [[{"bytes": b, "path": None} for b in ims] for ims in rows["images"]]
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(tmp_path / "fv")
    index = source_index(SourceConfig(name="fv", format="hf", path=str(tmp_path / "fv")))
    assert (len(index), index.read, dict(index.dropped)) == (2, 3, {"empty assistant turn": 1})
    stream = StreamSource(index)
    first = stream[0]
    assert first.id == "fv:0" and first.num_images == 1
    assert isinstance(first.segments[1].images[0], bytes) and decode_image(
        first.segments[1].images[0]
    ).size == (64, 48)
    text = "".join(s.text for s in first.segments)
    assert text == ("<|im_start|>user\n<image>何？<|im_end|>\n<|im_start|>assistant\n猫<|im_end|>\n"
                    "<|im_start|>user\n色は？<|im_end|>\n<|im_start|>assistant\n白<|im_end|>\n")  # fmt: skip
    assert [s.text for s in first.segments if s.supervised] == ["猫", "<|im_end|>", "白", "<|im_end|>"]
    assert stream[1].id == "fv:2" and stream[1].num_images == 0
