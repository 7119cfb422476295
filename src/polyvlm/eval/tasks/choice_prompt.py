"""Multiple-choice items: option letters, the prompt block, the answer instruction per language, rotations."""

from __future__ import annotations

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# "answer with the letter" in the item's language; other languages get the English one (recorded in meta)
ANSWER_WITH_LETTER = {
    "en": "Answer with the option's letter from the given choices directly.",
    "ja": "与えられた選択肢の中から最も適切な回答のアルファベットを直接記入してください。",
    "fr": "Répondez directement avec la lettre de l'option parmi les choix proposés.",
    "de": "Antworten Sie direkt mit dem Buchstaben der richtigen Option.",
    "it": "Rispondi direttamente con la lettera dell'opzione tra le scelte date.",
    "es": "Responde directamente con la letra de la opción entre las opciones dadas.",
}


def instruction(language: str) -> str:
    """The answer-with-a-letter instruction in `language` (English when there is none)."""
    return ANSWER_WITH_LETTER.get(language, ANSWER_WITH_LETTER["en"])


def lettered(options: list[str]) -> dict[str, str]:
    """Options as {A: first, B: second, ...}."""
    if len(options) > len(LETTERS):
        raise ValueError(f"{len(options)} options: more than {len(LETTERS)} letters")
    return {LETTERS[i]: str(o) for i, o in enumerate(options)}


def options_block(choices: dict[str, str]) -> str:
    """`A. text` lines, one per option, in letter order."""
    return "\n".join(f"{letter}. {text}" for letter, text in choices.items())


def rotate(choices: dict[str, str], answer: str, shift: int) -> tuple[dict[str, str], str]:
    """The options moved `shift` places (option i shows at letter i - shift) and the answer's new letter."""
    letters = list(choices)
    texts = [choices[k] for k in letters]
    n = len(texts)
    rotated = {letters[i]: texts[(i + shift) % n] for i in range(n)}
    return rotated, letters[(letters.index(answer) - shift) % n]
