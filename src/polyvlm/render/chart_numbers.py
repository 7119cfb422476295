"""Every number in a model's reasoning answer checked against a chart's data (CoSyn-style questions, exact data).

A number is supported when it is one of the quantities a reader can get from the chart: a value, a
difference of two values (in a series, or across series at one category), a series' or a category's
sum, the grand sum, a count (of categories, of series), or a number written in the chart's texts (2023年,
4月); means, ratios and shares (a value over a sum, in percent) may be written rounded, to as many
decimals as the answer writes them. Anything else (a misread value, an arithmetic slip) is unsupported.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import combinations

from polyvlm.render.chart_data import ChartData, exact

NUMBER = re.compile(r"(?<![\d.])\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> list[Decimal]:
    out = []
    for m in NUMBER.finditer(text):
        try:
            out.append(Decimal(m.group().replace(",", "")))
        except InvalidOperation:
            continue
    return out


def supported_numbers(data: ChartData) -> tuple[set[Decimal], set[Decimal]]:
    """(quantities that must match exactly, quantities that may be rounded) the chart's data gives."""
    d = data.decimals
    rows = [[exact(v, d) for v in s.values] for s in data.series]
    exact_set: set[Decimal] = {Decimal(len(data.categories)), Decimal(len(data.series))}
    rounded: set[Decimal] = set()
    columns = [list(c) for c in zip(*rows, strict=True)]
    for group in rows + columns:
        exact_set.update(group)
        exact_set.update(abs(a - b) for a, b in combinations(group, 2))
        total = sum(group, Decimal(0))
        exact_set.add(total)
        if group:
            rounded.add(total / len(group))
        if total:
            rounded.update(v / total * 100 for v in group)  # a share of the whole, in percent
        rounded.update(a / b for a in group for b in group if b and a != b)
        rounded.update(a / b * 100 - 100 for a in group for b in group if b and a != b)  # % change
    exact_set.add(sum((sum(r, Decimal(0)) for r in rows), Decimal(0)))
    exact_set.update(exact(v, data.x_decimals) for v in data.x_values)
    texts = [data.title, data.category_label, data.value_label, data.unit, data.x_label, data.x_unit]
    for text in texts + data.categories + [s.name for s in data.series]:
        exact_set.update(_numbers(text))
    return exact_set, rounded


def unsupported_numbers(answer: str, data: ChartData) -> list[str]:
    """The numbers in `answer` that the chart's data does not give (empty: every number checks out)."""
    exact_set, rounded = supported_numbers(data)
    bad = []
    for m in NUMBER.finditer(answer):
        x = Decimal(m.group().replace(",", ""))
        if x in exact_set:
            continue
        places = Decimal(1).scaleb(x.as_tuple().exponent)  # type: ignore[arg-type]
        if any(r.quantize(places, rounding=ROUND_HALF_UP) == x for r in rounded):
            continue
        bad.append(m.group())
    return bad
