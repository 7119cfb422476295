"""Inter-annotator agreement with the well-kept implementations, per field, overall, per language, per generator.

- Cohen's kappa for every pair of annotators on the items both rated: scikit-learn `cohen_kappa_score`
  (unweighted; ordinal fields also quadratic-weighted);
- Fleiss' kappa over items rated by the same number m >= 2 of annotators: statsmodels `aggregate_raters` +
  `fleiss_kappa`;
- Krippendorff's alpha over every item with two or more ratings (missing ratings allowed): `krippendorff.alpha`,
  ordinal for ordinal scales (the whole scale as value domain), nominal for choices.
A figure that cannot be computed (one rater, no overlap, a single value everywhere) is None with the reason.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import warnings
from collections import Counter, defaultdict
from typing import Any

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from polyvlm.review.config import RatingField, ReviewConfig
from polyvlm.review.store import latest_submissions

# one rating: (item id, annotator, value)
Ratings = list[tuple[int, str, Any]]


def _codes(field: RatingField) -> dict[Any, int]:
    """Integer codes of a field's values (ordinal: the values themselves)."""
    if field.kind == "ordinal":
        return {v: v for v in range(field.low, field.high + 1)}
    return {c: i for i, c in enumerate(field.choices)}


def _undefined(value: float, reason: str) -> dict[str, Any]:
    return {"value": None, "reason": reason} if not np.isfinite(value) else {"value": float(value)}


def cohen_pairs(ratings: Ratings, field: RatingField) -> list[dict[str, Any]]:
    """Cohen's kappa of each annotator pair on their common items."""
    by_rater: dict[str, dict[int, Any]] = defaultdict(dict)
    for item, rater, value in ratings:
        by_rater[rater][item] = value
    labels = list(_codes(field))
    out = []
    for a, b in itertools.combinations(sorted(by_rater), 2):
        common = sorted(set(by_rater[a]) & set(by_rater[b]))
        if len(common) < 2:
            continue
        ya, yb = [by_rater[a][i] for i in common], [by_rater[b][i] for i in common]
        entry = {"pair": [a, b], "items": len(common)}
        with warnings.catch_warnings():  # one value everywhere: sklearn warns and returns nan
            warnings.simplefilter("ignore")
            entry["kappa"] = _undefined(cohen_kappa_score(ya, yb, labels=labels), "no variation")
            if field.kind == "ordinal":
                k = cohen_kappa_score(ya, yb, labels=labels, weights="quadratic")
                entry["kappa_quadratic"] = _undefined(k, "no variation")
        out.append(entry)
    return out


def fleiss(ratings: Ratings, field: RatingField) -> dict[str, Any]:
    """Fleiss' kappa over the items rated by the most common number m >= 2 of annotators."""
    by_item: dict[int, list[int]] = defaultdict(list)
    codes = _codes(field)
    for item, _, value in ratings:
        by_item[item].append(codes[value])
    sizes = Counter(len(v) for v in by_item.values() if len(v) >= 2)
    if not sizes:
        return {"value": None, "reason": "no item has two ratings", "items": 0}
    m = max(sizes, key=lambda s: (sizes[s], s))
    rows = np.array([v for v in by_item.values() if len(v) == m])
    table, _ = aggregate_raters(rows, n_cat=len(codes) if field.kind == "nominal" else None)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        value = fleiss_kappa(table, method="fleiss")
    return {**_undefined(value, "no variation"), "items": len(rows), "raters": m}


def krippendorff_alpha(ratings: Ratings, field: RatingField) -> dict[str, Any]:
    """Krippendorff's alpha (ordinal or nominal) over items with two or more ratings, gaps allowed."""
    codes = _codes(field)
    counts = Counter(item for item, _, _ in ratings)
    items = sorted(i for i, n in counts.items() if n >= 2)
    raters = sorted({r for i, r, _ in ratings if counts[i] >= 2})
    level = "ordinal" if field.kind == "ordinal" else "nominal"
    if not items:
        return {"value": None, "reason": "no item has two ratings", "items": 0, "level": level}
    col = {i: n for n, i in enumerate(items)}
    row = {r: n for n, r in enumerate(raters)}
    data = np.full((len(raters), len(items)), np.nan)
    for item, rater, value in ratings:
        if item in col:
            data[row[rater], col[item]] = codes[value]
    try:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            value = krippendorff.alpha(
                reliability_data=data, level_of_measurement=level, value_domain=sorted(codes.values())
            )
    except ValueError as e:
        return {"value": None, "reason": str(e), "items": len(items), "level": level}
    return {**_undefined(value, "no variation"), "items": len(items), "level": level}


def field_agreement(ratings: Ratings, field: RatingField) -> dict[str, Any]:
    """All three figures and the distribution of values for one field."""
    per_item = Counter(item for item, _, _ in ratings)
    return {
        "ratings": len(ratings),
        "overlap_items": sum(1 for n in per_item.values() if n >= 2),
        "distribution": {str(k): v for k, v in sorted(Counter(v for _, _, v in ratings).items())},
        "cohen": cohen_pairs(ratings, field),
        "fleiss": fleiss(ratings, field),
        "krippendorff": krippendorff_alpha(ratings, field),
    }


def agreement_report(conn: sqlite3.Connection, config: ReviewConfig) -> dict[str, Any]:
    """Agreement on the latest submissions: overall, per language and per generator, for every field."""
    items = {r["id"]: r for r in conn.execute("SELECT id, language, generator FROM items")}
    subs = latest_submissions(conn)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for s in subs:
        item = items[s["item_id"]]
        for key in (("all", "all"), ("language", item["language"]), ("generator", item["generator"])):
            groups[key].append(s)
    out = []
    for (by, value), rows in sorted(groups.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
        ratings = [(r["item_id"], r["annotator"], json.loads(r["ratings"])) for r in rows]
        fields = {
            f.name: field_agreement([(i, a, rt[f.name]) for i, a, rt in ratings if f.name in rt], f)
            for f in config.fields
        }
        out.append({"by": by, "value": value, "submissions": len(rows), "fields": fields})
    return {"items": len(items), "submissions": len(subs), "groups": out}
