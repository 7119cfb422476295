"""SRC's tokenizer read from its files alone: no Auto class, so nothing of SRC's code is run or offered.

``AutoTokenizer.from_pretrained(src)`` on a checkpoint whose config carries an ``auto_map`` asks
whether to run the checkpoint's own Python (and runs it on "y"). The converter needs only the vocabulary,
the special tokens and the chat template, all of which are data: ``tokenizer.json`` (the vocabulary,
merges and added tokens), ``tokenizer_config.json`` (which tokens are BOS / EOS / PAD, the length, maybe
the template), ``chat_template.jinja`` or ``chat_template.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers import PreTrainedTokenizerFast

from polyvlm.model.jina_layout import ConversionError

_SPECIAL = ("bos_token", "eos_token", "pad_token", "unk_token")


def _token(value) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or an AddedToken dict."""
    return value.get("content") if isinstance(value, dict) else value


def source_chat_template(src: Path, tokenizer_config: dict) -> str | None:
    """SRC's chat template, from the file transformers writes it to or from tokenizer_config.json."""
    for name in ("chat_template.jinja", "chat_template.json"):
        file = src / name
        if file.is_file():
            text = file.read_text(encoding="utf-8")
            return json.loads(text).get("chat_template") if name.endswith(".json") else text
    template = tokenizer_config.get("chat_template")
    return template if isinstance(template, str) else None  # a list of named templates: not ours to pick


def read_tokenizer(src: Path) -> PreTrainedTokenizerFast | None:
    """SRC's fast tokenizer built from tokenizer.json, or None when SRC carries no tokenizer."""
    file, config_file = src / "tokenizer.json", src / "tokenizer_config.json"
    if not file.is_file():
        if config_file.is_file():
            raise ConversionError(
                f"{src} has tokenizer_config.json but no tokenizer.json (only fast tokenizers)"
            )
        return None
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    specials = {k: _token(config[k]) for k in _SPECIAL if config.get(k) is not None}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(file),
        model_max_length=config.get("model_max_length", int(1e30)),
        padding_side="left",  # PolyVLM's processor pads on the left, so a batch generates directly
        **specials,
    )
    tokenizer.chat_template = source_chat_template(src, config)
    return tokenizer
