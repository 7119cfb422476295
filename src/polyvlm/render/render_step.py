"""render_pages: documents' text rendered as realistic pages by headless Chromium, with exact ground truth and QA.

Each document (its texts, e.g. from extract_html) becomes one page in a layout picked per document from
`layouts` (article, two_column, table, vertical), a font and a size, all seeded by the document id, so a
re-run draws the same page. The sample holds the screenshot, every line with its pixel box and block
role, the ruby readings, and a conversation: transcription, heading, table cell, line after X.
"""

from __future__ import annotations

import hashlib
import random
from typing import Literal

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Provenance, Record, Sample, qa_messages
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.render.browser import BrowserMissing, ChromiumRenderer, chromium_path, shared_renderer
from polyvlm.render.page_html import LAYOUTS, PageSpec, page_html, sentences
from polyvlm.render.page_tasks import page_questions, transcription
from polyvlm.render.rendered_image import png_image, render_or_drop
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.prompt_data import PromptData, load_prompt_data

Layout = Literal["article", "two_column", "table", "vertical"]  # page_html.LAYOUTS


class RenderPagesParams(Params):
    """Parameters of render_pages."""

    language: str = "ja"
    """language of the text, the page's lang attribute and the question templates (prompts/<lang>/render_tasks.yaml)"""
    layouts: list[Layout] = list(LAYOUTS)
    """layouts drawn from, one per document"""
    fonts: list[str] = ["Noto Sans CJK JP", "Noto Serif CJK JP"]
    """font families drawn from (installed fonts; Debian fonts-noto-cjk)"""
    font_sizes: list[int] = [16, 18, 20, 24]
    """font sizes in pixels drawn from"""
    width: int = Field(800, ge=200, le=4000)
    """page width in pixels"""
    height: int = Field(1000, ge=200, le=4000)
    """page height in pixels"""
    ruby_share: float = Field(0.15, ge=0, le=1)
    """share of kanji words given furigana on vertical pages (Japanese only)"""
    max_paragraph_chars: int = Field(240, ge=20)
    """longer text segments are cut at a sentence end (a page shows whole blocks only)"""
    min_lines: int = Field(3, ge=1)
    """a page with fewer measured lines is dropped (too_little_text)"""
    seed: int = 0
    """draws layout, font and questions with the document id"""
    prompt_dir: str = ""
    """a folder with your own render_tasks.yaml instead of the shipped one"""
    keep_document: bool = False
    """pass the document on after its sample, for another step that makes samples from it (render_pages then synth_ocr)"""


def paragraphs(texts: list[str], max_chars: int) -> list[str]:
    """Text segments as paragraphs of at most max_chars, cut at sentence ends."""
    out = []
    for text in texts:
        text = " ".join(text.split())
        if not text:
            continue
        para = ""
        for s in sentences(text, max_chars):
            if para and len(para) + len(s) > max_chars:
                out.append(para)
                para = ""
            para += s if not para or not s[:1].isascii() else " " + s
        if para:
            out.append(para)
    return out


@register
class RenderPages(ExpandStep):
    """Render each document's text as a page (Chromium: columns, tables, 縦書き, ruby); ground truth and page QA."""

    name = "render_pages"
    Params = RenderPagesParams

    def check(self) -> None:
        try:
            chromium_path()
            import playwright  # noqa: F401
        except (BrowserMissing, ImportError) as e:
            raise RecipeError(f"step {self.label}: {e}") from None
        self._load_prompt()

    def _load_prompt(self) -> PromptData:
        try:
            return load_prompt_data(self.params.language, "render_tasks", self.params.prompt_dir)
        except FileNotFoundError as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._prompt = self._load_prompt()

    @property
    def _renderer(self) -> ChromiumRenderer:
        """The browser this step renders with: the process's shared one (replaced when it fails)."""
        return shared_renderer()

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Document):
            return [record]
        self.ensure_setup()
        p = self.params
        paras = paragraphs(record.texts, p.max_paragraph_chars)
        if not paras:
            return Drop("no_text")
        rng = random.Random(f"{p.seed}:{record.id}")
        title = str(record.metadata.get("title") or "").strip() or sentences(paras[0], 30)[0]
        spec = PageSpec(
            layout=rng.choice(p.layouts),
            title=title[:60],
            paragraphs=paras[:12],
            width=p.width,
            height=p.height,
            font=rng.choice(p.fonts),
            font_size=rng.choice(p.font_sizes),
            language=p.language,
            table_headers=[str(h) for h in self._prompt.get("table_headers", list)],
            seed=rng.randrange(2**31),
        )
        spec.ruby_share = p.ruby_share if spec.layout == "vertical" and p.language == "ja" else 0.0
        page = render_or_drop(page_html(spec), spec.width, spec.height)
        if isinstance(page, Drop):
            return page
        truth = page.truth
        if len(truth["lines"]) < p.min_lines:
            return Drop("too_little_text", f"{len(truth['lines'])} lines < {p.min_lines}")
        sample = Sample(
            id=hashlib.sha1(f"render:{record.id}".encode()).hexdigest()[:20],
            images=[png_image(page.png, page.width, page.height)],
            messages=qa_messages(page_questions(truth, self._prompt, rng)),
            task="render_page",
            language=p.language,
            metadata={
                "category": TASK_CATEGORY["render_page"],
                "layout": spec.layout,
                "font": spec.font,
                "font_size": spec.font_size,
                "writing_mode": "vertical" if spec.layout == "vertical" else "horizontal",
                "lines_from": "chromium_layout",
                "text": transcription(truth),
                "lines": truth["lines"],
                "blocks": truth["blocks"],
                "prompt_file": f"{p.language}/render_tasks.yaml",
                "prompt_sha256": self._prompt.sha256,
                "source_document": record.id,
            },
            provenance=Provenance(
                source=record.provenance.source,
                license=record.provenance.license,
                record_id=record.id,
                generator="render_pages:chromium",
            ),
        )
        return [sample, record] if p.keep_document else [sample]
