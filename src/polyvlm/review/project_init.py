"""`polyvlm review init`: a new project from a dataset — items, images in the store, annotators, assignment."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime

from polyvlm.core.records import Record, record_to_json
from polyvlm.core.step import Drop
from polyvlm.review.assignment import assign
from polyvlm.review.config import ReviewConfig
from polyvlm.review.dataset_readers import Unreadable, read_dataset, turns_of
from polyvlm.review.image_store import find_image_bytes, images_dir, store_image
from polyvlm.review.private_files import make_private_dir
from polyvlm.review.session_key import write_new_key
from polyvlm.review.store import connect, set_meta
from polyvlm.review.tokens import hash_token, new_token

ANNOTATOR_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass
class InitResult:
    """What init made: counts, problems met, and the tokens (shown once, stored hashed)."""

    items: int = 0
    assignments: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, str] = field(default_factory=dict)
    admin_token: str = ""


def read_annotators(path: str) -> list[str]:
    """Annotator names, one a line (blank lines and # comments skipped)."""
    with open(path, encoding="utf-8") as f:
        names = [ln.split("#", 1)[0].strip() for ln in f]
    names = [n for n in names if n]
    bad = [n for n in names if not set(n) <= ANNOTATOR_NAME_CHARS or n == "admin"]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"{path}: names must be unique, of letters, digits, _ . - and not 'admin': {bad}")
    return names


def generator_of(record: Record) -> str:
    """The model(s) that made a record, for agreement per generator."""
    gens = record.metadata.get("generators")
    if isinstance(gens, list) and gens:
        return "+".join(str(g.get("model", g)) if isinstance(g, dict) else str(g) for g in gens)
    return record.provenance.generator or "unknown"


def init_project(
    dataset: str,
    project: str,
    annotators: list[str],
    overlap: int,
    overlap_share: float,
    config: ReviewConfig,
    image_dirs: list[str] | None = None,
    seed: int = 0,
) -> InitResult:
    """Create `project` (a new folder) from `dataset`; nothing is overwritten."""
    if os.path.exists(project) and os.listdir(project):
        raise FileExistsError(f"{project} exists and is not empty; choose a new project folder")
    assign(0, annotators, overlap, overlap_share)  # bad settings fail before anything is written
    make_private_dir(project)  # 0700: the database and the session key are the owner's alone
    make_private_dir(images_dir(project))
    try:
        return _fill(dataset, project, annotators, overlap, overlap_share, config, image_dirs or [], seed)
    except BaseException:
        shutil.rmtree(project, ignore_errors=True)  # a failed init leaves no half-made project behind
        raise


def _fill(
    dataset: str, project: str, annotators: list[str], overlap: int, overlap_share: float,
    config: ReviewConfig, image_dirs: list[str], seed: int,
) -> InitResult:  # fmt: skip
    result = InitResult()
    rows = _read_items(dataset, project, image_dirs, result)
    if not rows:
        raise ValueError(
            f"{dataset}: no record to review ({dict(result.problems) or 'the dataset is empty'})"
        )
    plan = assign(len(rows), annotators, overlap, overlap_share, seed)
    with closing(connect(project, create=True)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        _write_items(conn, rows, {i for i, who in plan if len(who) > 1})
        for name in annotators:
            result.tokens[name] = new_token()
            conn.execute("INSERT INTO annotators VALUES (?, ?)", (name, hash_token(result.tokens[name])))
        position: Counter[str] = Counter()
        for item, who in plan:
            for a in who:
                position[a] += 1
                conn.execute(
                    "INSERT INTO assignments (item_id, annotator, position) VALUES (?, ?, ?)",
                    (item + 1, a, position[a]),
                )
                result.assignments += 1
        result.admin_token = new_token()
        set_meta(conn, "admin_token_hash", hash_token(result.admin_token))
        set_meta(conn, "config", config.model_dump())
        set_meta(conn, "dataset", os.path.abspath(dataset))
        set_meta(conn, "overlap", {"k": overlap, "share": overlap_share, "seed": seed})
        set_meta(conn, "created", datetime.now(UTC).isoformat(timespec="seconds"))
        set_meta(conn, "problems", dict(result.problems))
        conn.execute("COMMIT")
    write_new_key(project)  # the session key lives beside the database, never in it
    result.items = len(rows)
    return result


def _read_items(
    dataset: str, project: str, image_dirs: list[str], result: InitResult
) -> list[tuple[str, Record, list[dict[str, str]]]]:
    """(unique key, record, its images in the store) of every reviewable record; problems counted."""
    base = dataset if os.path.isdir(dataset) else os.path.dirname(os.path.abspath(dataset))
    search = [base, os.path.dirname(base), os.getcwd(), *image_dirs]
    rows, seen = [], Counter()
    for rec in read_dataset(dataset):
        if isinstance(rec, Unreadable):
            result.problems[rec.reason.split(":", 1)[0]] += 1
            continue
        if not turns_of(rec):
            result.problems["no_text"] += 1
            continue
        seen[rec.id] += 1
        key = rec.id if seen[rec.id] == 1 else f"{rec.id}#{seen[rec.id]}"
        if seen[rec.id] > 1:
            result.problems["duplicate_id_renamed"] += 1
        images = []
        for ref in rec.images:
            found = find_image_bytes(ref, search)
            stored = store_image(project, found) if isinstance(found, bytes) else Drop(found)
            if isinstance(stored, Drop):
                result.problems[f"image:{stored.reason}"] += 1
                images.append({"missing": stored.reason, "where": ref.path or ref.url})
            else:
                images.append({"name": stored})
            ref.data = None  # the store holds the bytes; the record keeps where they came from
        rows.append((key, rec, images))
    return rows


def _write_items(conn: sqlite3.Connection, rows: list, shared: set[int]) -> None:
    for n, (key, rec, images) in enumerate(rows):
        conn.execute(
            "INSERT INTO items (id, item_key, record, language, generator, task, images, overlap)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (n + 1, key, record_to_json(rec), rec.language or "unknown", generator_of(rec),
             getattr(rec, "task", "") or rec.kind, json.dumps(images), int(n in shared)),
        )  # fmt: skip
