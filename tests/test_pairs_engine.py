"""Pages → image-text pairs through the engine: expand-step accounting, aggregates over pairs, resume."""

import glob
import io
import json
import subprocess
import sys

import webdataset as wds
from PIL import Image

from engine_outputs import parquet_records, side_files
from pair_crawl import recipe_on_small_crawl
from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.engine.run import run_recipe
from polyvlm.image.domain_cap import DomainDownsample
from polyvlm.image.pairs import ImageTextPairs
from polyvlm.image.phash_dedup import PhashDedup
from polyvlm.text.frequency_cap import TextFrequencyCap
from warc_builder import response_record, write_warc


def _page(n: int, alts: list[str]) -> bytes:
    imgs = "".join(f'<img src="/img/{n}-{i}.jpg" alt="{a}">' for i, a in enumerate(alts))
    return (f"<html><head><title>ページ{n}</title></head><body><article><p>本文{n}です。" * 3
            + f"</p>{imgs}<img src='/x.jpg'></article></body></html>").encode()  # fmt: skip


def _crawl(tmp_path) -> str:
    pages = {
        0: ["桜の咲く公園", "写真 2015-01-20", "商品画像"],
        1: ["商品画像", "富士山の写真", "富士山の写真"],  # the same (src, alt) is not repeated: srcs differ
        2: [],
        3: ["商品画像", "夜の東京タワー"],
    }
    for part in (0, 1):
        recs = [
            response_record(f"https://ex.jp/{n}.html", _page(n, a)) for n, a in pages.items() if n % 2 == part
        ]
        write_warc(str(tmp_path / f"c{part}.warc.gz"), recs)
    return str(tmp_path)


def test_expand_step_accounting_adds_up(tmp_path, write_recipe):
    data = _crawl(tmp_path)
    recipe = load_recipe(
        write_recipe(f"""
        name: pairs
        inputs: [{data}/*.warc.gz]
        steps:
          - extract_html: {{main_content: false}}
          - image_text_pairs: {{}}
          - ja_filename_alt: {{}}
          - text_frequency_cap: {{max_count: 2}}
          - text_length: {{min_chars: 1}}
        outputs:
          - write_parquet: {{path: pairs}}
        """)
    )
    stats = run_recipe(recipe, output=str(tmp_path / "out"), progress=False, workers=2)
    t = stats["totals"]
    assert stats["balanced"]
    steps = {s["label"]: s for s in stats["steps"]}
    expand = steps["image_text_pairs"]
    assert expand["in"] == 4 and expand["dropped"] == {"no_alt_images": 1} and expand["out"] == 8
    assert t["created"] == 8 - 3  # three pages each keep their row for the first pair
    assert steps["ja_filename_alt"]["dropped"] == {"file_name": 1}
    assert steps["text_frequency_cap"]["dropped"] == {"frequent_text": 3}  # 商品画像 three times > 2
    assert t["records_in"] + t["created"] == t["kept"] + t["rejected"] + t["errors"]
    pairs = parquet_records(str(tmp_path / "out"), "pairs")
    assert sorted(p["text"] for p in pairs) == [
        "夜の東京タワー",
        "富士山の写真",
        "富士山の写真",
        "桜の咲く公園",
    ]
    assert all(p["image"]["url"].startswith("https://ex.jp/img/") and p["url"] for p in pairs)
    assert len({p["id"] for p in pairs}) == len(pairs)
    rejects = [r for rs in side_files(str(tmp_path / "out"), "rejects").values() for r in rs]
    assert len(rejects) == t["rejected"]
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["pairs"]["hist"]["alt_length"]


def test_image_text_pairs_expand():
    doc = Document(id="d", url="https://ex.jp/", images=[
        ImageRef(url="https://ex.jp/a.jpg", alt="犬", dom_index=3),
        ImageRef(url="https://ex.jp/a.jpg", alt="犬", dom_index=9),
        ImageRef(url="https://ex.jp/b.jpg", alt="", dom_index=11),
        ImageRef(url="https://ex.jp/c.jpg", alt="猫", dom_index=12),
    ])  # fmt: skip
    pairs = ImageTextPairs().expand(doc)
    assert [(p.id, p.text, p.image.url) for p in pairs] == [
        ("d-3", "犬", "https://ex.jp/a.jpg"), ("d-12", "猫", "https://ex.jp/c.jpg")
    ]  # fmt: skip
    assert ImageTextPairs().expand(Document(id="e")) == Drop("no_images")
    capped = ImageTextPairs(max_per_page=1).expand(doc)
    assert len(capped) == 1 and capped[0].metadata["pairs_not_made"] == 1


def _merged(agg, items, order):
    states = []
    for shard in order:
        st = agg.init_state()
        for pos, rec in items:
            if pos[0] == shard:
                agg.observe(st, rec, pos)
        states.append(st)
    merged = agg.init_state()
    for st in states:
        merged = agg.merge(merged, st)
    return merged


def _p(text, phash):
    return Pair(id=text, text=text, image=ImageRef(phash=phash))


def test_phash_dedup_keeps_the_first_of_same_text_and_image_whatever_the_merge_order():
    items = [
        ((0, 0, 0), _p("犬", "ffff000000000000")),
        ((0, 0, 1), _p("犬", "ffff000000000001")),  # one bit away
        ((1, 0, 0), _p("犬", "ffff000000000000")),  # exact duplicate, later shard
        ((1, 1, 0), _p("猫", "ffff000000000000")),  # same image, other text: kept
        ((2, 0, 0), _p("犬", "0000ffff00000000")),  # same text, other image: kept
    ]
    for max_distance, want in [(0, {(0, 0, 0), (0, 0, 1), (1, 1, 0), (2, 0, 0)}),
                               (1, {(0, 0, 0), (1, 1, 0), (2, 0, 0)})]:  # fmt: skip
        agg = PhashDedup(max_distance=max_distance)
        for order in ([0, 1, 2], [2, 1, 0]):
            merged = _merged(agg, items, order)
            kept = {pos for pos, r in items if not isinstance(agg.apply(merged, r, pos), Drop)}
            assert kept == want


def test_text_frequency_cap_counts_corpus_wide():
    agg = TextFrequencyCap(max_count=2)
    items = [((s, i, 0), _p(t, "0")) for s, texts in enumerate([["a", "b"], ["a", "ａ"], ["c"]])
             for i, t in enumerate(texts)]  # fmt: skip
    merged = _merged(agg, items, [2, 0, 1])
    dropped = {r.text for pos, r in items if isinstance(agg.apply(merged, r, pos), Drop)}
    assert dropped == {"a", "ａ"}  # NFKC: ａ == a, three in all


def test_ja_pairs_recipe_end_to_end(root, tmp_path):
    """The shipped recipe on a small demo crawl: WebDataset pairs, Parquet index, rejects, dataset card."""
    recipe = recipe_on_small_crawl(root, tmp_path, "recipes/ja-pairs.yaml")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "-o", str(out), "--quiet"],
                         cwd=root, capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["balanced"] and stats["totals"]["kept"] >= 10
    index = parquet_records(str(out), "index")
    assert len(index) == stats["totals"]["kept"]
    assert all(p["image"]["data"] is None and len(p["image"]["phash"]) == 16 for p in index)
    assert all(
        min(p["image"]["width"], p["image"]["height"]) >= 150 and "nsfw" in p["image"]["scores"]
        for p in index
    )
    samples = list(wds.WebDataset(sorted(glob.glob(str(out / "webdataset" / "*.tar"))), shardshuffle=False))
    assert len(samples) == len(index)
    for s in samples:
        meta = json.loads(s["json"])
        assert s["txt"].decode() == meta["text"] and meta["kind"] == "pair"
        Image.open(io.BytesIO(s["jpg"])).verify()  # every image is a real JPEG
    rejects = [r for rs in side_files(str(out), "rejects").values() for r in rs]
    reasons = {r["reason"] for r in rejects}
    assert {"url_extension:.gif", "too_short", "aspect_ratio"} <= reasons
    report = (out / "report.html").read_text()
    assert report.count('src="data:image/jpeg;base64,') >= 10  # thumbnails of kept (and dropped) pairs
    assert "Gallery: dropped, by rule" in report and "alt text length" in report
    assert "data:image" not in (out / "stats.json").read_text()  # thumbnails stay out of stats.json


def test_clip_recipe_stops_before_work_without_weights(root, tmp_path):
    recipe = recipe_on_small_crawl(root, tmp_path, "recipes/ja-pairs-clip.yaml")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "-o", str(out)],
                         cwd=root, capture_output=True, text=True)  # fmt: skip
    assert res.returncode != 0 and "clip_score" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_domain_downsample_keeps_n_per_host_whatever_the_merge_order():
    items = [((s, i, 0), Pair(id=f"{s}-{i}", text="t", image=ImageRef(url=f"https://{host}/{s}-{i}.jpg")))
             for s in range(3) for i, host in enumerate(["cdn.example"] * 10 + ["rare.example"] * 2)]  # fmt: skip
    kept_sets = []
    for seed in (0, 1):
        agg = DomainDownsample(max_per_domain=6, seed=seed)
        for order in ([0, 1, 2], [2, 0, 1]):
            merged = _merged(agg, items, order)
            kept = {r.id for pos, r in items if not isinstance(agg.apply(merged, r, pos), Drop)}
            hosts = [r.image.url.split("/")[2] for pos, r in items if r.id in kept]
            assert hosts.count("cdn.example") == 6 and hosts.count("rare.example") == 6  # rare: all kept
            kept_sets.append(kept)
    assert kept_sets[0] == kept_sets[1] and kept_sets[2] == kept_sets[3] and kept_sets[0] != kept_sets[2]


def test_eu_pairs_recipe_keeps_pairs_per_language(root, tmp_path):
    """fr/de/en pages: language id on the alt text, then each language's rules."""
    pages = ("eu-pages/trafilatura__dw.com.colonial.html", "eu-pages/trafilatura__en.wikipedia.org.tsne.html",
             "html/trafilatura__franceculture.fr.idees.html", "html/trafilatura__spiegel.de.albtraum.html")  # fmt: skip
    recipe = recipe_on_small_crawl(root, tmp_path, "recipes/eu-pairs.yaml", pages)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "-o", str(out), "--quiet"],
                         cwd=root, capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    index = parquet_records(str(out), "index")
    languages = {p["language"] for p in index}
    assert len(index) >= 10 and languages <= {"fr", "de", "it", "es", "en"} and {"de", "en"} <= languages
    assert all(len(p["text"].split()) >= 2 for p in index)
    rejects = [r for rs in side_files(str(out), "rejects").values() for r in rs]
    assert any(r["reason"] == "low_language_score" for r in rejects)
