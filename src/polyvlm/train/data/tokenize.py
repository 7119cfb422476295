"""A TrainSample -> token ids, next-token targets and the processor's image tensors.

The sample's prompt is laid out by the same code inference uses (``PolyVLMProcessor``): its images go
through the image processor together, each ``<image>`` is expanded by ``processor.expand_images``, the
processor's ``sequence_start`` goes once in front of the whole sample (where the reference puts its
BOS, never before each image), and the whole text is tokenised in one call, as inference tokenises its
prompt; so a conversation's prompt ids equal inference's. A token carries loss when it starts inside a
supervised segment (character offsets). Targets are shifted here, per sample, so a packed row never
asks one sample to predict the next sample's first token: ``targets[i]`` is the token at ``i + 1`` when
that token is supervised, else -100. Image tokens are never targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from polyvlm.model.tokenizer import IMAGE_TOKENS
from polyvlm.train.data.sample import TrainSample
from polyvlm.train.data.sources import decode_image

IGNORE = -100


class NoSupervisedTokens(ValueError):
    """A sample whose every target is masked: it would train on nothing (LLaVA's silent zero loss)."""


class TooLong(ValueError):
    """A sample longer than the configured max_length (cut, its image tokens would no longer match)."""


@dataclass
class TokenizedSample:
    """Token ids, shifted targets, and the processor's other tensors for this sample's images."""

    id: str
    input_ids: list[int]
    targets: list[int]
    image_inputs: dict[str, torch.Tensor] = field(default_factory=dict)
    num_images: int = 0

    @property
    def supervised(self) -> int:
        """How many targets carry loss."""
        return sum(t != IGNORE for t in self.targets)


def tokenize_sample(
    sample: TrainSample,
    processor,
    max_length: int,
    max_tiles: int | None = None,
    require_supervised: bool = True,
) -> TokenizedSample:
    """Tokenise ``sample``; raises NoSupervisedTokens or TooLong (with the sample's id) when it cannot train."""
    tokenizer = processor.tokenizer
    image_ids = set(tokenizer.convert_tokens_to_ids(list(IMAGE_TOKENS.values())))
    marks = sum(seg.text.count(processor.image_placeholder) for seg in sample.segments)
    if marks != sample.num_images:
        raise ValueError(
            f"sample {sample.id}: {marks} '{processor.image_placeholder}' marks but {sample.num_images} images"
        )
    images = [decode_image(i) for seg in sample.segments for i in seg.images]
    image_inputs: dict[str, torch.Tensor] = {}
    grids: list[tuple[int, int]] = []
    if images:
        image_inputs = dict(processor.image_processor(images, max_tiles=max_tiles, return_tensors="pt"))
        grids = [tuple(g) for g in image_inputs["image_grids"].tolist()]
    layouts = iter(grids)
    text, supervised_spans = processor.sequence_start or "", []
    for seg in sample.segments:
        piece = processor.expand_images(seg.text, layouts)
        if seg.supervised:
            supervised_spans.append((len(text), len(text) + len(piece)))
        text += piece
    enc = tokenizer(text, return_offsets_mapping=True)
    ids: list[int] = enc["input_ids"]
    if len(ids) > max_length:
        raise TooLong(f"sample {sample.id}: {len(ids)} tokens, more than max_length={max_length}")
    labels = [
        t if t not in image_ids and any(a <= start < b for a, b in supervised_spans) else IGNORE
        for t, (start, _) in zip(ids, enc["offset_mapping"], strict=True)
    ]
    targets = labels[1:] + [IGNORE]
    out = TokenizedSample(sample.id, ids, targets, image_inputs, sample.num_images)
    if require_supervised and out.supervised == 0:
        raise NoSupervisedTokens(
            f"sample {sample.id}: no supervised token (no assistant turn, or only image tokens); "
            "fix the source record or drop it"
        )
    return out
