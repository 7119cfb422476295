"""Every shipped train config reads what a shipped recipe writes: the folder, and a format that matches its writer."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest
import yaml

from polyvlm.train.config import load_train_config

ROOT = Path(__file__).resolve().parents[2]
# which training format reads which writer's output
READS = {
    "pairs_webdataset": "write_webdataset",
    "mmc4_jsonl": "write_mmc4",
    "llava_json": "write_llava_json",
    "messages_jsonl": "write_messages_jsonl",
    "text_jsonl": "write_jsonl",
    "text_parquet": "write_parquet",
}


def recipe_folders() -> dict[str, str]:
    """{absolute output folder: writer} over every recipe in recipes/."""
    out = {}
    for path in sorted(glob.glob(str(ROOT / "recipes" / "*.yaml"))):
        recipe = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        for output in recipe.get("outputs", []):
            ((writer, params),) = output.items()
            folder = (params or {}).get("path", writer)
            out[os.path.normpath(ROOT / recipe["output_dir"] / folder)] = writer
    return out


@pytest.mark.parametrize("config", sorted(glob.glob(str(ROOT / "configs" / "train" / "*.yaml"))))
def test_a_shipped_config_reads_what_recipes_write(config):
    folders = recipe_folders()
    cfg = load_train_config(config)
    for stage in cfg.stages:
        for src in stage.data.sources:
            path = Path(src.path)
            if ROOT / "examples" in path.parents:  # bundled data: it must be there
                assert glob.glob(src.path), src.path
                continue
            folder = os.path.dirname(src.path)
            assert folder in folders, f"{config}: {src.name} reads {folder}, which no recipe writes"
            assert folders[folder] == READS[src.format], (src.name, folders[folder], src.format)
