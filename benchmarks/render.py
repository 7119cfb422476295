"""Documents benchmark: rendered pages/s, synthetic OCR images/s, OCR read-back pages/s, PDF pages/s at 144 DPI.

All on one core (the process and the browser it starts are pinned to one CPU; the OCR runs one thread):
1. render_pages: the text of the real Japanese pages in examples/data/ja-pages rendered by headless
   Chromium (800 x 1000, the four layouts drawn per document), screenshot and ground truth included;
2. synth_ocr: the same documents drawn synthdog-style (768 x 768, augmentations, PNG/JPEG encoding);
   render_charts (matplotlib 800 x 600, every kind in turn: data, draw, mark boxes, PNG, QA) and
   render_tables (Chromium 800 x 600: merged headers, cell boxes, screenshot, QA) from seeded topics;
3. ocr_gate on both: every ground-truth line cropped and read by PP-OCRv5, pages/s and lines/s;
4. read_pdf at 144 DPI over the bundled PDFs (tests/data/pdf) and, when present, shared/data/pdf: pages/s
   with text layer and PNG encoding, and pdfium's rasterisation alone.
The goal: the OCR gate, not rendering, is the slowest stage. Figures only, no asserts (the machine is
shared); record them in docs/BENCHMARKS.md.

Run: .venv/bin/python benchmarks/render.py [--docs 16] [--repeat 2] [--charts 48]
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def documents(limit: int) -> list:
    """Documents with the extracted text of the bundled Japanese pages."""
    from polyvlm.core.records import Document
    from polyvlm.io.html_extract import ExtractHtml
    from polyvlm.io.html_files import ReadHtml

    reader, extract = ReadHtml(), ExtractHtml()
    docs = []
    for path in sorted(glob.glob(str(ROOT / "examples/data/ja-pages/*.html"))):
        for record in reader.read(path):
            made = extract.apply(record) if isinstance(record, Document) else None
            if isinstance(made, Document) and len(made.text) > 100:
                docs.append(made)
    return docs[:limit]


def timed(label: str, fn, items: list) -> tuple[list, float]:
    """Apply fn to every item; print and return the results and the items per second."""
    start = time.perf_counter()
    out = [fn(x) for x in items]
    seconds = time.perf_counter() - start
    rate = len(items) / seconds
    print(f"{label:<44} {len(items):>5} in {seconds:7.2f} s = {rate:7.2f} /s")
    return out, rate


def charts_and_tables(n: int) -> tuple[float, float]:
    """Charts and tables per second from seeded topics (one chart or table per seed record)."""
    from polyvlm.core.records import Document
    from polyvlm.render.chart_step import RenderCharts
    from polyvlm.render.table_step import RenderTables

    charts, tables = RenderCharts(charts_per_record=1), RenderTables(tables_per_record=1)
    charts.ensure_setup()
    tables.ensure_setup()
    charts.expand(Document(id="warm"))  # matplotlib's font cache and first figure are not a chart's cost
    tables.expand(Document(id="warm"))
    seeds = [Document(id=f"bench-{i}") for i in range(n)]
    _, chart_rate = timed("render_charts (matplotlib, 800x600)", charts.expand, seeds)
    _, table_rate = timed("render_tables (Chromium, 800x600)", tables.expand, seeds)
    return chart_rate, table_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=16)
    parser.add_argument(
        "--repeat", type=int, default=2, help="documents are rendered this many times (seeds differ)"
    )
    parser.add_argument("--charts", type=int, default=48, help="charts and tables drawn (each)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, inherited by Chromium
    os.environ["OMP_NUM_THREADS"] = "1"

    from polyvlm.core.records import Sample
    from polyvlm.io.pdf_pages import ReadPdf
    from polyvlm.render.ocr_gate import OcrGate
    from polyvlm.render.render_step import RenderPages
    from polyvlm.render.synth_ocr import SynthOcr

    print(f"python {platform.python_version()}, {platform.machine()}, pinned to 1 of {os.cpu_count()} CPUs")
    docs = documents(args.docs)
    work = [d for _ in range(args.repeat) for d in docs]
    render = [RenderPages(seed=k) for k in range(args.repeat)]
    synth = [SynthOcr(seed=k) for k in range(args.repeat)]
    for step in render + synth:
        step.ensure_setup()
    render[0].expand(docs[0])  # the browser's first page (process start, fonts) is not a page's cost
    gate = OcrGate()
    gate.ensure_setup()

    items = list(enumerate(work))
    pages, render_rate = timed(
        "render_pages (Chromium, 800x1000)", lambda kd: render[kd[0] // len(docs)].expand(kd[1])[0], items
    )
    images, synth_rate = timed(
        "synth_ocr (Pillow, 768x768)", lambda kd: synth[kd[0] // len(docs)].expand(kd[1])[0], items
    )
    pages = [p for p in pages if isinstance(p, Sample)]
    images = [p for p in images if isinstance(p, Sample)]
    chart_rate, table_rate = charts_and_tables(args.charts)
    lines0 = gate._ocr.lines_read
    _, gate_pages_rate = timed("ocr_gate on rendered pages", gate.apply, pages)
    page_lines = gate._ocr.lines_read - lines0
    lines1 = gate._ocr.lines_read
    _, gate_synth_rate = timed("ocr_gate on synthetic images", gate.apply, images)
    synth_lines = gate._ocr.lines_read - lines1
    kept = sum(1 for p in pages + images if p.metadata.get("ocr", {}).get("cer", 1) <= gate.params.max_cer)
    print(f"  lines read: {page_lines / len(pages):.1f} per page, {synth_lines / len(images):.1f} per synthetic image; "
          f"kept {kept} of {len(pages) + len(images)}")  # fmt: skip

    pdfs = sorted(
        glob.glob(str(ROOT / "tests/data/pdf/*.pdf"))
        + glob.glob(str(ROOT.parent / "shared/data/pdf/*/*.pdf"))
    )
    pdfs = [p for p in pdfs if "yomitoku" not in p]  # non-commercial: not read here
    reader = ReadPdf(dpi=144)
    start = time.perf_counter()
    n_pages = sum(1 for path in pdfs for x in reader.read(path) if isinstance(x, Sample))
    seconds = time.perf_counter() - start
    pdf_rate = n_pages / seconds
    print(
        f"{'read_pdf at 144 DPI (image + text layer + PNG)':<44} {n_pages:>5} in {seconds:7.2f} s = {pdf_rate:7.2f} /s"
    )
    import pypdfium2 as pdfium

    start = time.perf_counter()
    raster = 0
    for path in pdfs:
        pdf = pdfium.PdfDocument(path)
        for page in pdf:
            page.render(scale=2).to_pil()
            raster += 1
        pdf.close()
    seconds = time.perf_counter() - start
    print(
        f"{'pdfium rasterisation alone at 144 DPI':<44} {raster:>5} in {seconds:7.2f} s = {raster / seconds:7.2f} /s"
    )
    slowest = min(
        [("render_pages", render_rate), ("synth_ocr", synth_rate), ("ocr_gate (rendered)", gate_pages_rate),
         ("render_charts", chart_rate), ("render_tables", table_rate),
         ("ocr_gate (synthetic)", gate_synth_rate), ("read_pdf", pdf_rate)], key=lambda kv: kv[1])  # fmt: skip
    print(
        f"slowest stage: {slowest[0]} ({slowest[1]:.2f} /s); "
        f"OCR gate / rendering = {gate_pages_rate / render_rate:.2f}x the rate on the same pages"
    )


if __name__ == "__main__":
    main()
