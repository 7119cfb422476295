"""ja_adult: drop texts with Japanese adult keywords (HojiChar's DiscardAdultContentJa)."""

from __future__ import annotations

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import FilterStep, Params, register


class JaAdultParams(Params):
    """Parameters of ja_adult."""

    dict_path: str | None = None
    """keyword list, one per line (default: the list HojiChar ships)"""


@register
class JaAdult(FilterStep):
    """Drop texts containing a keyword of HojiChar's Japanese adult list (reason: adult)."""

    name = "ja_adult"
    Params = JaAdultParams

    def setup(self) -> None:
        from hojichar.filters.document_filters import DiscardAdultContentJa

        kwargs = {"dict_path": self.params.dict_path} if self.params.dict_path else {}
        self._filter = DiscardAdultContentJa(**kwargs)

    def check(self) -> None:
        if self.params.dict_path:
            with open(self.params.dict_path, encoding="utf-8"):
                pass  # a missing list stops the run before work, with the path in the message

    def reject(self, record: Record) -> str | None:
        from hojichar import Document

        return "adult" if self._filter.apply(Document(record_text(record))).is_rejected else None
