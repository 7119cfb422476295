"""ja_adult: drop texts with Japanese adult keywords (HojiChar's list, matched by text/ja_keywords.py)."""

from __future__ import annotations

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.text.ja_keywords import hojichar_list, keyword_pattern


class JaAdultParams(Params):
    """Parameters of ja_adult."""

    dict_path: str | None = None
    """keyword list, one per line (default: the list HojiChar ships)"""
    ignore_confused: bool = True
    """a katakana keyword counts only when no katakana touches it, a Latin one only when no Latin letter or digit does (SM in SMS is no hit)"""


@register
class JaAdult(FilterStep):
    """Drop texts containing a keyword of HojiChar's Japanese adult list (reason: adult)."""

    name = "ja_adult"
    Params = JaAdultParams

    def setup(self) -> None:
        path = self.params.dict_path or hojichar_list("adult_keywords_ja.txt")
        self._pattern = keyword_pattern(path, self.params.ignore_confused)

    def check(self) -> None:
        if self.params.dict_path:
            with open(self.params.dict_path, encoding="utf-8"):
                pass  # a missing list stops the run before work, with the path in the message

    def reject(self, record: Record) -> str | None:
        return "adult" if self._pattern.search(record_text(record)) else None
