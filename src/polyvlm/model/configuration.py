"""PolyVLMConfig: a SigLIP vision config, a causal-LM config and the connector between them."""

from __future__ import annotations

from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from polyvlm.model.tile_layout import check_pool
from polyvlm.model.tiling import TileGeometry

# The reference parts: google/siglip2-so400m-patch14-384 (vision tower only) and Qwen/Qwen3-1.7B-Base.
SIGLIP2_SO400M = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 27,
    "num_attention_heads": 16,
    "image_size": 384,
    "patch_size": 14,
    "vision_use_head": False,
}
QWEN3_1_7B = {
    "vocab_size": 151936,
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 32768,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
    "tie_word_embeddings": False,
}

# Which entries of transformers' `hidden_states` feed the connector. That tuple has num_layers + 1
# entries and starts with the patch embeddings, so hidden_states[i] is the output of encoder layer i
# counted from 1, and a negative index counts back from the last layer's output (taken before the
# post-layernorm). "Third-to-last and ninth-to-last" of 27 layers are layers 24 and 18 counted from 0,
# i.e. hidden_states[25] and hidden_states[19], i.e. hidden_states[-3] and hidden_states[-9].
DEFAULT_FEATURE_LAYERS = {"attention_pool": [-3, -9], "mlp": [-1]}


@strict
class PolyVLMConfig(PreTrainedConfig):
    """Configuration of a PolyVLM: vision tower, connector, language model and image-token ids.

    ``connector="attention_pool"`` (jina-vlm) concatenates ``vision_feature_layers`` (default third-
    and ninth-to-last), attention-pools 2x2 patches of each tile and projects with SwiGLU. ``connector="mlp"``
    (VILA) projects the last layer's patches with a 2-layer GELU MLP and does not pool.
    """

    model_type = "polyvlm"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig, model_type="siglip_vision_model", init_kwargs=SIGLIP2_SO400M
        ),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen3", init_kwargs=QWEN3_1_7B),
    }

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    connector: Literal["attention_pool", "mlp"] = "attention_pool"
    vision_feature_layers: list[int] | None = None
    tile_margin_patches: int = 4
    # The attention pool's heads and the SwiGLU width; None: the reference's choice for the parts given
    # (the vision tower's heads and head size, 16 x 72 for So400M; 3 * d_l, 6144 for Qwen3-1.7B).
    pool_num_heads: int | None = None
    pool_head_dim: int | None = None
    projector_hidden_size: int | None = None
    image_start_token_id: int | None = None
    image_end_token_id: int | None = None
    image_col_token_id: int | None = None
    image_patch_token_id: int | None = None
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        if self.vision_feature_layers is None:
            self.vision_feature_layers = list(DEFAULT_FEATURE_LAYERS[self.connector])
        n_states = self.vision_config.num_hidden_layers + 1
        for index in self.vision_feature_layers:
            if not -n_states <= index < n_states:
                raise ValueError(
                    f"vision_feature_layers {self.vision_feature_layers}: {index} is outside the "
                    f"{n_states} hidden states of a {n_states - 1}-layer vision tower"
                )
        vision = self.vision_config
        self.pool_num_heads = self.pool_num_heads or vision.num_attention_heads
        self.pool_head_dim = self.pool_head_dim or vision.hidden_size // vision.num_attention_heads
        self.projector_hidden_size = self.projector_hidden_size or 3 * self.text_config.hidden_size
        # Untied: the new image tokens and the language's own words get an output row of their own.
        self.tie_word_embeddings = False
        self.text_config.tie_word_embeddings = False
        # The geometry check runs here so a bad config fails when built, not mid-forward.
        check_pool(self.tile_geometry, self.pool_size)

    @property
    def pool_size(self) -> int:
        """Side of the pooling window: 2 for the attention-pool connector, 1 (no pooling) for the MLP."""
        return 2 if self.connector == "attention_pool" else 1

    @property
    def tile_geometry(self) -> TileGeometry:
        """Tile and patch sizes implied by the vision tower (crop = whole patches that fit its image size)."""
        patch = self.vision_config.patch_size
        return TileGeometry(
            patch_size=patch,
            crop_patches=self.vision_config.image_size // patch,
            margin_patches=self.tile_margin_patches,
        )


AutoConfig.register("polyvlm", PolyVLMConfig, exist_ok=True)
