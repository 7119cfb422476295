"""Training throughput on CPU: packed vs padded micro-batches of the same samples, in the same run.

The length mix is realistic for VLM training: short image-caption pairs (one image, a caption) and
long text conversations (several turns, 600-1500 tokens), half each, shuffled with a fixed seed. All
samples are tokenised first (the real processor and Qwen tokenizer); what is timed is the training
step of polyvlm's loop: collate (packed into rows of --max-length, or one sample per padded row),
forward, loss on supervised tokens, backward and the AdamW step. Tokens/s counts real tokens only;
tokens per CPU-second (this process's CPU time, all its threads) is printed beside it because on a
shared machine wall time moves with other people's load.
Attention: ``--attention segments`` (default, as training runs) calls sdpa once per sample, so neither a
packed row's crossing pairs nor a padded row's padding are attended; ``--attention sdpa`` uses the
block-diagonal 4D mask over whole rows (the earlier path).
Loss: both paths run in the same process, on the same samples: ``chunked`` (training's path since
issue 22: the head and cross-entropy at supervised positions in chunks, gradients taken in the
forward) and ``full`` (the path before: all supervised positions' logits at once, autograd's
cross-entropy), so their ratio is measured under the same load.

Models: the tiny random PolyVLM (32-wide) and a "small" one (SigLIP 128-wide x 10 layers, Qwen3
256-wide x 4 layers), both with the real 151k vocabulary.

Run: .venv/bin/python benchmarks/train_step.py [--micro 8] [--steps 6] [--models tiny,small]
Goals (issue 11): padding < 5% packed; packed >= 1.5x the padded tokens/s. Issue 22: packed / padded
>= 1.5x on tiny and small, small's packed tokens per CPU-second >= 2x the full-logits path's.
No asserts: figures are printed.
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import statistics
import time

import numpy as np
import torch
from PIL import Image

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.tiny import TINY_TEXT, TINY_VISION, tiny_model, tiny_processor
from polyvlm.model.tokenizer import add_image_tokens
from polyvlm.train.data.packing import collate
from polyvlm.train.data.sample import TrainSample, chat_segments
from polyvlm.train.data.sources import caption_segments
from polyvlm.train.data.tokenize import tokenize_sample
from polyvlm.train.loss import micro_batch_loss
from polyvlm.train.segment_attention import SEGMENTS, use_lm_attention

SENTENCES = [
    "東京は日本の首都で、多くの人が電車で通勤しています。",
    "港区には海に面した公園があり、夕方には多くの人が散歩を楽しみます。",
    "富士山は日本で一番高い山で、その高さは三千七百七十六メートルです。",
    "新幹線は東京と大阪をおよそ二時間半で結んでいます。",
]


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def length_mix(n: int, seed: int = 0) -> list[TrainSample]:
    """Half short caption pairs with an image, half long multi-turn text conversations."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append(TrainSample(f"pair-{i}", "pairs", caption_segments(rng.choice(SENTENCES), png(i))))
        else:
            turns = []
            for _ in range(rng.randint(3, 8)):
                turns.append(
                    ("user", "".join(rng.choices(SENTENCES, k=rng.randint(1, 3))) + "どう思いますか？", [])
                )
                turns.append(("assistant", "".join(rng.choices(SENTENCES, k=rng.randint(2, 5))), []))
            out.append(TrainSample(f"conv-{i}", "conv", chat_segments(turns)))
    rng.shuffle(out)
    return out


def small_model(tokenizer) -> PolyVLMForConditionalGeneration:
    """A small random PolyVLM: SigLIP 128 x 10 layers, Qwen3 256 x 4 layers, the real vocabulary."""
    token_ids = add_image_tokens(tokenizer)
    vision = {**TINY_VISION, "hidden_size": 128, "intermediate_size": 512, "num_attention_heads": 4}
    text = {**TINY_TEXT, "hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
            "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id}  # fmt: skip
    torch.manual_seed(0)
    return PolyVLMForConditionalGeneration(PolyVLMConfig(vision_config=vision, text_config=text, **token_ids))


def step(
    model, opt, chunk, pad_id: int, max_length: int, packing: bool, segments: bool, full_logits: bool
) -> tuple[float, int, int]:
    """One training step on ``chunk``: (wall seconds, CPU seconds, real tokens, padding tokens)."""
    t0, c0 = time.perf_counter(), time.process_time()
    mb = collate(chunk, pad_id, max_length, packing)
    loss, _ = micro_batch_loss(model, mb, max(mb.supervised, 1), segments=segments, full_logits=full_logits)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0, time.process_time() - c0, mb.tokens, mb.padding


MODES = [(packing, full) for full in (False, True) for packing in (True, False)]


def compare(model, tokenized, pad_id: int, micro: int, steps: int, max_length: int, segments: bool) -> dict:
    """Packed and padded steps, chunked and full-logits loss, on the same micro-batches, the four
    modes alternating (after a warm-up of each), so a change of load on the machine hits all alike."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0)  # lr 0: all modes see the same weights
    per_step: dict[tuple[bool, bool], list[tuple[float, float, int, int]]] = {mode: [] for mode in MODES}
    for k in range(steps + 1):
        chunk = tokenized[k * micro : (k + 1) * micro]
        for packing, full in MODES if k % 2 else MODES[::-1]:
            measured = step(model, opt, chunk, pad_id, max_length, packing, segments, full)
            if k:  # the first round warms up allocators and kernels
                per_step[packing, full].append(measured)
    out = {}
    for mode, rows in per_step.items():
        wall, cpu, tokens, padding = (sum(col) for col in zip(*rows, strict=True))
        out[mode] = {
            "tokens_per_s": tokens / wall,
            "tokens_per_cpu_s": tokens / cpu,
            "padding_share": padding / (tokens + padding),
            "s_per_step": wall / steps,
            "steps": rows,
        }
    return out


def ratio(a: dict, b: dict) -> str:
    """a's tokens/s and tokens per CPU-second over b's: over all steps, and the median of the steps'
    own ratios (the same micro-batch, seconds apart: a burst of other work on the machine moves the
    sums but rarely the median)."""
    cells = []
    for i, key in ((0, "tokens_per_s"), (1, "tokens_per_cpu_s")):
        median = statistics.median(sb[i] / sa[i] for sa, sb in zip(a["steps"], b["steps"], strict=True))
        cells.append(f"{a[key] / b[key]:.2f}x (median {median:.2f}x)")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--micro", type=int, default=8, help="samples per micro-batch")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per mode")
    parser.add_argument(
        "--max-length", type=int, default=4096, help="packed row length (the reference configs use 4096)"
    )
    parser.add_argument("--models", default="tiny,small")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--attention",
        default="segments",
        choices=["segments", "sdpa"],
        help="segments: one causal sdpa per sample (training's default); sdpa: the block-diagonal 4D mask",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    processor = tiny_processor(max_tiles=1)
    samples = length_mix(args.micro * (args.steps + 1))
    tokenized = [tokenize_sample(s, processor, args.max_length) for s in samples]
    lengths = [len(t.input_ids) for t in tokenized]
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads, "
          f"attention {args.attention}")  # fmt: skip
    print(f"{len(tokenized)} samples: lengths {min(lengths)}-{max(lengths)} tokens, mean {sum(lengths) / len(lengths):.0f}; "
          f"micro-batch {args.micro} samples, {args.steps} timed steps per mode")  # fmt: skip
    pad_id = processor.tokenizer.pad_token_id
    print(
        "| model | loss | mode | tokens/s | tokens/CPU-s | padding share | s/step |\n|---|---|---|---:|---:|---:|---:|"
    )
    for name in args.models.split(","):
        model = tiny_model(processor.tokenizer) if name == "tiny" else small_model(processor.tokenizer)
        use_lm_attention(model, SEGMENTS if args.attention == "segments" else "sdpa")
        segments = args.attention == "segments"
        results = compare(model, tokenized, pad_id, args.micro, args.steps, args.max_length, segments)
        for packing, full in MODES:
            r = results[packing, full]
            loss, mode = "full" if full else "chunked", "packed" if packing else "padded"
            print(
                f"| {name} | {loss} | {mode} | {r['tokens_per_s']:.0f} | {r['tokens_per_cpu_s']:.0f} "
                f"| {100 * r['padding_share']:.1f}% | {r['s_per_step']:.2f} |"
            )
        for full in (False, True):
            loss = "full" if full else "chunked"
            print(
                f"| {name} | {loss} | packed / padded | {ratio(results[True, full], results[False, full])} | | |"
            )
        print(
            f"| {name} | chunked / full | packed | {ratio(results[True, False], results[True, True])} | | |"
        )


if __name__ == "__main__":
    main()
