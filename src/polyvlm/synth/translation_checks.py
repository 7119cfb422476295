"""Verdicts on a finished translation: is it in the target language, of a plausible length, faithful?

Each check returns a drop reason or None. Units are (source, translation) pairs of prose (placeholders
removed). Language id and length ratios are unreliable on a few words ("Oui." reads as Italian), so a
unit is judged only from `min_chars` characters up (of the translation for language id, of the source
for the ratio); when no unit is that long, the record's units are judged joined together.
"""

from __future__ import annotations

from collections.abc import Callable

from polyvlm.synth.char_ngrams import char_ngrams, ngram_f1

Unit = tuple[str, str]  # (source prose, translated prose)


def judged_units(units: list[Unit], min_chars: int, side: int = 1) -> list[Unit]:
    """Units whose source (side 0) or translation (side 1) is long enough to judge; else all joined, or none."""
    long = [u for u in units if len(u[side]) >= min_chars]
    if long:
        return long
    joined = (" ".join(s for s, _ in units), " ".join(t for _, t in units))
    return [joined] if len(joined[side]) >= min_chars else []


def wrong_language(
    units: list[Unit], target: str, detect: Callable[[str], tuple[str, float]], min_chars: int
) -> str | None:
    """`wrong_language:<code>` when a judged translation is identified as another language than target."""
    for _, translated in judged_units(units, min_chars, side=1):
        lang, _ = detect(translated)
        if lang != target:
            return f"wrong_language:{lang or 'unknown'}"
    return None


def length_ratio_off(units: list[Unit], bounds: tuple[float, float], min_chars: int) -> str | None:
    """A `lo<=ratio<=hi` detail when a judged translation is too short or too long for its source, else None."""
    lo, hi = bounds
    # judged by the source's length: a translation collapsed to two words is what this is for
    for source, translated in judged_units(units, min_chars, side=0):
        ratio = len(translated) / len(source)
        if not lo <= ratio <= hi:
            return f"{ratio:.2f} not in [{lo:.2f}, {hi:.2f}]"
    return None


def back_similarity(sources: list[str], back: list[str], n: int = 3) -> float:
    """chrF-like character n-gram F1 between the source texts and their back-translations, joined."""
    return ngram_f1(char_ngrams(" ".join(sources), n), char_ngrams(" ".join(back), n))
