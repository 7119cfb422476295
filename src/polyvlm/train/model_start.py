"""Where a run's model comes from: a saved PolyVLM directory, pretrained parts, or a tiny random one."""

from __future__ import annotations

from polyvlm.train.config import ModelStart


def load_start(start: ModelStart):
    """(model, processor) for the first stage."""
    if start.path is not None:
        return load_dir(start.path)
    if start.tiny is not None:
        from polyvlm.model.tiny import tiny_model, tiny_processor

        connector = str(start.tiny.get("connector", "attention_pool"))
        processor = tiny_processor(pool_size=2 if connector == "attention_pool" else 1)
        return tiny_model(processor.tokenizer, connector, int(start.tiny.get("seed", 0))), processor
    from transformers import AutoTokenizer

    from polyvlm.model.image_processing import PolyVLMImageProcessor
    from polyvlm.model.modeling import PolyVLMForConditionalGeneration, load_part
    from polyvlm.model.processing import PolyVLMProcessor

    parts = dict(start.from_parts or {})
    connector = parts.get("connector", "attention_pool")
    tokenizer = load_part(AutoTokenizer.from_pretrained, parts["text"], "tokenizer")
    model = PolyVLMForConditionalGeneration.from_parts(parts["vision"], parts["text"], tokenizer, connector)
    processor = PolyVLMProcessor(
        PolyVLMImageProcessor(), tokenizer, pool_size=2 if connector == "attention_pool" else 1
    )
    return model, processor


def load_dir(path: str):
    """A saved PolyVLM and its processor, through the Auto classes."""
    from polyvlm.model.chat import load_model

    return load_model(path)
