"""synth_ocr: synthdog-style OCR images: target-language text on a generated sheet of paper, photographed badly.

As in SynthDoG (Donut) and LLM-jp VILA's synthdog-ja: a paragraph of corpus text is drawn (Pillow,
Noto CJK) on a paper texture lying on a background, then degraded by perspective, blur, noise and JPEG,
each with its probability. The ground truth is every drawn line with its box (following the
perspective), in reading order; the conversation asks for the transcription or the line after X from
the prompt file's templates. Everything is drawn from a generator seeded by seed and document id.
"""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, ImageRef, Provenance, Record, Sample, qa_messages
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.render import augment
from polyvlm.render.font_files import FontMissing, font_file
from polyvlm.render.page_tasks import line_after, transcription
from polyvlm.render.text_wrap import wrap
from polyvlm.render.textures import background, paper
from polyvlm.synth.categories import TASK_CATEGORY
from polyvlm.synth.prompt_data import PromptData, load_prompt_data


class SynthOcrParams(Params):
    """Parameters of synth_ocr."""

    language: str = "ja"
    """language of the text and of the question templates (prompts/<lang>/render_tasks.yaml)"""
    fonts: list[str] = ["Noto Sans CJK JP", "Noto Serif CJK JP"]
    """font families drawn from (installed, found with fontconfig)"""
    font_sizes: list[int] = [22, 26, 30, 36]
    """font sizes in pixels drawn from"""
    width: int = Field(768, ge=128, le=4096)
    """image width"""
    height: int = Field(768, ge=128, le=4096)
    """image height"""
    max_chars: int = Field(200, ge=10)
    """characters of the document drawn at most (cut at a sentence end where one is near)"""
    perspective: float = Field(0.04, ge=0, le=0.2)
    """largest corner displacement, as a share of the side"""
    p_perspective: float = Field(0.5, ge=0, le=1)
    """probability of a perspective warp"""
    max_blur: float = Field(1.0, ge=0)
    """largest Gaussian blur radius in pixels"""
    p_blur: float = Field(0.5, ge=0, le=1)
    """probability of a blur"""
    max_noise: float = Field(8.0, ge=0)
    """largest sensor-noise sigma in grey levels"""
    p_noise: float = Field(0.5, ge=0, le=1)
    """probability of noise"""
    jpeg_quality: list[int] = [40, 95]
    """range of JPEG qualities drawn from"""
    p_jpeg: float = Field(0.7, ge=0, le=1)
    """probability that the image is stored as JPEG (else PNG)"""
    seed: int = 0
    """draws everything with the document id"""
    prompt_dir: str = ""
    """a folder with your own render_tasks.yaml instead of the shipped one"""
    keep_document: bool = False
    """pass the document on after its sample, for another step that makes samples from it (render_pages then synth_ocr)"""


def excerpt(texts: list[str], max_chars: int) -> str:
    """The document's first max_chars characters, white space collapsed, cut after a sentence end if one is in the last third."""
    text = " ".join(" ".join(texts).split())[:max_chars]
    if len(text) < max_chars:
        return text
    end = max(text.rfind(c) for c in "。．.!?！？")
    return text[: end + 1] if end >= max_chars * 2 // 3 else text


@register
class SynthOcr(ExpandStep):
    """Draw each document's text synthdog-style (paper texture, perspective, blur, noise, JPEG) with line boxes and OCR QA."""

    name = "synth_ocr"
    Params = SynthOcrParams

    def check(self) -> None:
        try:
            for family in self.params.fonts:
                font_file(family)
        except FontMissing as e:
            raise RecipeError(f"step {self.label}: {e}") from None
        self._load_prompt()

    def _load_prompt(self) -> PromptData:
        try:
            return load_prompt_data(self.params.language, "render_tasks", self.params.prompt_dir)
        except FileNotFoundError as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def setup(self) -> None:
        self._prompt = self._load_prompt()

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Document):
            return [record]
        self.ensure_setup()
        p = self.params
        text = excerpt(record.texts, p.max_chars)
        if not text.strip():
            return Drop("no_text")
        rng = random.Random(f"synth_ocr:{p.seed}:{record.id}")
        image, lines, style = self.draw(text, rng)
        if not lines:
            return Drop("too_little_text", "no line fits the page")
        image, lines, data, fmt = self.degrade(image, lines, rng, style)
        truth: dict[str, Any] = {"lines": lines, "blocks": []}
        pairs = [(rng.choice(self._prompt.get("transcribe", list)), transcription(truth))]
        after = line_after(lines, rng)
        if after:
            pairs.append(
                (rng.choice(self._prompt.get("line_after", list)).replace("{line}", after[0]), after[1])
            )
        sample = Sample(
            id=hashlib.sha1(f"synth_ocr:{record.id}".encode()).hexdigest()[:20],
            images=[
                ImageRef(
                    data=data,
                    sha256=hashlib.sha256(data).hexdigest(),
                    width=image.width,
                    height=image.height,
                    format=fmt,
                )
            ],
            messages=qa_messages(pairs),
            task="synth_ocr",
            language=p.language,
            metadata={
                "category": TASK_CATEGORY["synth_ocr"],
                "text": transcription(truth),
                "lines": lines,
                "style": style,
                "lines_from": "drawn",
                "prompt_file": f"{p.language}/render_tasks.yaml",
                "prompt_sha256": self._prompt.sha256,
                "source_document": record.id,
            },
            provenance=Provenance(
                source=record.provenance.source,
                license=record.provenance.license,
                record_id=record.id,
                generator="synth_ocr:pillow",
            ),
        )
        return [sample, record] if p.keep_document else [sample]

    def draw(self, text: str, rng: random.Random) -> tuple[Image.Image, list[dict[str, Any]], dict[str, Any]]:
        """The clean image and its lines (text, box) before any degradation."""
        p = self.params
        family, size = rng.choice(p.fonts), rng.choice(p.font_sizes)
        path, index = font_file(family)
        font = ImageFont.truetype(path, size, index=index)
        image = background(rng, (p.width, p.height))
        # the sheet covers most of the frame, a little askew in position
        mx, my = int(p.width * rng.uniform(0.03, 0.1)), int(p.height * rng.uniform(0.03, 0.1))
        sheet = (
            mx,
            my,
            p.width - int(p.width * rng.uniform(0.03, 0.1)),
            p.height - int(p.height * rng.uniform(0.03, 0.1)),
        )
        image.paste(paper(rng, (sheet[2] - sheet[0], sheet[3] - sheet[1])), sheet[:2])
        pad = int(size * rng.uniform(0.8, 1.5))
        left, top, right, bottom = sheet[0] + pad, sheet[1] + pad, sheet[2] - pad, sheet[3] - pad
        ink = tuple(rng.randint(0, 70) for _ in range(3))
        spacing = size * rng.uniform(1.4, 1.9)
        draw = ImageDraw.Draw(image)
        lines: list[dict[str, Any]] = []
        y = float(top)
        for line in wrap(text, font, right - left):
            if y + size * 1.2 > bottom:
                break  # the rest does not fit the sheet: it is not drawn and not in the ground truth
            draw.text((left, y), line, font=font, fill=ink)
            box = draw.textbbox((left, y), line, font=font)
            lines.append(
                {
                    "text": line,
                    "box": [int(box[0]), int(box[1]), int(box[2]) + 1, int(box[3]) + 1],
                    "block": 1,
                    "role": "paragraph",
                }
            )
            y += spacing
        return image, lines, {"font": family, "font_size": size}

    def degrade(
        self, image: Image.Image, lines: list[dict[str, Any]], rng: random.Random, style: dict[str, Any]
    ) -> tuple[Image.Image, list[dict[str, Any]], bytes, str]:
        """Perspective, blur, noise and JPEG, each by its probability; the boxes follow the perspective."""
        p = self.params
        if rng.random() < p.p_perspective and p.perspective > 0:
            strength = rng.uniform(0, p.perspective)
            image, boxes = augment.perspective(image, [ln["box"] for ln in lines], rng, strength)
            lines = [dict(ln, box=box) for ln, box in zip(lines, boxes, strict=True)]
            style["perspective"] = round(strength, 4)
        if rng.random() < p.p_blur and p.max_blur > 0:
            style["blur"] = round(rng.uniform(0.3, p.max_blur), 3)
            image = augment.blur(image, style["blur"])
        if rng.random() < p.p_noise and p.max_noise > 0:
            style["noise"] = round(rng.uniform(1, p.max_noise), 2)
            image = augment.noise(image, rng, style["noise"])
        buf = io.BytesIO()
        if rng.random() < p.p_jpeg:
            style["jpeg_quality"] = rng.randint(min(p.jpeg_quality), max(p.jpeg_quality))
            image.save(buf, "JPEG", quality=style["jpeg_quality"])
            return image, lines, buf.getvalue(), "jpeg"
        image.save(buf, "PNG")
        return image, lines, buf.getvalue(), "png"
