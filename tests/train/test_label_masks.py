"""Label masks: loss on assistant tokens of conversations, on text of captions and documents, never on
image tokens; a sample with nothing to learn is an error naming it."""

from __future__ import annotations

import pytest
from train_fixtures import mixed_samples, noise_png

from polyvlm.model.tokenizer import IMAGE_TOKENS
from polyvlm.train.data.sample import IMAGE_MARK, Segment, TrainSample, chat_segments
from polyvlm.train.data.tokenize import IGNORE, NoSupervisedTokens, TooLong, tokenize_sample


def supervised_text(tok, processor) -> str:
    # targets[i] is the token at i + 1: the supervised tokens are the kept targets themselves
    return processor.tokenizer.decode([t for t in tok.targets if t != IGNORE])


def test_conversation_supervises_assistant_turns_and_their_end_only(processor):
    conv = mixed_samples()[3]
    tok = tokenize_sample(conv, processor, 4096)
    assert (
        supervised_text(tok, processor)
        == "こんにちは！何をお手伝いしましょうか。<|im_end|>晴れです。<|im_end|>"
    )
    assert tok.targets[-1] == IGNORE and len(tok.targets) == len(tok.input_ids)


def test_image_tokens_are_never_targets_and_image_tensors_come_through(processor):
    conv, pair = mixed_samples()[:2]
    image_ids = set(processor.tokenizer.convert_tokens_to_ids(list(IMAGE_TOKENS.values())))
    for sample, expected in (
        (conv, "港区のポイ捨て禁止の看板です。<|im_end|>"),
        (pair, "夕方の湖と木の桟橋<|endoftext|>"),
    ):
        tok = tokenize_sample(sample, processor, 4096)
        assert supervised_text(tok, processor) == expected
        assert any(t in image_ids for t in tok.input_ids)
        assert not any(t in image_ids for t in tok.targets)
        assert tok.image_inputs["pixel_values"].shape[0] >= 1 and tok.image_inputs["image_grids"].shape == (
            1,
            2,
        )


def test_an_image_inside_a_supervised_segment_still_carries_no_loss(processor):
    doc = TrainSample("doc", "d", [Segment("写真です" + IMAGE_MARK + "の説明", True, [noise_png()])])
    tok = tokenize_sample(doc, processor, 4096)
    text = supervised_text(tok, processor)
    # the first token has no predecessor to predict it; every other text token is a target
    assert text.endswith("です の説明".replace(" ", "")) and "<im_" not in text
    image_ids = set(processor.tokenizer.convert_tokens_to_ids(list(IMAGE_TOKENS.values())))
    assert not any(t in image_ids for t in tok.targets)


def test_no_supervised_token_is_an_error_with_the_id(processor):
    no_answer = TrainSample(
        "llava-42", "conv", chat_segments([("user", IMAGE_MARK + "説明して", [noise_png()])])
    )
    with pytest.raises(NoSupervisedTokens, match="llava-42"):
        tokenize_sample(no_answer, processor, 4096)
    with pytest.raises(TooLong, match="conv-2"):
        tokenize_sample(mixed_samples()[3], processor, 10)
