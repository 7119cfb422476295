"""The shipped steps and profiles: importing their modules registers them (the registries' table of contents).

core keeps the registries and knows none of their entries; the CLI and the engines call
`load_builtin_steps()` before they read a recipe, so a step is found by its name alone.
"""

# ruff: noqa: F401  (imported for their @register side effect)
from polyvlm.core.step import REGISTRY, Step
from polyvlm.image import (
    assign_images,
    assigned_similarity,
    clip_step,
    cross_doc_dup,
    decode_step,
    doc_near_dup,
    domain_cap,
    encode_step,
    fetch_step,
    image_count,
    nsfw_step,
    pairs,
    phash_dedup,
    scene_text,
    score_percentile,
    sentence_similarity,
    size_filter,
    url_rules,
)
from polyvlm.io import (
    coco_captions,
    conversation_formats,
    html_extract,
    html_files,
    image_files,
    jsonl,
    mmc4_writer,
    obelics_writer,
    parquet,
    pdf_pages,
    table_files,
    vqa_jsonl,
    warc,
    webdataset_writer,
)
from polyvlm.model import token_length
from polyvlm.render import chart_step, chart_writer, ocr_gate, render_step, synth_ocr, table_step
from polyvlm.report import document_profile, pair_profile, sample_profile
from polyvlm.synth import (
    answer_length,
    categories,
    decontaminate,
    instruct,
    license_filter,
    near_dup_questions,
    ocr_photo_data,
    output_language,
    page_qa,
    pair_qa,
    photo_qa,
    photo_text_qa,
    refusal_filter,
    regenerate,
    repeated_ngrams,
    translate,
    translation_targets,
    vqa_to_conv,
)
from polyvlm.text import (
    adult_ja,
    alt_rules,
    exact_dedup,
    frequency_cap,
    harmful_text,
    ja,
    langid,
    length,
    sentence_count,
    sentences,
    whitespace,
)


def load_builtin_steps() -> dict[str, type[Step]]:
    """The registry of steps, with every shipped step (and record profile) registered."""
    return REGISTRY
