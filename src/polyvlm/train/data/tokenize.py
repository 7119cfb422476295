"""A TrainSample -> token ids, next-token targets and the processor's image tensors.

Each segment goes through PolyVLMProcessor (which expands ``<image>`` into the image's tokens and
returns its tensors) or, without images, the tokenizer. Targets are shifted here, per sample, so a
packed row never asks one sample to predict the next sample's first token: ``targets[i]`` is the
token at ``i + 1`` when that token is supervised, else -100. Image tokens are never targets.
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
    ids: list[int] = []
    labels: list[int] = []
    pieces: dict[str, list[torch.Tensor]] = {}
    for seg in sample.segments:
        if seg.images:
            images = [decode_image(i) for i in seg.images]
            enc = processor(text=seg.text, images=images, max_tiles=max_tiles, padding=False)
            seg_ids = enc["input_ids"][0].tolist()
            for key, value in enc.items():
                if key not in ("input_ids", "attention_mask"):
                    pieces.setdefault(key, []).append(value)
        else:
            seg_ids = tokenizer(seg.text, add_special_tokens=False)["input_ids"]
        ids += seg_ids
        labels += [t if seg.supervised and t not in image_ids else IGNORE for t in seg_ids]
        if len(ids) > max_length:
            raise TooLong(f"sample {sample.id}: more than max_length={max_length} tokens")
    targets = labels[1:] + [IGNORE]
    out = TokenizedSample(
        sample.id, ids, targets, {k: torch.cat(v) for k, v in pieces.items()}, sample.num_images
    )
    if require_supervised and out.supervised == 0:
        raise NoSupervisedTokens(
            f"sample {sample.id}: no supervised token (no assistant turn, or only image tokens); "
            "fix the source record or drop it"
        )
    return out
