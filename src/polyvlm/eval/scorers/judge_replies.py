"""Strict readers of judge replies: a score, or None — never a default number.

The anchors turn a reply they cannot read into -1 or 0 and average it in; here a None makes the item
`judge_unparsable`, left out of the mean and counted. Every reader normalises with NFKC first (a
judge writing "Score：４" means 4) and then accepts only what its prompt asked for:

- `parse_score_line`: the 1-5 judge's "Score: X" — every "Score:" in the reply must give the same
  integer in range; "Score: 4.5", "Score: 6", "4" alone, or two different scores are unparsable.
- `parse_first_line_pair`: the pairwise judge's first line of exactly two numbers (space or comma
  separated), each within 1-10 — "8 7", "8, 7", "8.5 7".
- `parse_score_json`: a JSON object (bare or in a ```json fence) with integer `score_gpt` and `score`
  within 1-10; a float, a string or a missing key is unparsable.
- `parse_correct_verdict`: the binary grader's "correct: yes" / "correct: no" — every such line must
  agree; none, or a yes beside a no, is unparsable.
"""

from __future__ import annotations

import json
import re
import unicodedata

_SCORE = re.compile(r"score\s*:\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_VERDICT = re.compile(r"(?<![\w-])correct\s*:\s*\**\s*(yes|no)\b", re.IGNORECASE)


def parse_score_line(reply: str, low: int = 1, high: int = 5) -> int | None:
    """The integer of the reply's "Score: X", when every such mention agrees and lies in [low, high]."""
    found = _SCORE.findall(unicodedata.normalize("NFKC", reply))
    if not found or len(set(found)) != 1 or not found[0].isdigit():
        return None
    value = int(found[0])
    return value if low <= value <= high else None


def parse_first_line_pair(reply: str, low: float = 1, high: float = 10) -> tuple[float, float] | None:
    """The two scores on the reply's first line (Assistant 1, Assistant 2), or None."""
    text = unicodedata.normalize("NFKC", reply).strip()
    if not text:
        return None
    parts = text.splitlines()[0].replace(",", " ").split()
    if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
        return None
    a, b = float(parts[0]), float(parts[1])
    return (a, b) if low <= a <= high and low <= b <= high else None


def parse_score_json(reply: str, low: int = 1, high: int = 10) -> tuple[int, int] | None:
    """(score_gpt, score) from the reply's JSON object, or None."""
    text = unicodedata.normalize("NFKC", reply)
    candidates = _FENCE.findall(text) or _OBJECT.findall(text)
    for candidate in candidates:
        try:
            data = json.loads(candidate.strip())
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        ref, model = data.get("score_gpt"), data.get("score")
        if all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in (ref, model)):
            return ref, model  # type: ignore[return-value]
    return None


def parse_correct_verdict(reply: str) -> bool | None:
    """True for "correct: yes", False for "correct: no"; None when absent or contradictory."""
    found = {v.lower() for v in _VERDICT.findall(unicodedata.normalize("NFKC", reply))}
    return None if len(found) != 1 else found == {"yes"}
