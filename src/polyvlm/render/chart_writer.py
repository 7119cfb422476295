"""write_chart_data: a chat model writes a chart's data and reasoning questions from a topic (CoSyn-style).

Each input Document names a topic (`metadata.topic`, else its first text); the model answers JSON in
the shape prompts/<lang>/chart_data.user.txt shows. The data is validated (kind, lengths, finite
numbers, values rounded to the stated decimals: what the chart will print) and put in
`metadata.chart`, which render_charts draws as it is and asks its own computed questions about. The
model's reasoning questions are kept only when every number in the answer is one the data gives
(chart_numbers.py); the others are counted and listed in `metadata.model_qa_rejected`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import Field

from polyvlm.clients.chat import ChatRequest
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, register
from polyvlm.render.chart_data import CHART_KINDS, ChartData, Series
from polyvlm.render.chart_numbers import unsupported_numbers
from polyvlm.synth.chat_failures import unusable
from polyvlm.synth.chat_step import ChatStep, ChatStepParams
from polyvlm.synth.generated_by import add_generator

_JSON = re.compile(r"\{.*\}", re.S)


class WriteChartDataParams(ChatStepParams):
    """Parameters of write_chart_data (and client, prompt_dir, batch_size)."""

    language: str = "ja"
    """language of the prompt (prompts/<lang>/chart_data.*.txt) and of the data the model writes"""
    kinds: list[str] = list(CHART_KINDS)
    """chart kinds asked for, one per record in turn (by the record's position in its batch and id)"""
    max_categories: int = Field(12, ge=2)
    """data with more categories is dropped (chart_data_invalid)"""


def parse_chart(text: str, kind: str, max_categories: int) -> tuple[ChartData, list[dict[str, str]]] | str:
    """The model's JSON as (ChartData with values rounded to its decimals, its questions), or why not."""
    m = _JSON.search(text)
    try:
        d: dict[str, Any] = json.loads(m.group()) if m else {}
    except json.JSONDecodeError as e:
        return f"not JSON: {e.msg}"
    try:
        decimals = int(d.get("decimals", 0))
        cats = [str(c) for c in d["categories"]]
        series = [
            Series(str(s["name"]), [round(float(v), decimals) for v in s["values"]]) for s in d["series"]
        ]
        x_decimals = int(d.get("x_decimals", 0))
        xs = [round(float(v), x_decimals) for v in d.get("x_values") or []]
    except (KeyError, TypeError, ValueError) as e:
        return f"missing or malformed field: {e}"
    values = [v for s in series for v in s.values] + xs
    if not 0 <= decimals <= 3 or not all(math.isfinite(v) and v >= 0 for v in values):
        return "decimals outside 0..3, or a value that is not a finite non-negative number"
    if not 2 <= len(cats) <= max_categories or len(set(cats)) != len(cats) or not series:
        return f"{len(cats)} categories (2..{max_categories}, distinct) and at least one series are needed"
    if any(len(s.values) != len(cats) for s in series) or (kind == "scatter" and len(xs) != len(cats)):
        return "a series (or x_values) does not have one value per category"
    if kind in ("bar", "pie", "scatter"):
        series = series[:1]
    data = ChartData(kind, str(d.get("title", "")), str(d.get("category_label", "")),
                     str(d.get("value_label", "")), str(d.get("unit", "")), decimals, cats, series,
                     str(d.get("x_label", "")), str(d.get("x_unit", "")), x_decimals, xs if kind == "scatter" else [])  # fmt: skip
    questions = [
        q for q in d.get("questions") or [] if isinstance(q, dict) and q.get("question") and q.get("answer")
    ]
    return data, [{"question": str(q["question"]), "answer": str(q["answer"])} for q in questions]


@register
class WriteChartData(ChatStep):
    """A chat model writes chart data and reasoning QA from a topic; every number of an answer checked against the data."""

    name = "write_chart_data"
    Params = WriteChartDataParams

    def prompt_file(self) -> tuple[str, str]:
        return self.params.language, "chart_data"

    def read_prompts(self) -> None:
        super().read_prompts()
        if any(k not in CHART_KINDS for k in self.params.kinds):
            raise RecipeError(f"step {self.label}: kinds must be among {', '.join(CHART_KINDS)}")
        self._qa = {"model_qa_kept": 0.0, "model_qa_unsupported_number": 0.0}

    def metrics(self) -> dict[str, float]:
        return {**super().metrics(), **getattr(self, "_qa", {})}

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        p = self.params
        asks = []
        for record in records:
            if (
                isinstance(record, Document)
                and "chart" not in record.metadata
                and "table" not in record.metadata
            ):
                topic = str(record.metadata.get("topic") or (record.texts[0] if record.texts else "")).strip()
                kind = p.kinds[
                    sum(map(ord, record.id)) % len(p.kinds)
                ]  # seeded by the id: the same on a re-run
                asks.append((record, topic, kind))
        results = self._client.complete(
            [ChatRequest(self._prompt.messages(topic=topic, kind=kind)) for _, topic, kind in asks]
        )
        verdicts: dict[int, Record | Drop] = {}
        for (record, topic, kind), result in zip(asks, results, strict=True):
            verdicts[id(record)] = unusable(result, "empty_chart_data") or self._finish(
                record, topic, kind, result.text
            )
        return [verdicts.get(id(r), r) for r in records]

    def _finish(self, record: Document, topic: str, kind: str, text: str | None) -> Record | Drop:
        parsed = parse_chart(text or "", kind, self.params.max_categories)
        if isinstance(parsed, str):
            return Drop("chart_data_invalid", parsed)
        data, questions = parsed
        kept, rejected = [], []
        for q in questions:
            bad = unsupported_numbers(q["answer"], data)
            (rejected if bad else kept).append(
                {**q, "unsupported": bad} if bad else {**q, "type": "model_reasoning"}
            )
        self._qa["model_qa_kept"] += len(kept)
        self._qa["model_qa_unsupported_number"] += len(rejected)
        record.metadata.update(chart=data.to_dict(), topic=topic, model_qa=kept, model_qa_rejected=rejected)
        add_generator(record, self.name, self.params.client, self._prompt.sha256)
        return record
