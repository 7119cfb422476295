"""Helpers for the training tests: small real-shaped samples (noise images, Japanese text)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from polyvlm.train.data.sample import IMAGE_MARK, Segment, TrainSample, chat_segments
from polyvlm.train.data.sources import caption_segments


def noise_png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """Encoded bytes of a reproducible RGB noise image."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def mixed_samples() -> list[TrainSample]:
    """A conversation with an image, a caption pair, a text-only row and a two-turn conversation."""
    return [
        TrainSample(
            "conv-1",
            "conv",
            chat_segments(
                [
                    ("user", IMAGE_MARK + "\nこの写真には何が写っていますか？", [noise_png(seed=1)]),
                    ("assistant", "港区のポイ捨て禁止の看板です。", []),
                ]
            ),
        ),  # fmt: skip
        TrainSample("pair-1", "pairs", caption_segments("夕方の湖と木の桟橋", noise_png(80, 40, seed=2))),
        TrainSample(
            "text-1", "text", [Segment("東京は日本の首都です。人口は約千四百万人です。<|endoftext|>", True)]
        ),
        TrainSample(
            "conv-2",
            "conv",
            chat_segments(
                [
                    ("system", "あなたは親切なアシスタントです。", []),
                    ("user", "こんにちは", []),
                    ("assistant", "こんにちは！何をお手伝いしましょうか。", []),
                    ("user", "天気は？", []),
                    ("assistant", "晴れです。", []),
                ]
            ),
        ),  # fmt: skip
    ]
