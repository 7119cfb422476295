"""write_chart_data against a real local OpenAI-compatible server: data validated, every reasoning number checked."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fake_openai_server import FakeOpenAIServer
from polyvlm.clients.chat import ChatSpec
from polyvlm.core.records import Document, Sample
from polyvlm.render.chart_data import ChartData, Series
from polyvlm.render.chart_numbers import unsupported_numbers
from polyvlm.render.chart_writer import WriteChartData

pytest.importorskip("matplotlib")

DATA = {
    "kind": "grouped_bar",
    "title": "2024年の地域別売上",
    "category_label": "地域",
    "value_label": "売上",
    "unit": "億円",
    "decimals": 1,
    "categories": ["関東", "関西", "九州"],
    "series": [
        {"name": "上期", "values": [120.5, 98.25, 40]},
        {"name": "下期", "values": [130.0, 101.4, 45.6]},
    ],
    "questions": [
        # right: 130.0 - 120.5 = 9.5; the sum 120.5 + 98.2 + 40.0 = 258.7 (98.25 is drawn as 98.2)
        {
            "question": "関東の上期と下期の差は？",
            "answer": "130.0 - 120.5 = 9.5億円。上期の合計は258.7億円です。",
        },
        # wrong: a misread value (99.0) and a slip in the sum
        {"question": "関西の上期と下期の合計は？", "answer": "99.0 + 101.4 = 200.9億円"},
    ],
}


def _reply(prompt: str) -> str | None:
    if "[[bad]]" in prompt:
        return "すみません、データは作れません。"
    return "```json\n" + json.dumps(DATA, ensure_ascii=False) + "\n```"


@pytest.fixture
def step(tmp_path):
    with FakeOpenAIServer(reply=_reply) as server:
        spec = ChatSpec(backend="openai", model="fake-model", base_url=server.url,
                        cache_path=str(tmp_path / "cache.sqlite"), license="Apache-2.0")  # fmt: skip
        s = WriteChartData(client=spec, kinds=["grouped_bar"])
        s.ensure_setup()
        yield s


def test_the_model_writes_the_data_and_only_checked_reasoning_is_kept(step):
    from polyvlm.render.chart_step import RenderCharts

    passing = Sample(id="already-a-sample")
    doc, same = step.apply_batch([Document(id="topic-1", metadata={"topic": "地域別の売上"}), passing])
    assert same is passing  # records that are not topics pass untouched
    chart = ChartData.from_dict(doc.metadata["chart"])
    assert chart.series[0].values == [
        120.5,
        98.2,
        40.0,
    ]  # rounded to the stated decimals: what the bars print
    assert [q["question"] for q in doc.metadata["model_qa"]] == ["関東の上期と下期の差は？"]
    (rejected,) = doc.metadata["model_qa_rejected"]
    assert rejected["unsupported"] == ["99.0", "200.9"]
    assert doc.metadata["generators"][0]["model"] == "fake-model"
    assert step.metrics()["model_qa_unsupported_number"] == 1 and step.metrics()["model_qa_kept"] == 1

    (sample,) = RenderCharts().expand(doc)
    assert sample.metadata["data_from"] == "model" and sample.metadata["chart_kind"] == "grouped_bar"
    assert sample.metadata["qa"][-1]["type"] == "model_reasoning"
    assert sample.messages[-1].content == "130.0 - 120.5 = 9.5億円。上期の合計は258.7億円です。"
    assert sample.metadata["generator_license"] == "Apache-2.0"


def test_an_answer_that_is_not_chart_data_is_dropped_with_the_reason(step):
    (got,) = step.apply_batch([Document(id="t2", metadata={"topic": "[[bad]]"})])
    assert got.reason == "chart_data_invalid"


def test_numbers_a_reader_can_get_from_the_chart_are_supported():
    data = ChartData(
        "bar", "2023年の売上", "店", "売上", "億円", 1, ["A", "B", "C"], [Series("売上", [10.5, 20.0, 30.2])]
    )
    # difference, sum, mean written rounded, share in percent, a year from the title, the count of bars
    assert unsupported_numbers("差は9.5、合計60.7、平均20.2、Cは49.8%、2023年、3店", data) == []
    assert unsupported_numbers("差は9.6", data) == ["9.6"]
    assert unsupported_numbers("合計は60.8億円", data) == ["60.8"]
    assert Decimal("20.2") == round(Decimal("60.7") / 3, 1)
