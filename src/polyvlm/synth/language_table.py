"""What the synthesis steps know per language: its English name, its text density, whether it spaces words."""

from __future__ import annotations

# characters needed per character of English for the same content: rough corpus averages
# (Romance and German run ~10-25% longer; CJK scripts pack a word into one or two characters)
DENSITY: dict[str, float] = {
    "en": 1.0,
    "fr": 1.18,
    "de": 1.2,
    "it": 1.12,
    "es": 1.15,
    "pt": 1.12,
    "nl": 1.15,
    "ru": 1.1,
    "pl": 1.1,
    "sv": 1.0,
    "ja": 0.45,
    "zh": 0.32,
    "ko": 0.5,
}

NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "es": "Spanish",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ru": "Russian",
    "pl": "Polish",
    "sv": "Swedish",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
}

# scripts written without spaces between words: repetition is measured on characters there
UNSPACED = frozenset({"ja", "zh", "th", "lo", "km", "my"})


def language_name(code: str) -> str:
    """The English name of a language code, for prompts (the code itself when unknown)."""
    return NAMES.get(code, code)


def length_ratio_bounds(source: str, target: str, tolerance: float) -> tuple[float, float]:
    """Accepted (low, high) of len(translation) / len(source) in characters, tolerance× around the norm."""
    expected = DENSITY.get(target, 1.0) / DENSITY.get(source, 1.0)
    return expected / tolerance, expected * tolerance


def is_unspaced(language: str, text: str = "") -> bool:
    """Whether a text's words are not separated by spaces (by language, else by its share of CJK)."""
    if language:
        return language in UNSPACED
    letters = [c for c in text if c.isalpha()]
    cjk = sum(1 for c in letters if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff")
    return bool(letters) and cjk / len(letters) >= 0.3
