"""Packages some scorers need, imported when first used: the registry imports every scorer module, and a
task that never asks for ROUGE-L must not fail because MeCab is missing. A missing package is an
ImportError that says what to install."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

PIP_NAMES = {
    "fugashi": "fugashi unidic-lite",
    "unidic_lite": "unidic-lite",
    "emoji": "emoji",
    "rapidfuzz": "rapidfuzz",
    "sacrebleu": "sacrebleu[ja]",  # ja-mecab tokenizer: mecab-python3 + ipadic
}


@cache
def needed(module: str) -> ModuleType:
    """The module, imported once; ImportError naming the pip package when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package = PIP_NAMES.get(module.split(".")[0], module.split(".")[0])
        raise ImportError(f"this scorer needs the {module} module: pip install {package}") from e
