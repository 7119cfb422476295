"""render_charts: charts drawn from data (bar, grouped/stacked bar, line, pie, scatter) with exact QA and mark boxes.

Each input record seeds `charts_per_record` charts: a record carrying `metadata["chart"]` (a ChartData
dict, e.g. written by a model or read from a file) is drawn as it is; any other record draws charts
from the bundled topic vocabulary (prompts/<lang>/chart_topics.yaml), kinds taken in turn from `kinds`.
The sample holds the PNG, the data, the drawing spec, every mark's pixel box and every text's box, and
questions whose answers are computed from the data (chart_qa.py). A chart whose text the font cannot
draw is dropped (glyph_missing) rather than kept with boxes in place of letters.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Literal

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Provenance, Record, Sample, qa_messages
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.render.chart_data import CHART_KINDS, ChartData, generate_chart
from polyvlm.render.chart_draw import draw_chart
from polyvlm.render.chart_qa import chart_questions
from polyvlm.render.font_files import FontMissing, font_file
from polyvlm.render.rendered_image import png_image
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.prompt_data import PromptData, load_prompt_data

ChartKind = Literal["bar", "grouped_bar", "stacked_bar", "line", "pie", "scatter"]


class RenderChartsParams(Params):
    """Parameters of render_charts."""

    language: str = "ja"
    """language of the topics and questions (prompts/<lang>/chart_topics.yaml, chart_tasks.yaml)"""
    kinds: list[ChartKind] = list(CHART_KINDS)  # type: ignore[arg-type]
    """chart kinds drawn in turn"""
    charts_per_record: int = Field(6, ge=1, le=1000)
    """charts generated from each input record without its own metadata.chart"""
    questions: int = Field(4, ge=1, le=8)
    """questions per chart (the value lookup first)"""
    font: str = "Noto Sans CJK JP"
    """font family for every text (fontconfig; Debian fonts-noto-cjk); it covers kana, kanji, Latin, Cyrillic, Hangul"""
    width: int = Field(800, ge=200, le=4000)
    """image width in pixels"""
    height: int = Field(600, ge=200, le=4000)
    """image height in pixels"""
    seed: int = 0
    """draws topics, values and questions with the record id"""
    prompt_dir: str = ""
    """a folder with your own chart_topics.yaml and chart_tasks.yaml instead of the shipped ones"""
    keep_record: bool = False
    """pass the input record on after its charts (render_charts then render_tables from the same seeds)"""


@register
class RenderCharts(ExpandStep):
    """Draw charts from data (matplotlib: bar, grouped/stacked bar, line, pie, scatter); mark boxes and exact QA."""

    name = "render_charts"
    Params = RenderChartsParams

    def _load(self) -> tuple[PromptData, PromptData, str]:
        p = self.params
        try:
            import matplotlib  # noqa: F401

            return (
                load_prompt_data(p.language, "chart_topics", p.prompt_dir),
                load_prompt_data(p.language, "chart_tasks", p.prompt_dir),
                font_file(p.font)[0],
            )
        except ImportError:
            raise RecipeError(
                f"step {self.label}: charts need matplotlib: pip install 'polyvlm[documents]'"
            ) from None
        except (FileNotFoundError, FontMissing) as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def check(self) -> None:
        self._load()

    def setup(self) -> None:
        self._topics, self._tasks, self._font = self._load()
        self._counts = {"charts_drawn": 0.0, "chart_marks": 0.0, "chart_questions": 0.0}

    def metrics(self) -> dict[str, float]:
        return dict(self._counts) if self._ready else {}

    def _sample(self, record: Record, index: int, data: ChartData, rng: random.Random) -> Sample | Drop:
        p = self.params
        chart = draw_chart(data, self._font, p.width, p.height)
        if chart.missing_glyphs:
            return Drop("glyph_missing", f"{data.kind} '{data.title}': {chart.missing_glyphs[0]}")
        qa = chart_questions(data, self._tasks, rng, p.questions)
        qa += record.metadata.get("model_qa", [])  # write_chart_data's reasoning QA, every number checked
        self._counts["charts_drawn"] += 1
        self._counts["chart_marks"] += len(chart.marks)
        self._counts["chart_questions"] += len(qa)
        spec: dict[str, Any] = {
            "renderer": "matplotlib",
            "kind": data.kind,
            "width": p.width,
            "height": p.height,
            "dpi": 100,
            "font": p.font,
            "font_file": chart.font,
            "colors": sorted({m["color"] for m in chart.marks}),
        }
        return Sample(
            id=hashlib.sha1(f"chart:{p.seed}:{record.id}:{index}".encode()).hexdigest()[:20],
            images=[png_image(chart.png, chart.width, chart.height)],
            messages=qa_messages([(q["question"], q["answer"]) for q in qa]),
            task="chart_qa",
            language=p.language,
            metadata={
                "category": TASK_CATEGORY["chart_qa"],
                "chart_kind": data.kind,
                "data": data.to_dict(),
                "spec": spec,
                "marks": chart.marks,
                "texts": chart.texts,
                "qa": qa,
                "data_from": ("model" if "generators" in record.metadata else "record")
                if "chart" in record.metadata
                else "generated",
                "prompt_sha256": self._tasks.sha256,
                "source_record": record.id,
                # the model that wrote the data (write_chart_data), for licence checks
                **{
                    k: record.metadata[k]
                    for k in ("generators", "generator_license", "topic")
                    if k in record.metadata
                },
            },
            provenance=Provenance(
                source=record.provenance.source,
                license=record.provenance.license,
                record_id=record.id,
                generator="render_charts:matplotlib",
            ),
        )

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Document) or "table" in record.metadata:
            return [
                record
            ]  # samples made earlier, and tables (read_tables: for render_tables), go on untouched
        self.ensure_setup()
        p = self.params
        rng = random.Random(f"{p.seed}:{record.id}")
        given = record.metadata.get("chart")
        if given is not None:
            try:
                datas = [ChartData.from_dict(given)]
            except (TypeError, KeyError) as e:
                return Drop("chart_data_invalid", str(e))
        else:
            start = rng.randrange(len(p.kinds))
            kinds = [p.kinds[(start + i) % len(p.kinds)] for i in range(p.charts_per_record)]
            datas = [generate_chart(self._topics.data, k, rng) for k in kinds]
        out: list[Record] = []
        last: Drop | None = None
        for i, data in enumerate(datas):
            made = self._sample(record, i, data, rng)
            if isinstance(made, Drop):
                self._counts[f"charts_dropped_{made.reason}"] = (
                    self._counts.get(f"charts_dropped_{made.reason}", 0) + 1
                )
                last = made  # one chart the font cannot draw does not cost the others
            else:
                out.append(made)
        if p.keep_record:
            out.append(record)
        return out if out else (last or Drop("no_chart"))
