"""``polyvlm model convert-jina SRC OUT``: a jina-vlm checkpoint -> a PolyVLM checkpoint, tensor for tensor.

Every tensor of SRC is checked against the reference layout (``jina_layout.py``) before anything is
written: a missing, unexpected or misshapen tensor stops the conversion with the list of them. Then
the tensors are mapped (``jina_mapping.py``) and checked against the PolyVLM model built on the meta
device; the extra-token rows of the head are kept from ever being generated
(``generation_config.suppress_tokens``), as in the reference, whose head has no such rows.

Nothing of SRC's code is run or offered to run (its config may carry an ``auto_map``): config.json,
preprocessor_config.json and the tokenizer are read as data (``jina_config``, ``jina_preprocessor``,
``jina_tokenizer``). OUT is written to a temporary directory first and renamed when complete; its
``conversion.json`` says where the chat template came from.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import GenerationConfig

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.jina_config import read_jina_config
from polyvlm.model.jina_layout import ConversionError, JinaSizes, reference_shapes
from polyvlm.model.jina_mapping import ASSUMED_IMAGE_TOKEN_IDS, convert_state, polyvlm_config
from polyvlm.model.jina_preprocessor import read_preprocessor
from polyvlm.model.jina_tokenizer import read_tokenizer
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.processing import CHAT_TEMPLATE, PolyVLMProcessor
from polyvlm.model.tokenizer import IMAGE_TOKENS


def read_checkpoint(src: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """config.json (or {}) and every tensor of the *.safetensors files in ``src``."""
    files = sorted(src.glob("*.safetensors"))
    if not files:
        raise ConversionError(f"{src} holds no *.safetensors files")
    config_file = src / "config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state.update(load_file(file))
    return config, state


def check_layout(state: dict[str, torch.Tensor], sizes: JinaSizes) -> None:
    """Refuse unless ``state`` holds exactly the reference's tensors with the reference's shapes."""
    expected = reference_shapes(sizes)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    misshapen = [
        f"{k}: {tuple(state[k].shape)}, expected {expected[k]}"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != expected[k]
    ]
    problems = [
        (f"{len(names)} {what}", names)
        for what, names in (("missing", missing), ("unexpected", extra), ("misshapen", misshapen))
        if names
    ]
    if problems:
        lines = [
            f"  {head}: " + ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
            for head, names in problems
        ]
        raise ConversionError(
            "not a jina-vlm checkpoint in the reference layout (sizes from config.json, the reference's "
            "defaults where it is silent):\n" + "\n".join(lines)
        )


def check_against_model(tensors: dict[str, torch.Tensor], config: PolyVLMConfig) -> None:
    """The converted tensors must be exactly the model's (built on the meta device, so no memory)."""
    with torch.device("meta"):
        model = PolyVLMForConditionalGeneration(config)
    wanted = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if wanted != got:
        diff = sorted(set(wanted.items()) ^ set(got.items()))
        raise ConversionError(f"converted tensors do not fit PolyVLM (a converter bug): {diff[:8]}")


def token_ids_from(tokenizer) -> dict[str, int]:
    """Image token ids as SRC's tokenizer assigns them (the tokenizer, not a constant, is the truth)."""
    vocab = tokenizer.get_vocab()
    missing = [t for t in IMAGE_TOKENS.values() if t not in vocab]
    if missing:
        raise ConversionError(f"SRC's tokenizer lacks the image tokens {missing}")
    return {key: vocab[token] for key, token in IMAGE_TOKENS.items()}


def read_source(src: Path) -> tuple[JinaSizes, dict[str, torch.Tensor], object, object]:
    """SRC's sizes, tensors, tokenizer and image processor (None where SRC has none), all checked."""
    config_json, state = read_checkpoint(src)
    sizes = read_jina_config(config_json)
    if sizes.tie_word_embeddings:  # the head is the embedding; a saved copy of it is not a tensor of its own
        state.pop("lm_head.weight", None)
    check_layout(state, sizes)
    tokenizer = read_tokenizer(src)
    pre_file = src / "preprocessor_config.json"
    image_processor = read_preprocessor(json.loads(pre_file.read_text())) if pre_file.is_file() else None
    if image_processor is not None and image_processor.geometry.crop_size != sizes.image_size:
        raise ConversionError(
            f"preprocessor_config.base_input_size {image_processor.geometry.crop_size} differs from "
            f"config.vision_config.input_size {sizes.image_size}"
        )
    return sizes, state, tokenizer, image_processor


def convert_jina(src: str | Path, out: str | Path) -> Path:
    """Convert the jina-vlm checkpoint in ``src`` into a PolyVLM directory ``out`` (which must not exist)."""
    src, out = Path(src), Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConversionError(f"{out} exists and is not empty")
    sizes, state, tokenizer, image_processor = read_source(src)
    token_ids = token_ids_from(tokenizer) if tokenizer is not None else dict(ASSUMED_IMAGE_TOKEN_IDS)
    config = polyvlm_config(sizes, token_ids)
    tensors = convert_state(state, sizes)
    check_against_model(tensors, config)
    config.dtype = str(next(iter(tensors.values())).dtype).removeprefix("torch.")
    extra_ids = list(range(sizes.vocab_size, sizes.vocab_size + sizes.additional_vocab_size))
    if (src / "generation_config.json").is_file():
        generation = GenerationConfig.from_dict(json.loads((src / "generation_config.json").read_text()))
    else:  # <|endoftext|> (the reference's EOS) and <|im_end|> (the end of a ChatML turn)
        generation = GenerationConfig(eos_token_id=[151643, 151645], pad_token_id=151643)
    generation.suppress_tokens = extra_ids
    note = {
        "source": str(src.resolve()),
        "processor": "none: SRC has no tokenizer.json or no preprocessor_config.json",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        config.save_pretrained(work)
        generation.save_pretrained(work)
        save_file(tensors, work / "model.safetensors", metadata={"format": "pt"})
        if tokenizer is not None and image_processor is not None:
            template = tokenizer.chat_template
            note["chat_template"] = "source (SRC's own)" if template else "polyvlm (SRC has none): ChatML"
            note["processor"] = "PolyVLMProcessor from SRC's tokenizer.json and preprocessor_config.json"
            # The reference starts every sequence with the tokenizer's BOS, or its EOS when it has none.
            start = tokenizer.bos_token or tokenizer.eos_token
            processor = PolyVLMProcessor(
                image_processor, tokenizer, chat_template=template or CHAT_TEMPLATE,
                pool_size=config.pool_size, sequence_start=start,
            )  # fmt: skip
            processor.save_pretrained(work)
        (work / "conversion.json").write_text(json.dumps(note, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out
