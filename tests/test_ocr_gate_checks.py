"""The OCR gate's checks of what answers depend on: numbers read exactly, lines read as written, TOC pages.

Real Chromium renders through render_pages and the real PP-OCRv5; the ground truth is corrupted after
rendering, as a wrong text layer or a bug in a renderer would leave it.
"""

from __future__ import annotations

import pytest

from polyvlm.core.records import Document, Provenance, Sample
from polyvlm.core.step import Drop
from polyvlm.render.line_segments import segments
from polyvlm.render.number_check import number_mismatch, numbers
from polyvlm.render.ocr_gate import OcrGate
from polyvlm.render.render_step import RenderPages

TEXTS = [
    "吾輩は猫である。名前はまだ無い。2018年の春、どこで生れたかとんと見当がつかぬ。",
    "何でも薄暗いじめじめした所で泣いていた事だけは記憶している。吾輩はここで始めて人間というものを見た。",
    "しかもあとで聞くとそれは書生という人間中で一番獰悪な種族であったそうだ。",
]
TOC = [
    f"{head}{'…' * 16}{page}"
    for head, page in zip(
        ["第1章　はじめに", "第2章　書生という人間", "第3章　煮て食うという話", "第4章　二〇一八年の記録"],
        ["1", "23", "47", "128"],
        strict=True,
    )
] + ["付録　参考文献" + "…" * 16 + "205", "索引" + "…" * 16 + "231"]


@pytest.fixture(scope="module")
def gate() -> OcrGate:
    step = OcrGate()
    step.check()
    return step


def _page(texts: list[str], layout: str, doc_id: str = "gate0", size: tuple[int, int] = (640, 560)) -> Sample:
    doc = Document(
        id=doc_id, texts=texts, metadata={"title": "目次"}, provenance=Provenance(source="t", license="PD")
    )
    [sample, *_] = RenderPages(layouts=[layout], width=size[0], height=size[1], min_lines=1).expand(doc)
    assert isinstance(sample, Sample)
    return sample


def _corrupted(sample: Sample, change) -> Sample:
    bad = Sample.from_dict(sample.to_dict())
    for line in bad.metadata["lines"]:
        line["text"] = change(line["text"])
    return bad


def test_segments_split_at_leaders_and_wide_gaps():
    assert segments("第1章　はじめに……………1") == ["第1章　はじめに", "1"]
    assert segments("付録 参考文献 . . . . 205") == ["付録 参考文献", "205"]
    assert segments("索引\u3000\u3000\u3000231") == ["索引", "231"]
    assert segments("吾輩は猫である。名前はまだ無い。") == ["吾輩は猫である。名前はまだ無い。"]


def test_numbers_must_be_read_exactly():
    assert numbers("２０１８年に1,234.5円") == ["2018", "1234.5"]
    assert number_mismatch("2018年の春", "2018年の春") is None
    assert number_mismatch("20 18年の春", "2018年の春") is None  # a space the reader put in a number
    assert number_mismatch("2018年の春", "3129年の春") == "3129 read as 2018"
    assert number_mismatch("年の春", "3129年の春") == "3129 read as nothing"


def test_a_wrong_number_in_the_ground_truth_is_dropped_and_named(gate):
    clean = _page(TEXTS, "article")
    assert clean.metadata["category"] == "ocr_qa"  # Jagle's category, set by render_pages
    assert any("2018" in ln["text"] for ln in clean.metadata["lines"])
    assert gate.apply(clean) is clean, clean.metadata["ocr"]
    bad = _corrupted(clean, lambda t: t.replace("2018", "3129"))
    verdict = gate.apply(bad)
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_number_mismatch"
    assert verdict.detail == "3129 read as 2018"
    assert bad.metadata["ocr"]["cer"] <= gate.params.max_cer  # the page CER alone would have kept it


def test_one_wrong_character_on_every_line_is_dropped(gate):
    clean = _page(TEXTS, "article")
    assert gate.apply(clean) is clean

    def one_wrong(text: str) -> str:
        k = len(text) // 2
        swap = "犬" if text[k] != "犬" else "猫"
        return text[:k] + swap + text[k + 1 :]

    bad = _corrupted(clean, one_wrong)
    verdict = gate.apply(bad)
    assert bad.metadata["ocr"]["cer"] <= gate.params.max_cer  # small on the page
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_lines_wrong", verdict


@pytest.mark.parametrize("layout", ["article", "vertical"])
def test_a_clean_table_of_contents_page_is_kept(gate, layout):
    toc = _page(TOC, layout, doc_id="toc", size=(800, 800))
    assert any("……" in ln["text"] and "128" in ln["text"] for ln in toc.metadata["lines"])  # one line each
    verdict = gate.apply(toc)
    assert verdict is toc, (verdict, toc.metadata["ocr"])
    if layout == "vertical":
        # read whole, the leader columns lose their texts (page CER 0.175 when measured): read per segment
        assert toc.metadata["ocr"]["segmented_lines"] >= 1
        return  # sideways digits in columns are not checked by default (check_numbers_vertical)
    # and a TOC whose page numbers are wrong is not
    bad = _corrupted(toc, lambda t: t.replace("128", "731").replace("231", "817"))
    verdict = gate.apply(bad)
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_number_mismatch", verdict
    assert verdict.detail.startswith("731 read as")
