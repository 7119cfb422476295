"""Import every module that registers shipped steps (the registry's table of contents)."""

from polyvlm.io import html_extract, html_files, jsonl, parquet, warc, webdataset_writer  # noqa: F401
from polyvlm.text import exact_dedup, langid, length  # noqa: F401
