"""A short run on 8 samples: the loss falls below half its start; the run writes what it promises and
the trained model loads with the Auto classes and answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyvlm.train.config import parse_train_config
from polyvlm.train.loop import train

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
name: learn
model: {{tiny: {{seed: 1}}}}
output_dir: {out}
checkpoint_every: 1000
stages:
  - name: overfit
    train:
      connector: {{lr: 3.0e-3}}
      lm: {{lr: 1.0e-2, warmup_ratio: 0.1}}
    global_batch_size: 8
    micro_batch_size: 4
    steps: 40
    seed: 3
    data:
      max_tiles: 1
      sources:
        - {{name: pairs, format: pairs_webdataset, path: "{root}/examples/data/train/pairs-*.tar", limit: 2}}
        - {{name: text, format: text_jsonl, path: {root}/examples/data/train/text.jsonl}}
"""


@pytest.mark.slow
def test_loss_on_8_samples_falls_below_half_and_the_model_loads(tmp_path):
    text = CONFIG.format(out=tmp_path / "run", root=ROOT)
    final = train(parse_train_config(text, "learn.yaml"), text, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 40
    assert rows[-1]["loss"] < 0.5 * rows[0]["loss"], (rows[0]["loss"], rows[-1]["loss"])
    assert set(rows[0]["lr"]) == {"connector", "lm"} and rows[0]["tokens_per_s"] > 0
    assert (tmp_path / "run" / "loss.svg").read_text().startswith("<svg")

    from transformers import AutoModelForImageTextToText, AutoProcessor

    import polyvlm.model.auto  # noqa: F401 -- Auto registration
    from polyvlm.model.chat import answer, load_image

    model = AutoModelForImageTextToText.from_pretrained(final)
    processor = AutoProcessor.from_pretrained(final)
    photo = load_image(ROOT / "examples/data/photos/easyocr__japanese.jpg")
    reply = answer(model, processor, "何が見えますか？", [photo], max_new_tokens=4, max_tiles=1)
    assert isinstance(reply, str)
