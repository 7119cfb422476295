"""PolyVLM on CPU: forward latency with 2x2 attention pooling vs without (MLP connector), and image-processor throughput.

Forward: one 1176x910 image (pixel budget: 1134x868, 3x4 tiles + thumbnail = 13 crops) and a short
question, the prefill forward of generate() (no grad, logits of the last position only), for two
models that differ only in the connector: ``attention_pool`` (each tile pooled on its own, 1,744
image tokens, the released jina-vlm layout) and ``mlp`` (no pooling, 6,285 image tokens).
Both are randomly initialised from the same config sizes and run in the same process, alternating,
so they see the same machine state. The vision tower's share is timed on its own.
Image processor: PolyVLMImageProcessor on 1176x910 RGB images (pixel-budget resize, grid choice, resize
to the span, 13 crops, SigLIP normalisation) into float32 arrays, one process.

Run: .venv/bin/python benchmarks/model_forward.py [--size tiny|small] [--reps 5] [--images 100]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch
import transformers
from PIL import Image
from transformers.utils import logging

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.tiny import TINY_TEXT, TINY_VISION, tiny_processor
from polyvlm.model.tokenizer import add_image_tokens, build_qwen_tokenizer

SIZES = {
    "tiny": (TINY_VISION, TINY_TEXT),  # the test model: 10x32 SigLIP, 2x32 Qwen3
    "small": (
        {**TINY_VISION, "hidden_size": 192, "intermediate_size": 768, "num_hidden_layers": 12, "num_attention_heads": 3},
        {**TINY_TEXT, "hidden_size": 512, "intermediate_size": 1536, "num_hidden_layers": 8,
         "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 64},
    ),
}  # fmt: skip
WIDTH, HEIGHT = 1176, 910
QUESTION = "<|im_start|>user\n<image>この画像について説明してください。<|im_end|>\n<|im_start|>assistant\n"


def build(size: str, connector: str, tokenizer) -> PolyVLMForConditionalGeneration:
    """A random PolyVLM of the given size and connector."""
    vision, text = SIZES[size]
    config = PolyVLMConfig(
        vision_config=dict(vision),
        text_config={**text, "vocab_size": len(tokenizer)},
        connector=connector,
        **add_image_tokens(tokenizer),
    )
    torch.manual_seed(0)
    return PolyVLMForConditionalGeneration(config).eval()


def image(seed: int = 0) -> Image.Image:
    """A reproducible 1176x910 noise photo stand-in (the processor's cost does not depend on content)."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))


def time_call(fn, reps: int) -> list[float]:
    """Wall seconds of ``reps`` calls after one warm-up call."""
    fn()
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def forward_latency(size: str, reps: int) -> dict:
    """Median prefill latency per connector, plus the vision tower alone."""
    tokenizer = build_qwen_tokenizer()
    models, inputs = {}, {}
    for connector, pool in (("attention_pool", 2), ("mlp", 1)):
        models[connector] = build(size, connector, tokenizer)
        inputs[connector] = tiny_processor(tokenizer, pool_size=pool)(text=QUESTION, images=[image()])
    results = {c: {"tokens": int(inputs[c]["input_ids"].shape[1]), "seconds": []} for c in models}
    with torch.inference_mode():
        for connector in models:  # warm-up both before timing either
            models[connector](**inputs[connector], logits_to_keep=1)
        for _ in range(reps):  # alternate so drift in machine load hits both alike
            for connector, model in models.items():
                start = time.perf_counter()
                model(**inputs[connector], logits_to_keep=1)
                results[connector]["seconds"].append(time.perf_counter() - start)
        pixels = inputs["attention_pool"]["pixel_values"]
        tower = models["attention_pool"].vision_tower
        vision = time_call(lambda: tower(pixels, output_hidden_states=True), reps)
    for r in results.values():
        r["median_s"] = statistics.median(r["seconds"])
    return {
        "size": size,
        "crops": int(pixels.shape[0]),
        "vision_median_s": statistics.median(vision),
        **results,
    }


def processor_throughput(n_images: int) -> dict:
    """Images per second of the image processor at 1176x910 (12-tile budget)."""
    proc = PolyVLMImageProcessor()
    images = [image(seed) for seed in range(min(n_images, 8))]
    proc(images[0], return_tensors="np")  # warm-up
    start = time.perf_counter()
    for i in range(n_images):
        out = proc(images[i % len(images)], return_tensors="np")
    seconds = time.perf_counter() - start
    return {"images": n_images, "seconds": seconds, "images_per_s": n_images / seconds,
            "crops_per_image": int(out["pixel_values"].shape[0])}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--reps", type=int, default=5, help="timed forwards per connector (median reported)")
    parser.add_argument("--images", type=int, default=100, help="images through the image processor")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    logging.set_verbosity_error()
    logging.disable_progress_bar()

    fwd = forward_latency(args.size, args.reps)
    ip = processor_throughput(args.images)
    pooled, plain = fwd["attention_pool"], fwd["mlp"]
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, transformers {transformers.__version__}")  # fmt: skip
    print(
        f"forward ({args.size} config, {WIDTH}x{HEIGHT} image, {fwd['crops']} crops, median of {args.reps}):"
    )
    print(f"  vision tower alone           {fwd['vision_median_s'] * 1e3:9.1f} ms")
    print(
        f"  2x2 attention pooling        {pooled['median_s'] * 1e3:9.1f} ms  ({pooled['tokens']:,} prompt tokens)"
    )
    print(
        f"  no pooling (MLP connector)   {plain['median_s'] * 1e3:9.1f} ms  ({plain['tokens']:,} prompt tokens)"
    )
    print(f"  no pooling / pooling         {plain['median_s'] / pooled['median_s']:9.2f}x time, "
          f"{plain['tokens'] / pooled['tokens']:.2f}x tokens")  # fmt: skip
    print(f"image processor ({WIDTH}x{HEIGHT}, {ip['crops_per_image']} crops each): "
          f"{ip['images_per_s']:.1f} images/s ({ip['images']} images in {ip['seconds']:.1f} s)")  # fmt: skip
    if args.json:
        print(json.dumps({"forward": fwd, "image_processor": ip}, indent=2))


if __name__ == "__main__":
    main()
