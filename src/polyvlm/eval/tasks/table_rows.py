"""Reading a benchmark's published table from local files: parquet, jsonl, json, tsv/csv, a dataset saved with
`save_to_disk`, or (where a network exists) a hub dataset by name — every row as a plain dict."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from polyvlm.eval.json_lines import read_object_lines

TABLE_SUFFIXES = (".parquet", ".jsonl", ".json", ".tsv", ".csv")


class TaskDataError(ValueError):
    """The benchmark's data is missing or malformed (the message says which file and row)."""


def read_rows(
    source: str | Path, split: str = "test", config: str | None = None, all_configs: bool = False
) -> tuple[list[dict[str, Any]], Path]:
    """The rows of `source` and the directory relative image paths are resolved against (a hub dataset:
    its `config`, or with `all_configs` every config concatenated in name order)."""
    path = Path(source).expanduser()
    if path.is_file():
        return _read_file(path), path.parent
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return _read_saved_dataset(path, split), path
        files = sorted(p for p in path.rglob("*") if p.suffix in TABLE_SUFFIXES and p.is_file())
        files = [p for p in files if p.name not in ("dataset_info.json", "state.json", "provenance.json")]
        if not files:
            raise TaskDataError(f"{path}: no table file ({', '.join(TABLE_SUFFIXES)}) in this directory")
        return [row for f in files for row in _read_file(f)], path
    if str(source).count("/") == 1 and not str(source).startswith((".", "/", "~")):
        return _read_hub(str(source), split, config, all_configs), Path.cwd()
    raise TaskDataError(f"{source}: no such file or directory (nor a hub dataset name like org/name)")


def _read_file(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        if path.suffix == ".jsonl":
            return _read_jsonl(path)
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise TaskDataError(f"{path}: expected a JSON list of rows")
            return data
        # MMBench-style TSVs carry whole images in base64 in one field
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t" if path.suffix == ".tsv" else ","))
    except (OSError, UnicodeDecodeError) as e:
        raise TaskDataError(f"{path}: cannot read: {e}") from e


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_object_lines(path, TaskDataError)[0]]


def _datasets_module() -> Any:
    try:
        import datasets
    except ImportError as e:
        raise TaskDataError(
            "reading a saved or hub dataset needs the `datasets` package: pip install datasets"
        ) from e
    return datasets


def _undecoded(ds: Any) -> list[dict[str, Any]]:
    """Rows with Image columns as {bytes, path} (not decoded to PIL: we only pass the bytes on)."""
    datasets = _datasets_module()
    for name, feature in ds.features.items():
        if isinstance(feature, datasets.Image):
            ds = ds.cast_column(name, datasets.Image(decode=False))
    return ds.to_list()


def _read_saved_dataset(path: Path, split: str) -> list[dict[str, Any]]:
    datasets = _datasets_module()
    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            if len(ds) != 1:
                raise TaskDataError(f"{path}: no split {split!r} (splits: {', '.join(ds)})")
            split = next(iter(ds))
        ds = ds[split]
    return _undecoded(ds)


def _read_hub(name: str, split: str, config: str | None, all_configs: bool) -> list[dict[str, Any]]:
    datasets = _datasets_module()
    try:
        if all_configs:  # one config per subject (JMMMU, MMMU): the benchmark is all of them
            configs = sorted(datasets.get_dataset_config_names(name))
            return [row for c in configs for row in _undecoded(datasets.load_dataset(name, c, split=split))]
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as e:  # no network, unknown name, gated: all end the same way for the user
        raise TaskDataError(
            f"cannot load the hub dataset {name} (split {split}): {e}. Without a network, download it "
            "elsewhere, save it with save_to_disk (or its parquet files) and pass that directory."
        ) from e
    return _undecoded(ds)


def column(row: dict[str, Any], name: str, where: str) -> Any:
    """`row[name]`, or a TaskDataError that says which row lacks it."""
    if name not in row:
        raise TaskDataError(f"{where}: no column {name!r} (columns: {', '.join(sorted(row))})")
    return row[name]
