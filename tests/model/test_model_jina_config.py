"""The converter reads every config field the reference reads, with the reference's defaults where a
key is absent, and refuses by name each value PolyVLM does not compute as the reference does."""

from __future__ import annotations

import copy

import pytest
from jina_checkpoint import PREPROCESSOR_CONFIG, reference_config

from polyvlm.model.jina_config import read_jina_config
from polyvlm.model.jina_layout import ConversionError
from polyvlm.model.jina_preprocessor import read_preprocessor

V, T = ("vision_config",), ("text_config",)
VB, TB = (*V, "block_config"), (*T, "block_config")
CONN = (*V, "vl_connector_config")
REFUSED = [
    ((*V, "linear_patch_embedding"), False),
    ((*V, "use_cls_token"), True),
    ((*V, "pre_lnorm"), True),
    ((*V, "input_size"), None),
    ((*VB, "lnorm_config", "type"), "rms"),
    ((*VB, "postnorm"), True),
    ((*VB, "attn_config", "softmax_scale"), 0.5),
    ((*VB, "attn_config", "clip_qkv"), 8.0),
    ((*VB, "ffn_config", "gated_activation"), True),
    ((*VB, "ffn_config", "activation_type"), "not_an_activation"),
    ((*TB, "lnorm_config", "type"), "default"),
    ((*TB, "attn_config", "lnorm_config", "type"), "low_precision"),
    ((*TB, "attn_config", "softmax_scale"), 0.1),
    ((*TB, "attn_config", "clip_qkv"), 4.0),
    ((*TB, "attn_config", "lnorm_config", "eps"), 1e-3),
    ((*T, "rope_scaling"), {"rope_type": "yarn", "factor": 4.0}),
    ((*T, "rope"), False),
    ((*T, "partial_rotary_factor"), 0.5),
    ((*CONN, "pooling_type"), "attention"),
    ((*CONN, "padding_embed_type"), "regress"),
    ((*CONN, "mlp_projector_config", "activation_type"), "gelu"),
    ((*CONN, "attn_pooling_config", "clip_qkv"), 2.0),
]


def with_value(config: dict, path: tuple, value) -> dict:
    config = copy.deepcopy(config)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(("path", "value"), REFUSED, ids=[".".join(p[-2:]) for p, _ in REFUSED])
def test_each_unsupported_model_value_is_refused_by_its_field(path, value):
    read_jina_config(reference_config())  # the released settings convert
    with pytest.raises(ConversionError, match=r"config\." + r"\.".join(path) + " = "):
        read_jina_config(with_value(reference_config(), path, value))


PRE_REFUSED = [
    ("normalization_method", "zscore"),
    ("cropping_method", "adaptive-slicing"),
    ("interpolation", "bilinear"),
    ("preserve_aspect_ratio", True),
    ("resize_in_float32", False),
    ("use_column_tokens", False),
    ("token_length_w", 12),
]


@pytest.mark.parametrize(("key", "value"), PRE_REFUSED, ids=[k for k, _ in PRE_REFUSED])
def test_each_unsupported_preprocessing_value_is_refused_by_its_field(key, value):
    with pytest.raises(ConversionError, match=f"preprocessor_config.{key} = "):
        read_preprocessor(dict(PREPROCESSOR_CONFIG, **{key: value}))


def test_absent_and_null_fields_take_the_reference_defaults():
    config = reference_config()
    del config["vision_config"]["block_config"]["lnorm_config"]["eps"]  # absent: 1e-5, not 1e-6
    config["text_config"]["block_config"]["lnorm_config"]["eps"] = None  # null: `eps or 1e-5`
    config["text_config"]["block_config"]["attn_config"]["lnorm_config"]["eps"] = None
    sizes = read_jina_config(config)
    assert abs(sizes.vision_eps - 1e-5) < 1e-15 and abs(sizes.text_eps - 1e-5) < 1e-15
    del config["vision_config"]["use_cls_token"]  # the reference's default is True: SigLIP has none
    with pytest.raises(ConversionError, match="use_cls_token = True"):
        read_jina_config(config)
    pre = {k: v for k, v in PREPROCESSOR_CONFIG.items() if k not in ("image_mean", "image_std", "max_crops")}
    processor = read_preprocessor(pre)
    assert processor.max_tiles == 6  # not 12
    assert processor.image_mean == pytest.approx([0.48145466, 0.4578275, 0.40821073])  # CLIP's, not 0.5
    assert processor.image_std == pytest.approx([0.26862954, 0.26130258, 0.27577711])
    without_cropping = {k: v for k, v in PREPROCESSOR_CONFIG.items() if k != "cropping_method"}
    with pytest.raises(ConversionError, match="cropping_method = 'resize'"):  # the reference's default
        read_preprocessor(without_cropping)


def test_minmax_normalisation_is_the_same_affine_map():
    processor = read_preprocessor(dict(PREPROCESSOR_CONFIG, normalization_method="minmax", image_min=-1.0))
    # image_min + x * (image_max - image_min) with [-1, 1] is (x - 0.5) / 0.5
    assert processor.image_mean == pytest.approx([0.5] * 3) and processor.image_std == pytest.approx(
        [0.5] * 3
    )
