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
from polyvlm.io import conversation_formats, html_extract, html_files, jsonl, parquet, warc, webdataset_writer
from polyvlm.text import adult_ja, alt_rules, exact_dedup, frequency_cap, ja, langid, length, whitespace
