"""Reading a JSONL file whose every non-blank line is one JSON object (task tables, answer files, logs);
an error names `file:line` and is raised as the caller's own error class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_object_lines(
    path: Path, error: type[Exception], torn_tail_ok: bool = False
) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """Every non-blank line as (line number, object), and whether a torn tail was dropped: with
    `torn_tail_ok`, a last line without its newline that does not parse is left out (True is returned)."""
    rows: list[tuple[int, dict[str, Any]]] = []
    torn = False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read: {e}") from e
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            if torn_tail_ok and n == len(lines):  # no newline after it: the write a kill cut short
                torn = True
                continue
            raise error(f"{path}:{n}: not a JSON object: {e}") from e
        if not isinstance(row, dict):
            raise error(f"{path}:{n}: not a JSON object (got {type(row).__name__})")
        rows.append((n, row))
    return rows, torn
