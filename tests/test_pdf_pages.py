"""read_pdf on real PDFs (tests/data/pdf): page images, text layers with pixel boxes, counted bad files and pages."""

from __future__ import annotations

import io
import json
import os
import shutil

import pikepdf
import pytest
from PIL import Image

from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Sample
from polyvlm.core.step import ReadIssue
from polyvlm.engine.run import run_recipe
from polyvlm.io.pdf_pages import ReadPdf
from polyvlm.io.pdf_text_layer import garbled_fraction

PDF = "tests/data/pdf"
KAMPO = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "pdf", "ja", "pdfminer__kampo.pdf"
)


def read(path: str, **params) -> list[Sample | ReadIssue]:
    return list(ReadPdf(**params).read(path))


def test_a_horizontal_japanese_page_has_its_image_and_text_layer(root):
    [page] = read(str(root / PDF / "pdfjs__issue16063.pdf"), dpi=144, license="Apache-2.0")
    assert isinstance(page, Sample) and page.task == "pdf_page"
    image = Image.open(io.BytesIO(page.images[0].data))
    assert image.size == (1224, 1584)  # US letter, 612 x 792 pt, at 2 px per point
    meta = page.metadata
    assert meta["writing_mode"] == "horizontal" and meta["page"] == 1 and meta["pages"] == 1
    assert meta["text"].startswith(
        "電線接続端子部が次のいずれにも該当しないとき。\nａ ねじ止め端子であること。"
    )
    assert page.provenance.license == "Apache-2.0"
    assert page.provenance.record_id == "pdfjs__issue16063.pdf#page=1"
    # every line box lies inside the image, and the lines go down the page
    tops = [line["box"][1] for line in meta["lines"]]
    assert tops == sorted(tops)
    for line in meta["lines"]:
        x0, y0, x1, y1 = line["box"]
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height


def test_a_line_box_holds_the_ink_of_its_line(root):
    [page] = read(str(root / PDF / "pdfminer__simple1.pdf"), dpi=144)
    image = Image.open(io.BytesIO(page.images[0].data)).convert("L")
    first = page.metadata["lines"][0]
    assert first["text"] == "Hello World"
    x0, y0, x1, y1 = first["box"]
    inside = image.crop((x0, y0, x1 + 1, y1 + 1))
    assert inside.getextrema()[0] < 100  # dark glyphs inside the box
    # negative control: the same box moved 40 px up lies over white paper
    above = image.crop((x0, y0 - 40, x1 + 1, y0 - 40 + (y1 - y0)))
    assert above.getextrema()[0] > 200


def test_vertical_writing_reads_top_to_bottom_right_to_left(root):
    [page] = read(str(root / PDF / "pdfminer__jo.pdf"))
    meta = page.metadata
    assert meta["writing_mode"] == "vertical"
    lines = [line["text"] for line in meta["lines"]]
    # 序 stands rightmost, then the poem's first columns in order (pdfium streams them left to right)
    assert lines[:4] == ["序", "わたくしといふ現象は", "假定された有機交流電燈の", "ひとつの青い照明です"]
    boxes = [line["box"] for line in meta["lines"][1:4]]
    assert boxes[0][0] > boxes[1][0] > boxes[2][0]  # columns move leftwards
    for x0, y0, x1, y1 in boxes:
        assert y1 - y0 > 3 * (x1 - x0)  # a column is tall and narrow
    assert meta["non_embedded_fonts"] > 0  # a LaTeX/dvipdfm file that names its Japanese fonts only


@pytest.mark.skipif(not os.path.isfile(KAMPO), reason="shared/data is not beside this checkout")
def test_the_gazette_page_in_tiers_of_columns():
    [page] = read(KAMPO, dpi=72)
    assert page.metadata["writing_mode"] == "vertical"
    assert "政令第百四十九号\n道路交通法施行令の一部を改正する政令" in page.metadata["text"]


def test_a_non_embedded_font_page_is_kept_and_flagged(root):
    [page] = read(str(root / PDF / "pdfjs__noembed-sjis.pdf"), dpi=72)
    assert page.metadata["text"] == "あいうえお"
    assert page.metadata["non_embedded_fonts"] == 1
    image = Image.open(io.BytesIO(page.images[0].data)).convert("L")
    x0, y0, x1, y1 = page.metadata["lines"][0]["box"]
    assert image.crop((x0, y0, x1 + 1, y1 + 1)).getextrema()[0] < 100  # a substitute font drew the kana


def test_multi_column_pages_keep_every_page(root):
    pages = read(str(root / PDF / "pypdf-samples__multicolumn.pdf"), dpi=72)
    assert [p.metadata["page"] for p in pages] == [1, 2, 3]
    assert pages[0].metadata["text"].startswith("Two-Column Document with Lorem Ipsum")


def _encrypted(src: str, dst: str, user: str) -> None:
    with pikepdf.open(src) as pdf:
        pdf.save(dst, encryption=pikepdf.Encryption(user=user, owner="owner-secret"))


def test_bad_files_and_pages_are_counted_with_reasons(root, tmp_path):
    src = root / PDF / "pdfjs__issue16063.pdf"
    _encrypted(str(src), str(tmp_path / "locked.pdf"), user="secret")
    _encrypted(str(src), str(tmp_path / "owner_only.pdf"), user="")  # opens without a password
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    Image.new("RGB", (300, 200), "white").save(tmp_path / "scan.pdf")  # an image-only page
    shutil.copy(root / PDF / "pypdf-samples__multicolumn.pdf", tmp_path / "three.pdf")

    [locked] = read(str(tmp_path / "locked.pdf"))
    assert isinstance(locked, ReadIssue) and (locked.kind, locked.reason) == ("error", "pdf_encrypted")
    [opened] = read(str(tmp_path / "owner_only.pdf"))
    assert isinstance(opened, Sample) and opened.metadata["text"].startswith("電線接続端子部")
    [broken] = read(str(tmp_path / "broken.pdf"))
    assert (broken.kind, broken.reason) == ("error", "pdf_broken")
    [scan] = read(str(tmp_path / "scan.pdf"))
    assert (scan.kind, scan.reason) == ("rejected", "no_text_layer")
    [scan_kept] = read(str(tmp_path / "scan.pdf"), require_text=False)
    assert isinstance(scan_kept, Sample) and scan_kept.metadata["text"] == ""
    budget = read(str(tmp_path / "three.pdf"), max_pages=2)
    assert [type(x).__name__ for x in budget] == ["Sample", "Sample", "ReadIssue"]
    assert budget[2].reason == "page_over_page_budget"
    [huge] = read(str(src), dpi=1200, max_pixels=10_000_000)  # 10200 x 13200 px: a bomb's size
    assert (huge.kind, huge.reason) == ("rejected", "page_over_pixel_budget")
    [big_file] = read(str(src), max_file_bytes=1000)
    assert big_file.reason == "pdf_too_large"


def test_garbled_text_is_measured():
    assert garbled_fraction("あいうえお") == 0
    assert garbled_fraction("\ue000\ue001あい") == pytest.approx(0.5)
    assert garbled_fraction("\x07\x01ab") == pytest.approx(0.5)


def test_a_recipe_reads_a_folder_of_pdfs_and_the_stats_add_up(root, tmp_path, write_recipe):
    data = tmp_path / "in"
    data.mkdir()
    for name in ("pdfminer__jo.pdf", "pdfminer__simple1.pdf"):
        shutil.copy(root / PDF / name, data / name)
    _encrypted(str(root / PDF / "pdfminer__simple1.pdf"), str(data / "locked.pdf"), user="pw")
    Image.new("RGB", (300, 200), "white").save(data / "scan.pdf")
    recipe = load_recipe(
        write_recipe(f"""
        inputs:
          - {{path: {data}/*.pdf, reader: read_pdf, params: {{dpi: 72, license: MIT}}}}
        steps: []
        outputs: [write_jsonl]
        """)
    )
    out = str(tmp_path / "out")
    stats = run_recipe(recipe, out, workers=1, progress=False)
    assert stats["balanced"], stats["totals"]
    read_stats = stats["read"]
    assert read_stats["records"] == 3  # the scan's page was read, and refused
    assert read_stats["errors"] == {"pdf_encrypted": 1}
    assert read_stats["rejected"] == {"no_text_layer": 1} and read_stats["skipped"] == {}
    assert stats["totals"]["rejected"] == 1
    (reject,) = [json.loads(x) for f in sorted(os.listdir(os.path.join(out, "rejects")))
                 for x in open(os.path.join(out, "rejects", f), encoding="utf-8")]  # fmt: skip
    assert (reject["step"], reject["reason"]) == ("read_pdf", "no_text_layer")
    assert reject["detail"].endswith("scan.pdf: page 1: image-only page")  # the file and the page
    kept = [json.loads(x) for f in sorted(os.listdir(os.path.join(out, "jsonl")))
            for x in open(os.path.join(out, "jsonl", f), encoding="utf-8")]  # fmt: skip
    assert sorted(k["provenance"]["record_id"] for k in kept) == [
        "pdfminer__jo.pdf#page=1",
        "pdfminer__simple1.pdf#page=1",
    ]
    assert all(k["provenance"]["license"] == "MIT" for k in kept)


def test_hyphenated_words_stay_on_their_lines(root):
    [page, *_] = read(str(root / PDF / "pypdf-samples__multicolumn.pdf"), dpi=144)
    texts = [line["text"] for line in page.metadata["lines"]]
    assert (
        "Lorem ipsum dolor sit amet, consectetuer adip-" in texts
    )  # pdfium had joined it with the next line
    assert any(t.startswith("iscing elit.") for t in texts)
    assert "\x02" not in page.metadata["text"]


def test_the_ocr_gate_reads_pdf_pages_back_against_their_text_layer(root):
    from polyvlm.core.step import Drop
    from polyvlm.render.ocr_gate import OcrGate

    [page] = read(str(root / PDF / "pdfminer__jo.pdf"), dpi=144)
    assert OcrGate().apply(page) is page and "ocr" not in page.metadata  # off by default for PDFs
    page.task = "page_qa"  # still the PDF's text layer after a generator made it a conversation
    assert OcrGate().apply(page) is page and "ocr" not in page.metadata
    page.task = "pdf_page"
    gate = OcrGate(pdf_pages=True)
    assert gate.apply(page) is page and page.metadata["ocr"]["cer"] < 0.1  # vertical columns read as written
    # a text layer that does not match the image: the columns' texts in the wrong order
    wrong = Sample.from_dict(page.to_dict())
    texts = [line["text"] for line in wrong.metadata["lines"]]
    for line, text in zip(wrong.metadata["lines"], texts[::-1], strict=True):
        line["text"] = text
    verdict = gate.apply(wrong)
    assert isinstance(verdict, Drop) and verdict.reason == "ocr_cer_too_high"


def test_a_rotated_page_keeps_its_boxes_on_the_ink(root, tmp_path):
    with pikepdf.open(root / PDF / "pdfminer__simple1.pdf") as pdf:
        pdf.pages[0].Rotate = 90
        pdf.save(tmp_path / "rotated.pdf")
    [page] = read(str(tmp_path / "rotated.pdf"), dpi=72)
    image = Image.open(io.BytesIO(page.images[0].data)).convert("L")
    assert image.size == (792, 612)  # landscape now
    x0, y0, x1, y1 = page.metadata["lines"][0]["box"]
    assert y1 - y0 > x1 - x0  # a horizontal line turned a quarter: tall and narrow
    assert image.crop((x0, y0, x1 + 1, y1 + 1)).getextrema()[0] < 100  # on the ink
    assert image.crop((x0 - 60, y0, x1 - 60 + 1, y1 + 1)).getextrema()[0] > 200  # beside it, paper


def _three_pages(path, texts: list[str], to_unicode: bytes | None = None) -> None:
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    if to_unicode is not None:
        font.ToUnicode = pdf.make_stream(to_unicode)
    for i, text in enumerate(texts):
        pdf.add_blank_page(page_size=(612, 792))
        lines = " ".join(f"({ln}) Tj 0 -16 Td" for ln in text.split("\n"))
        pdf.pages[i].Contents = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td {lines} ET".encode())
        pdf.pages[i].Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)


def test_a_broken_page_is_its_own_drop_and_the_next_page_is_read(tmp_path):
    path = tmp_path / "three.pdf"
    _three_pages(path, ["Page one text", "Page two text", "Page three text"])
    data = path.read_bytes()
    start = data.index(b"4 0 obj\n") + len(b"4 0 obj\n")  # page 2's object, replaced by null (same length)
    end = data.index(b"endobj", start)
    path.write_bytes(data[:start] + b"null".ljust(end - start) + data[end:])
    first, broken, third = read(str(path))
    assert first.metadata["text"] == "Page one text"
    assert (broken.kind, broken.reason) == ("error", "pdf_page_broken")
    assert broken.detail.startswith(f"{path}: page 2") and broken.offset == 1
    assert isinstance(third, Sample) and third.metadata["text"] == "Page three text"


PROSE = "\n".join(
    [
        "Cash and cash equivalents comprise cash on hand and demand deposits",
        "with banks and other short term highly liquid investments that are",
        "readily convertible to known amounts of cash and which are subject",
        "to an insignificant risk of changes in value at the reporting date.",
    ]
)
# every code from 0x21 maps 29 code points lower: "P" reads "3", "e" reads "H" (a subset font's glyph ids)
SHIFTED = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Shifted def 1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <21> <FF> <0004> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"""


def test_a_shifted_tounicode_layer_is_garbled_and_the_same_prose_is_not(tmp_path):
    _three_pages(tmp_path / "shifted.pdf", [PROSE], to_unicode=SHIFTED)
    _three_pages(tmp_path / "plain.pdf", [PROSE])
    [plain] = read(str(tmp_path / "plain.pdf"))
    assert isinstance(plain, Sample) and plain.metadata["text"].startswith("Cash and cash")
    [shifted] = read(str(tmp_path / "shifted.pdf"))
    assert (shifted.kind, shifted.reason) == ("rejected", "garbled_text_layer")
    assert "page 1" in shifted.detail and "misshapen" in shifted.detail
    # printable characters all: the private-use/control measure alone lets it through
    [kept] = read(str(tmp_path / "shifted.pdf"), max_misshapen_words=1.0)
    assert garbled_fraction(kept.metadata["text"]) < 0.2 and kept.metadata["text"].startswith("&DVK")
