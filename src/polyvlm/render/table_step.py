"""render_tables: tables from data rendered by headless Chromium with merged headers, cell boxes and exact QA.

Chromium draws the table (the browser.py renderer render_pages uses): HTML tables give merged headers
(rowspan/colspan), real text shaping and line breaking for any script, and each cell's box is measured
in the page after layout, from the very layout the screenshot shows. matplotlib's table has no merged
cells, which is why it is not used here. A record with `metadata["table"]` ({"title", "header", "rows"},
as read_tables writes it) is rendered as it is; any other record draws `tables_per_record` tables from
the topic vocabulary (prompts/<lang>/chart_topics.yaml).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Provenance, Record, Sample, qa_messages
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.render.browser import BrowserMissing, chromium_path, shared_renderer
from polyvlm.render.rendered_image import png_image, render_or_drop
from polyvlm.render.table_data import CELL_BOXES_JS, TableData, generate_table, table_from_columns, table_html
from polyvlm.render.table_qa import table_questions
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.prompt_data import load_prompt_data


class RenderTablesParams(Params):
    """Parameters of render_tables."""

    language: str = "ja"
    """language of the topics and questions (prompts/<lang>/chart_topics.yaml, chart_tasks.yaml)"""
    tables_per_record: int = Field(2, ge=1, le=1000)
    """tables generated from each input record without its own metadata.table"""
    questions: int = Field(4, ge=1, le=8)
    """questions per table (the cell lookup first)"""
    fonts: list[str] = ["Noto Sans CJK JP", "Noto Serif CJK JP"]
    """font families drawn from (installed fonts; Debian fonts-noto-cjk)"""
    font_sizes: list[int] = [15, 16, 18]
    """font sizes in pixels drawn from"""
    width: int = Field(800, ge=200, le=4000)
    """page width in pixels"""
    height: int = Field(600, ge=200, le=4000)
    """page height in pixels; a table that does not fit is dropped (table_overflow)"""
    seed: int = 0
    """draws topics, values, fonts and questions with the record id"""
    prompt_dir: str = ""
    """a folder with your own chart_topics.yaml and chart_tasks.yaml instead of the shipped ones"""
    keep_record: bool = False
    """pass the input record on after its tables (render_charts then render_tables from the same seeds)"""


@register
class RenderTables(ExpandStep):
    """Render tables from data (Chromium: merged headers, numbers with units); cell boxes and exact QA."""

    name = "render_tables"
    Params = RenderTablesParams

    def _load(self) -> tuple[Any, Any]:
        p = self.params
        try:
            chromium_path()
            import playwright  # noqa: F401

            return load_prompt_data(p.language, "chart_topics", p.prompt_dir), load_prompt_data(
                p.language, "chart_tasks", p.prompt_dir
            )
        except (BrowserMissing, ImportError, FileNotFoundError) as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def check(self) -> None:
        self._load()

    def setup(self) -> None:
        self._topics, self._tasks = self._load()
        shared_renderer()  # the browser starts with the step, not with its first table
        self._counts = {"tables_drawn": 0.0, "table_cells": 0.0, "table_questions": 0.0}

    def metrics(self) -> dict[str, float]:
        return dict(self._counts) if self._ready else {}

    def _sample(
        self, record: Record, index: int, table: TableData, rng: random.Random, source: str
    ) -> Sample | Drop:
        p = self.params
        font, size = rng.choice(p.fonts), rng.choice(p.font_sizes)
        page = render_or_drop(table_html(table, font, size, p.width), p.width, p.height, CELL_BOXES_JS)
        if isinstance(page, Drop):
            return page
        cells = page.truth["measured"]
        expected = len(table.rows) * (len(table.columns) + 1)
        if (
            sum(1 for c in cells if c["row"] >= 0) != expected
        ):  # ground_truth.js removed rows that ran off the page
            return Drop("table_overflow", f"{len(table.rows)} rows do not fit {p.width}x{p.height}")
        qa = table_questions(table, self._tasks, rng, p.questions)
        self._counts["tables_drawn"] += 1
        self._counts["table_cells"] += len(cells)
        self._counts["table_questions"] += len(qa)
        return Sample(
            id=hashlib.sha1(f"table:{p.seed}:{record.id}:{index}".encode()).hexdigest()[:20],
            images=[png_image(page.png, page.width, page.height)],
            messages=qa_messages([(q["question"], q["answer"]) for q in qa]),
            task="table_qa",
            language=p.language,
            metadata={
                "category": TASK_CATEGORY["table_qa"],
                "data": table.to_dict(),
                "spec": {
                    "renderer": "chromium",
                    "font": font,
                    "font_size": size,
                    "width": p.width,
                    "height": p.height,
                },
                "cells": cells,
                "qa": qa,
                "data_from": source,
                "prompt_sha256": self._tasks.sha256,
                "source_record": record.id,
            },
            provenance=Provenance(
                source=record.provenance.source,
                license=record.provenance.license,
                record_id=record.id,
                generator="render_tables:chromium",
            ),
        )

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Document):
            return [record]  # samples made by an earlier step go on untouched
        self.ensure_setup()
        p = self.params
        rng = random.Random(f"{p.seed}:{record.id}")
        given = record.metadata.get("table")
        if given is not None:
            table = table_from_columns(
                str(given.get("title", "")), list(given["header"]), list(given["rows"])
            )
            if isinstance(table, str):
                return Drop("table_not_numeric", table)
            tables, source = [table], "record"
        else:
            tables = [generate_table(self._topics.data, rng) for _ in range(p.tables_per_record)]
            source = "generated"
        out: list[Record] = []
        last: Drop | None = None
        for i, table in enumerate(tables):
            made = self._sample(record, i, table, rng, source)
            if isinstance(made, Drop):
                self._counts[f"tables_dropped_{made.reason}"] = (
                    self._counts.get(f"tables_dropped_{made.reason}", 0) + 1
                )
                last = made
            else:
                out.append(made)
        if p.keep_record:
            out.append(record)
        return out if out else (last or Drop("no_table"))
