"""alt_text_rules: alt-text rules for languages written in the Latin script (fr, de, it, es, en)."""

from __future__ import annotations

import re

from polyvlm.core.records import Record, record_text
from polyvlm.core.step import FilterStep, Params, register

# Alt texts that name the kind of thing rather than describe it; matched on the whole text, lower-cased,
# with trailing digits and punctuation removed ("Photo 3", "Bild:", "image-12").
PLACEHOLDERS: dict[str, set[str]] = {
    "en": {"image", "photo", "picture", "pic", "img", "logo", "icon", "banner", "thumbnail", "untitled",
           "placeholder", "featured image", "image description", "alt", "alt text", "screenshot", "graphic"},
    "fr": {"image", "photo", "illustration", "logo", "icône", "vignette", "bannière", "sans titre",
           "capture d'écran", "image à la une", "visuel"},
    "de": {"bild", "foto", "grafik", "abbildung", "logo", "symbolbild", "icon", "banner", "vorschaubild",
           "ohne titel", "bildschirmfoto", "beitragsbild", "titelbild"},
    "it": {"immagine", "foto", "fotografia", "logo", "icona", "banner", "anteprima", "senza titolo",
           "immagine in evidenza", "schermata"},
    "es": {"imagen", "foto", "fotografía", "logo", "icono", "banner", "miniatura", "sin título",
           "imagen destacada", "captura de pantalla"},
}  # fmt: skip
MIN_WORDS = {"en": 3, "fr": 3, "de": 2, "it": 3, "es": 3}  # German compounds pack more into a word
_TRAILING = re.compile(r"[\s\d\W_]+$")
_FILE_NAME = re.compile(
    r"\.(jpe?g|png|gif|webp|bmp|tiff?|svg)$"  # ends like a file name
    r"|^(img|dsc|dscn|dscf|dcim|pict|p|photo|image|screenshot|capture|bildschirmfoto|wp)[-_ ]?\d{2,}"
    r"|^\d{8}[-_ ]?\d{4,6}"  # camera timestamps: 20150120_181233
    r"|^[0-9a-f]{16,}$"  # hashes
    r"|^[\w-]*_[\w-]*_[\w-]*$",  # snake_case_slugs_without_spaces
    re.I,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


class AltTextRulesParams(Params):
    """Parameters of alt_text_rules."""

    language: str = "auto"
    """the rule set: en, fr, de, it, es, or auto (each record's language, as language_id labelled it);
    other languages get the language-neutral rules only"""
    min_words: int | None = None
    """words (two or more letters) needed; default per language (de 2, others 3)"""
    max_chars: int = 500
    """longer alt texts are usually keyword stuffing (reason: too_long)"""


def placeholder_key(text: str) -> str:
    """The text lower-cased without trailing digits and punctuation, as placeholders are matched."""
    return _TRAILING.sub("", text.lower().strip())


@register
class AltTextRules(FilterStep):
    """Per-language alt-text rules: placeholders, file-name-like texts, too few words, too long."""

    name = "alt_text_rules"
    Params = AltTextRulesParams

    def reject(self, record: Record) -> str | None:
        p = self.params
        language = getattr(record, "language", "") if p.language == "auto" else p.language
        text = record_text(record).strip()
        if len(text) > p.max_chars:
            return "too_long"
        if placeholder_key(text) in PLACEHOLDERS.get(language, set()) | PLACEHOLDERS["en"]:
            return "placeholder"
        if _FILE_NAME.search(text):
            return "file_name"
        min_words = p.min_words if p.min_words is not None else MIN_WORDS.get(language, 3)
        if len(_WORD.findall(text)) < min_words:
            return "too_few_words"
        return None
