"""A shipped pair recipe pointed at a small demo crawl built in a test's temporary directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PAGES = ("html/postlight__www.ipa.go.jp.html", "html/readability__hukumusume__source.html",
         "ja-pages/postlight__www.asahi.com.html")  # fmt: skip


def recipe_on_small_crawl(root: Path, tmp: Path, recipe: str, pages: tuple[str, ...] = PAGES) -> Path:
    """Build a 2-shard crawl of `pages` (under examples/data) and return a copy of `recipe` that reads it."""
    crawl = tmp / "crawl"
    paths = [str(root / "examples/data" / p) for p in pages]
    subprocess.run([sys.executable, "examples/build_crawl.py", "--pages", *paths, "--out", str(crawl)],
                   cwd=root, check=True, capture_output=True)  # fmt: skip
    text = (root / recipe).read_text()
    for shipped in ("examples/data/ja-crawl", "examples/data/eu-crawl"):
        text = text.replace(shipped, str(crawl))
    out = tmp / Path(recipe).name
    out.write_text(text.replace("runs/image-cache", str(tmp / "cache")))
    return out
