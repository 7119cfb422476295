"""The data behind a chart or table, drawn from a seeded vocabulary of topics, and numbers as the image shows them.

A topic (prompts/<lang>/chart_topics.yaml) names the quantity, its unit and range, its categories and
series; `generate_chart` draws a chart kind's worth of values from it with a seeded `random.Random`, so
a re-run draws the same chart. Values are rounded to the topic's decimals when drawn: the rounded value
is the truth, the label on the image and the basis of every answer.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

CHART_KINDS = ("bar", "grouped_bar", "stacked_bar", "line", "pie", "scatter")


@dataclass(slots=True)
class Series:
    """One named run of values, one per category."""

    name: str
    values: list[float]


@dataclass(slots=True)
class ChartData:
    """What a chart shows: its kind, texts, categories and series (scatter: x_values per category too)."""

    kind: str
    title: str
    category_label: str
    value_label: str
    unit: str
    decimals: int
    categories: list[str]
    series: list[Series]
    x_label: str = ""
    x_unit: str = ""
    x_decimals: int = 0
    x_values: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ground truth kept in a sample's metadata)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChartData:
        """Inverse of to_dict."""
        return cls(**{**d, "series": [Series(**s) for s in d["series"]]})


def exact(value: float, decimals: int) -> Decimal:
    """A drawn value as the exact decimal it stands for (no binary float error in sums and differences)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals))


def format_number(value: float | Decimal, decimals: int, unit: str = "") -> str:
    """A number as the chart labels it: thousands separators, the topic's decimals, the unit (1,234.5万人)."""
    text = f"{Decimal(value).quantize(Decimal(1).scaleb(-decimals)):,.{decimals}f}"
    return text + unit


def _distinct(rng: random.Random, n: int, low: float, high: float, decimals: int) -> list[float]:
    """n different values in [low, high] (no ties, so 'which is largest' has one answer)."""
    seen: set[float] = set()
    out: list[float] = []
    while len(out) < n:
        v = round(rng.uniform(low, high), decimals)
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _walk(rng: random.Random, n: int, low: float, high: float, decimals: int) -> list[float]:
    """A plausible sequence over time: a trend plus noise, kept in range and without repeats."""
    start = rng.uniform(low, high)
    step = (high - low) / max(n, 2) * rng.choice([-1, 1]) * rng.uniform(0.2, 0.8)
    out: list[float] = []
    for i in range(n):
        v = round(min(high, max(low, start + step * i + rng.gauss(0, (high - low) * 0.05))), decimals)
        while v in out:  # a repeat would make 'the highest point' ambiguous
            v = round(v + 10**-decimals, decimals)
        out.append(v)
    return out


def generate_chart(topics: dict[str, Any], kind: str, rng: random.Random) -> ChartData:
    """A chart of `kind` from a topic drawn out of the vocabulary; values seeded by `rng`."""
    if kind == "scatter":
        t = rng.choice(topics["scatter"])
        names = rng.sample(t["names"], rng.randint(6, min(10, len(t["names"]))))
        return ChartData(
            kind=kind,
            title=t["title"],
            category_label="",
            value_label=t["value_label"],
            unit=t["unit"],
            decimals=t["decimals"],
            categories=names,
            series=[Series(t["value_label"], _distinct(rng, len(names), t["low"], t["high"], t["decimals"]))],
            x_label=t["x_label"],
            x_unit=t["x_unit"],
            x_decimals=t["x_decimals"],
            x_values=_distinct(rng, len(names), t["x_low"], t["x_high"], t["x_decimals"]),
        )
    pool = [t for t in topics["topics"] if kind != "line" or t["axis"] == "time"]
    t = rng.choice(pool)
    n_series = {"bar": 1, "pie": 1, "line": rng.randint(1, 3)}.get(kind, rng.randint(2, 3))
    n_series = min(n_series, len(t["series"]))
    n_cat = rng.randint(3, 5) if kind in ("grouped_bar", "stacked_bar", "pie") else rng.randint(4, 7)
    n_cat = min(n_cat, len(t["categories"]))
    if t["axis"] == "time":  # a run of consecutive periods, in order
        first = rng.randrange(len(t["categories"]) - n_cat + 1)
        cats = t["categories"][first : first + n_cat]
    else:
        cats = rng.sample(t["categories"], n_cat)
    names = rng.sample(t["series"], n_series) if n_series > 1 else [t["value_label"]]
    draw = _walk if kind == "line" else _distinct
    return ChartData(
        kind=kind,
        title=t["title"],
        category_label=t["category_label"],
        value_label=t["value_label"],
        unit=t["unit"],
        decimals=t["decimals"],
        categories=cats,
        series=[Series(name, draw(rng, n_cat, t["low"], t["high"], t["decimals"])) for name in names],
    )
