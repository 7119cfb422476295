"""translation_targets: one copy of each record per target language (an expand step before translate)."""

from __future__ import annotations

import copy

from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import Drop, ExpandStep, Params, register


class TranslationTargetsParams(Params):
    """Parameters of translation_targets."""

    languages: list[str] = Field(min_length=1)
    """target languages: each record is copied once per language, with metadata[key] set to it"""
    key: str = "translate_to"
    """the metadata field the translate steps read (their target_key)"""


@register
class TranslationTargets(ExpandStep):
    """Copy each record once per target language (id suffixed with the language) for per-language translation."""

    name = "translation_targets"
    Params = TranslationTargetsParams

    def expand(self, record: Record) -> list[Record] | Drop:
        copies: list[Record] = []
        for language in self.params.languages:
            twin = copy.deepcopy(record)
            twin.id = f"{record.id}-{language}"
            twin.metadata[self.params.key] = language
            copies.append(twin)
        return copies
