"""Import every module that registers shipped steps (the registry's table of contents)."""

# ruff: noqa: F401  (imported for their @register side effect)
from polyvlm.image import (
    clip_step,
    decode_step,
    domain_cap,
    encode_step,
    fetch_step,
    nsfw_step,
    pairs,
    phash_dedup,
    score_percentile,
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
    parquet,
    vqa_jsonl,
    warc,
    webdataset_writer,
)
from polyvlm.synth import (
    answer_length,
    decontaminate,
    instruct,
    license_filter,
    near_dup_questions,
    output_language,
    photo_qa,
    refusal_filter,
    regenerate,
    repeated_ngrams,
    translate,
    translation_targets,
    vqa_to_conv,
)
from polyvlm.text import adult_ja, alt_rules, exact_dedup, frequency_cap, ja, langid, length, whitespace
