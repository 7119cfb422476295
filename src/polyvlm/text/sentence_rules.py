"""Sentence splitters (bunkai for Japanese, pysbd for others, a regex where pysbd has no rules) and the repair rules."""

from __future__ import annotations

import importlib
import re
import sys
import types
import unicodedata
from collections.abc import Callable
from functools import cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

Splitter = Callable[[str], list[str]]

# the fallback for languages pysbd has no rules for: a run of terminal marks (and closing quotes or
# brackets) followed by white space ends a sentence; abbreviations are not known, so "Dr. X" splits
_FALLBACK_BOUNDARY = re.compile(r"[.!?。！？…‼⁇⁈⁉]+[\"'”’»)\]）」』】]*\s+")
_LINEBREAKS = re.compile(r"\s*\n\s*")


def _import_bunkai() -> type:
    """bunkai's rule-based splitter class, importable beside transformers 5 (see the comment inside)."""
    try:
        from bunkai import Bunkai
    except ImportError:
        # bunkai imports its optional line-break model's module whenever torch and transformers are
        # installed, and that module needs a transformers 4 name (WordpieceTokenizer). The rule-based
        # mode never uses that model, so a placeholder module stands in for it and bunkai loads.
        for name in [m for m in sys.modules if m == "bunkai" or m.startswith("bunkai.")]:
            del sys.modules[name]
        lb_name = "bunkai.algorithm.bunkai_sbd.annotator.linebreak_annotator"
        stub = types.ModuleType(lb_name)

        class LinebreakAnnotator:
            def __init__(self, *, path_model: object) -> None:
                raise RuntimeError(
                    "bunkai's line-break model is not supported by polyvlm (rule-based mode only)"
                )

        stub.LinebreakAnnotator = LinebreakAnnotator  # type: ignore[attr-defined]
        sys.modules[lb_name] = stub
        Bunkai = importlib.import_module("bunkai").Bunkai
    return Bunkai


@cache
def japanese_splitter() -> Splitter:
    """bunkai in its rule-based mode (no model file, no download); built once per process."""
    bunkai = _import_bunkai()()
    return lambda text: list(bunkai(text))


@cache
def other_splitter(language: str) -> Splitter:
    """pysbd's rules for a language it knows, else the documented regex splitter."""
    if language in LANGUAGE_CODES:
        segmenter = pysbd.Segmenter(language=language, clean=False, char_span=False)
        # pysbd does not break at line ends; a line break in a segment is a list item or a heading
        return lambda text: [s for line in _LINEBREAKS.split(text) for s in segmenter.segment(line)]
    return lambda text: [s for line in _LINEBREAKS.split(text) for s in regex_sentences(line)]


def regex_sentences(text: str) -> list[str]:
    """Cut after each run of terminal marks (with its closing quotes) that white space follows."""
    cuts = [m.end() for m in _FALLBACK_BOUNDARY.finditer(text)]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if a < b]


def splitter_for(language: str) -> Splitter:
    """The sentence splitter of a language code (ja → bunkai; others → pysbd or the regex)."""
    return japanese_splitter() if language == "ja" else other_splitter(language)


def is_closing(char: str) -> bool:
    """A closing bracket or final quotation mark (」』）)】］”’» ...: Unicode categories Pe and Pf)."""
    return unicodedata.category(char) in ("Pe", "Pf")


def is_symbols_only(sentence: str) -> bool:
    """True when a sentence has no letter or digit of any script (no digits, Latin, kana, kanji ...)."""
    return not any(c.isalnum() for c in sentence)


def repair(sentences: list[str]) -> list[str]:
    """Move closing brackets that open a sentence to the previous one, then join symbol-only sentences to it."""
    # pieces keep their own white space (bunkai and pysbd return the text as written), so joining two
    # pieces is plain concatenation and a space that stood between them stays; strip only at the end
    moved: list[str] = []
    for piece in sentences:
        if moved:
            body = piece.lstrip()
            k = 0
            while k < len(body) and is_closing(body[k]):
                k += 1
            if k:
                cut = len(piece) - len(body) + k
                moved[-1] += piece[:cut]
                piece = piece[cut:]
        if piece.strip():
            moved.append(piece)
    joined: list[str] = []
    pending = ""  # symbol-only text before the first real sentence: it goes in front of that sentence
    for piece in moved:
        if not is_symbols_only(piece):
            joined.append(pending + piece)
            pending = ""
        elif joined:
            joined[-1] += piece
        else:
            pending += piece
    if pending:  # a segment of symbols only stays one "sentence": dropping text is not this step's job
        joined.append(pending)
    return [s.strip() for s in joined]
