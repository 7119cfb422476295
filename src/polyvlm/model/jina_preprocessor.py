"""A jina-vlm ``preprocessor_config.json`` read as ``JinaVLMImageProcessor.__init__`` reads it.

Absent keys take the reference's defaults (``max_crops`` 6, CLIP's mean and std, ``cropping_method``
"resize", a 336 px crop, ...); values PolyVLMImageProcessor does not compute the same way are refused
with the field's name. ``size`` is not read: the reference's constructor replaces it with its defaults
whenever it has both keys, then applies ``min_pixels`` / ``max_pixels``.
"""

from __future__ import annotations

from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.jina_config import Fields
from polyvlm.model.jina_layout import ConversionError


def _three(value) -> list[float]:
    """A mean or std as the reference keeps it: one float for all channels, or one per channel."""
    return [float(value)] * 3 if isinstance(value, (int, float)) else [float(x) for x in value]


def _normalisation(f: Fields) -> tuple[list[float], list[float]]:
    """(mean, std) such that (x - mean) / std is the reference's normalisation of x in [0, 1]."""
    method = str(f.get("normalization_method", "gaussian")).lower()
    if method == "minmax":  # image_min + x * (image_max - image_min), written as (x - mean) / std
        low, high = f.get("image_min", None) or -1.0, f.get("image_max", None) or 1.0
        return [-low / (high - low)] * 3, [1 / (high - low)] * 3
    if method != "gaussian":
        raise ConversionError(
            f"{f.path}.normalization_method = {method!r} is not supported: gaussian or minmax"
        )
    return _three(f.get("image_mean", None) or OPENAI_CLIP_MEAN), _three(
        f.get("image_std", None) or OPENAI_CLIP_STD
    )


def read_preprocessor(pre: dict) -> PolyVLMImageProcessor:
    """The PolyVLMImageProcessor that prepares an image as the reference processor of ``pre`` does."""
    f = Fields(pre, "preprocessor_config")
    cropping = str(f.get("cropping_method", "resize")).lower().replace("_", "-")
    if cropping != "overlap-and-resize":
        raise ConversionError(
            f"preprocessor_config.cropping_method = {cropping!r} is not supported: overlap-and-resize"
        )
    f.require("do_resize", True, (True,), "PolyVLM always resizes to the pixel budget first")
    f.require("do_convert_rgb", True, (True,), "PolyVLM always converts to RGB")
    f.require("interpolation", "bicubic", ("bicubic",), "PolyVLM resizes bicubic")
    f.require("antialias", True, (True,), "PolyVLM resizes with antialiasing")
    f.require("random_interpolation", False, (False,), "a random resampling mode per image")
    f.require("preserve_aspect_ratio", False, (False,), "PolyVLM never pads a crop")
    f.require("resize_in_float32", True, (True,), "PolyVLM resizes float pixels")
    f.require("use_column_tokens", True, (True,), "PolyVLM ends every row with <im_col>")
    f.require("pooling_h", 2, (2,), "2x2 pooling windows")
    f.require("pooling_w", 2, (2,), "2x2 pooling windows")
    base = f.get("base_input_size", (336, 336))
    base = (base, base) if isinstance(base, int) else tuple(base)
    margins = tuple(f.get("overlap_margins", (4, 4)))
    patch = f.get("patch_size", 14)
    if base[0] != base[1] or margins[0] != margins[1]:
        raise ConversionError(
            f"preprocessor_config: a non-square crop {base} or unequal overlap_margins {margins}"
        )
    tokens = (base[0] // patch + 1) // 2  # ceil(crop patches / 2): what the reference asserts
    for key in ("token_length_h", "token_length_w"):
        f.require(key, 12, (tokens,), f"the reference asserts ceil({base[0] // patch} / 2)")
    mean, std = _normalisation(f)
    min_pixels, max_pixels = f.get("min_pixels", None), f.get("max_pixels", None)
    return PolyVLMImageProcessor(
        max_tiles=f.get("max_crops", 6),
        patch_size=patch,
        crop_patches=base[0] // patch,
        margin_patches=margins[0],
        min_pixels=56 * 56 if min_pixels is None else min_pixels,
        max_pixels=28 * 28 * 1280 if max_pixels is None else max_pixels,
        image_mean=mean,
        image_std=std,
    )
