"""Questions about a chart with exact answers computed from its data: value, extremes, comparison, difference, sum, trend.

Numbers are computed in Decimal from the drawn (rounded) values and written as the chart writes them
(thousands separators, the topic's decimals) with the unit; names are written as the image shows them.
A question is asked only where its answer is unique (no ties) and readable off the image (a scatter plot
labels names, not numbers, so it is asked extremes only). Templates are data: prompts/<lang>/chart_tasks.yaml.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from polyvlm.render.chart_data import ChartData, exact, format_number
from polyvlm.synth.prompt_data import PromptData

QA = dict[str, Any]  # {"type", "question", "answer"}


def _ask(prompt: PromptData, key: str, rng: random.Random, **fields: str) -> str:
    return rng.choice(prompt.get(key, list)).format(**fields)


def _numeric(data: ChartData, prompt: PromptData, rng: random.Random) -> list[QA]:
    """Questions on one series of a bar, line or pie chart (its values are printed on the marks)."""
    j = rng.randrange(len(data.series))
    s = data.series[j]
    scope = prompt.get("scope").format(series=s.name) if len(data.series) > 1 else ""
    f = {"scope": scope, "value_label": data.value_label}
    vals = [exact(v, data.decimals) for v in s.values]

    def num(x: Decimal) -> str:
        return format_number(x, data.decimals, data.unit)

    i = rng.randrange(len(vals))
    a, b = rng.sample(range(len(vals)), 2)
    ca, cb = data.categories[a], data.categories[b]
    out = [
        _qa("value", _ask(prompt, "value", rng, category=data.categories[i], **f), num(vals[i])),
        _qa("difference", _ask(prompt, "difference", rng, a=ca, b=cb, **f), num(abs(vals[a] - vals[b]))),
    ]
    out += _extremes(data.categories, vals, prompt, rng, f)
    if vals[a] != vals[b]:  # data from a file or a model may hold ties: a tie has no answer
        out.append(
            _qa("compare", _ask(prompt, "compare", rng, a=ca, b=cb, **f), ca if vals[a] > vals[b] else cb)
        )
    if data.kind == "stacked_bar":
        k = rng.randrange(len(data.categories))
        total = sum(exact(t.values[k], data.decimals) for t in data.series)
        q = _ask(prompt, "stack_sum", rng, category=data.categories[k], value_label=data.value_label)
        out.append(_qa("stack_sum", q, num(total)))
    else:
        out.append(_qa("sum", _ask(prompt, "sum", rng, **f), num(sum(vals))))
    if data.kind == "line" and vals[-1] != vals[0]:
        word = prompt.get("increase") if vals[-1] > vals[0] else prompt.get("decrease")
        q = _ask(prompt, "trend", rng, a=data.categories[0], b=data.categories[-1], **f)
        out.append(_qa("trend", q, word))
    return out


def _qa(kind: str, question: str, answer: str) -> QA:
    return {"type": kind, "question": question, "answer": answer}


def _extremes(
    names: list[str], vals: list, prompt: PromptData, rng: random.Random, f: dict[str, str]
) -> list[QA]:
    """'Which is largest / smallest', asked only where one name holds the extreme."""
    out = []
    for key, best in (("max", max(vals)), ("min", min(vals))):
        if vals.count(best) == 1:
            out.append(_qa(key, _ask(prompt, key, rng, **f), names[vals.index(best)]))
    return out


def _scatter(data: ChartData, prompt: PromptData, rng: random.Random) -> list[QA]:
    """Extremes and a comparison on a scatter plot, whose points are labelled by name."""
    ys = data.series[0].values
    xs = data.x_values
    f = {"scope": "", "value_label": data.value_label}
    a, b = rng.sample(range(len(ys)), 2)
    ca, cb = data.categories[a], data.categories[b]
    out = _extremes(data.categories, ys, prompt, rng, f)
    if xs.count(max(xs)) == 1:
        out.append(
            _qa("x_max", _ask(prompt, "x_max", rng, x_label=data.x_label), data.categories[xs.index(max(xs))])
        )
    if ys[a] != ys[b]:
        out.append(_qa("compare", _ask(prompt, "compare", rng, a=ca, b=cb, **f), ca if ys[a] > ys[b] else cb))
    return out


def chart_questions(data: ChartData, prompt: PromptData, rng: random.Random, n: int) -> list[QA]:
    """Up to n questions with exact answers, in a seeded order (the value lookup first where there is one)."""
    qa = _scatter(data, prompt, rng) if data.kind == "scatter" else _numeric(data, prompt, rng)
    head, rest = qa[:1], qa[1:]
    rng.shuffle(rest)
    return (head + rest)[:n]
