"""prediction.jsonl as an append-only log: every answer is written and flushed the moment it arrives, so a
killed run keeps what it was given; the re-run reads the log and asks only for the rest.

A line is `{question_id, text, answer, input_text}` (llm-jp-eval-mm's columns) plus `error` when the
model call failed; the last line of a question id wins, and a failed one is asked again on re-run. A line
cut short by a kill is dropped (and the file truncated to its last whole line) before appending.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from polyvlm.eval.answer_files import read_answer_file
from polyvlm.eval.items import EvalItem, Prediction


def reference_text(item: EvalItem) -> str | list[str] | None:
    """The item's reference as written to prediction.jsonl's `answer` column."""
    return list(item.reference) if isinstance(item.reference, tuple) else item.reference


def read_predictions(path: Path) -> dict[str, Prediction]:
    """The log's predictions by question id (last line wins; a torn last line is ignored; any other bad
    line is an error with file:line), read through the one answers reader."""
    if not path.is_file():
        return {}
    return read_answer_file(path, answer_field="text", torn_tail_ok=True).answers


def _drop_torn_tail(path: Path) -> None:
    """Truncate the file after its last newline (a write cut short by a kill)."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        pos = size
        while pos > 0:
            step = min(4096, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            k = chunk.rfind(b"\n")
            if k >= 0:
                pos = pos - step + k + 1
                break
            pos -= step
        if pos != size:
            f.truncate(pos)


class PredictionLog:
    """Appends one line per prediction and flushes it (a SIGKILL loses at most the line being written)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_tail(path)
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def append(self, item: EvalItem, prediction: Prediction) -> None:
        """Write one prediction now."""
        row: dict[str, Any] = {
            "question_id": prediction.question_id,
            "text": prediction.text,
            "answer": reference_text(item),
            "input_text": prediction.input_text or item.prompt,
        }
        if prediction.error:
            row["error"] = prediction.error
        self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
