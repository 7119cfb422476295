"""synth_ocr (synthdog-style images) and its ground truth: wrapping rules, boxes through the perspective, OCR read-back."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFont

from polyvlm.core.records import Document, Provenance, Sample
from polyvlm.core.step import Drop
from polyvlm.render import augment
from polyvlm.render.font_files import FontMissing, font_file
from polyvlm.render.ocr_gate import OcrGate
from polyvlm.render.synth_ocr import SynthOcr, excerpt
from polyvlm.render.text_wrap import wrap

NEKO = (
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー"
    "泣いていた事だけは記憶している。吾輩はここで始めて人間というものを見た。"
)


@pytest.fixture(scope="module")
def font():
    path, index = font_file("Noto Sans CJK JP")
    return ImageFont.truetype(path, 24, index=index)


def test_wrap_keeps_japanese_line_breaking_rules(font):
    lines = wrap(NEKO * 2, font, 300)
    assert "".join(lines) == NEKO * 2  # nothing lost or added
    for line in lines[1:]:
        assert line[0] not in "、。ー」ゃっ"  # no line starts with a closing mark or small kana
    for line in lines:
        assert font.getlength(line) <= 300 + 24  # at most one hanging character past the edge
    latin = wrap("PP-OCRv5 reads Japanese text lines well", font, 200)
    assert (
        all(not w.startswith(" ") for w in latin)
        and " ".join(latin) == "PP-OCRv5 reads Japanese text lines well"
    )


def test_an_absent_font_is_refused():
    with pytest.raises(FontMissing):
        font_file("No Such Font Family 123")


def test_excerpt_cuts_at_a_sentence_end():
    assert excerpt([NEKO], 40) == "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
    assert excerpt(["  短い  文 "], 40) == "短い 文"


def test_perspective_moves_the_boxes_with_the_ink(font):
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 100), "吾輩は猫", font=font, fill="black")
    box = list(draw.textbbox((60, 100), "吾輩は猫", font=font))
    warped, [moved] = augment.perspective(image, [box], random.Random(1), 0.08)
    dark = warped.convert("L").point(lambda v: 255 if v < 60 else 0)  # the uncovered border is grey 90
    x0, y0, x1, y1 = dark.getbbox()
    assert moved[0] - 2 <= x0 and moved[1] - 2 <= y0 and x1 <= moved[2] + 2 and y1 <= moved[3] + 2
    assert moved != box  # it did move


def _doc(i: int, text: str = NEKO) -> Document:
    return Document(id=f"d{i}", texts=[text], provenance=Provenance(source="neko.txt", license="PD"))


def test_synthetic_images_are_read_back_as_written_and_a_mismatch_is_dropped():
    step = SynthOcr(width=640, height=640)
    step.check()
    gate = OcrGate(max_cer=0.15)
    made = [step.expand(_doc(i))[0] for i in range(4)]
    for sample in made:
        assert isinstance(sample, Sample) and sample.task == "synth_ocr"
        assert "".join(ln["text"] for ln in sample.metadata["lines"]) == NEKO
        assert sample.messages[1].content == sample.metadata["text"]  # the transcription answer
        assert gate.apply(sample) is sample, sample.metadata
    styles = [s.metadata["style"] for s in made]
    assert any("perspective" in s for s in styles) and any("jpeg_quality" in s for s in styles)
    again = step.expand(_doc(0))[0]
    assert again.images[0].sha256 == made[0].images[0].sha256  # seeded by the document id
    # ground truth that does not match the image: lines' texts rotated by one
    wrong = Sample.from_dict(made[0].to_dict())
    texts = [ln["text"] for ln in wrong.metadata["lines"]]
    for ln, text in zip(wrong.metadata["lines"], texts[1:] + texts[:1], strict=True):
        ln["text"] = text
    verdict = gate.apply(wrong)
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_cer_too_high"


def test_text_beyond_the_sheet_is_not_in_the_ground_truth():
    step = SynthOcr(width=320, height=320, font_sizes=[30], max_chars=2000)
    [sample] = step.expand(_doc(9, NEKO * 10))
    lines = sample.metadata["lines"]
    drawn = "".join(ln["text"] for ln in lines)
    assert NEKO.startswith(drawn[:40]) and len(drawn) < len(NEKO * 10)
    image = Image.open(io.BytesIO(sample.images[0].data))
    for ln in lines:
        x0, y0, x1, y1 = ln["box"]
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
    assert step.expand(_doc(10, "   ")) == Drop("no_text")
