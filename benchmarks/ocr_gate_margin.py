"""The OCR gate's margins, measured on clean renders: page CER, share of lines read wrong, number mismatches.

Every bundled Japanese page (examples/data/ja-pages) is rendered by render_pages in each layout and read
back by ocr_gate with its limits off; the figures per layout set `max_cer_vertical` and
`max_wrong_lines` (docs/documents.md, OCR gate). Clean renders are what the gate must keep: a limit
sits above the worst clean page with a margin. Figures only, no asserts.

Run: .venv/bin/python benchmarks/ocr_gate_margin.py [--docs 16] [--seeds 2] [--layouts article,vertical]
"""

from __future__ import annotations

import argparse
import statistics

from render import documents  # benchmarks/render.py: the same documents


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--layouts", default="article,two_column,table,vertical")
    args = parser.parse_args()
    from polyvlm.core.records import Sample
    from polyvlm.core.step import Drop
    from polyvlm.render.ocr_gate import OcrGate
    from polyvlm.render.render_step import RenderPages

    docs = documents(args.docs)
    gate = OcrGate(
        max_cer=1.0,
        max_cer_vertical=1.0,
        max_wrong_lines=1.0,
        max_wrong_lines_vertical=1.0,
        check_numbers_vertical=True,
    )
    print(
        f"{'layout':<11} {'pages':>5} {'CER mean':>9} {'CER max':>8} {'wrong-line mean':>16} {'max':>6}  numbers dropped"
    )
    for layout in args.layouts.split(","):
        cers, wrongs, mismatches = [], [], []
        for seed in range(args.seeds):
            step = RenderPages(layouts=[layout], seed=seed)
            for doc in docs:
                made = step.expand(doc)
                sample = made[0] if made and isinstance(made[0], Sample) else None
                if sample is None:
                    continue
                verdict = gate.apply(sample)
                cers.append(sample.metadata["ocr"]["cer"])
                wrongs.append(sample.metadata["ocr"]["wrong_lines"])
                if isinstance(verdict, Drop):
                    mismatches.append(verdict.detail)
        print(
            f"{layout:<11} {len(cers):>5} {statistics.mean(cers):>9.3f} {max(cers):>8.3f} "
            f"{statistics.mean(wrongs):>16.3f} {max(wrongs):>6.3f}  {len(mismatches)} {mismatches[:4]}"
        )


if __name__ == "__main__":
    main()
