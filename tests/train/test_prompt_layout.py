"""One prompt layout for training and inference: a training sample's prompt ids equal what the
processor gives inference for the same conversation, and the sequence start (<|endoftext|>, the
reference's BOS) is at position 0 only, never before each image."""

from __future__ import annotations

import io

import torch
from PIL import Image
from train_fixtures import noise_png

from polyvlm.train.data.sample import IMAGE_MARK, Segment, TrainSample, chat_segments
from polyvlm.train.data.tokenize import tokenize_sample

START = 151643  # <|endoftext|>


def test_a_training_conversation_starts_with_inferences_prompt_ids(processor):
    png = noise_png(90, 60, seed=4)
    question, answer = "この写真には何が写っていますか？", "港区の看板です。"
    sample = TrainSample(
        "c", "conv", chat_segments([("user", IMAGE_MARK + question, [png]), ("assistant", answer, [])])
    )
    train = tokenize_sample(sample, processor, 4096)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    infer = processor(text=prompt, images=[Image.open(io.BytesIO(png))], padding=False)
    ids = infer["input_ids"][0].tolist()
    assert train.input_ids[: len(ids)] == ids
    assert processor.tokenizer.decode(train.input_ids[len(ids) :]) == answer + "<|im_end|>\n"
    assert ids[0] == START and ids.count(START) == 1
    torch.testing.assert_close(train.image_inputs["pixel_values"], infer["pixel_values"], atol=1e-6, rtol=0)


def test_an_interleaved_document_has_one_sequence_start_whatever_its_images(processor):
    segments = []
    for i in range(3):  # the mmc4 shape: each sentence with its image in front
        segments += [Segment(IMAGE_MARK, False, [noise_png(seed=10 + i)]), Segment(f"文{i}です。", True)]
    doc = TrainSample("d", "mmc4", [*segments, Segment("<|endoftext|>", True)])
    tok = tokenize_sample(doc, processor, 8192)
    assert tok.input_ids[0] == START
    assert [i for i, t in enumerate(tok.input_ids) if t == START] == [0, len(tok.input_ids) - 1]
    assert tok.image_inputs["image_grids"].shape == (3, 2)
