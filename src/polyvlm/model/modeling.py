"""PolyVLMForConditionalGeneration: SigLIP tower -> connector -> any causal LM.

Forward, top to bottom:
1. the LM embeds ``input_ids``;
2. if ``pixel_values`` are given (the first step of generate(), or every step without a KV cache), the
   vision tower encodes every crop, the chosen layers are concatenated, the connector pools each crop
   on its own, each image's tiles keep their bands of pooled positions (``tile_layout.py``) laid out
   as one image-wide grid (thumbnail kept apart), and the connector projects those tokens;
3. those tokens are *added* to the ``<im_patch>`` embeddings, in order (as the released jina-vlm does:
   the learned ``<im_patch>`` row acts as a bias on every image token);
4. the LM runs on the embeddings (with its cache, mask and positions) and returns logits / loss;
   for training, ``targets`` (the next token at each position, -100 where unsupervised) instead
   returns only the summed cross-entropy over the supervised positions: the LM's decoder gives the
   final hidden states, those positions are gathered, and the head and loss run on them in chunks
   (``supervised_loss.py``), so no logits matrix is made for the sequence.
"""

import os
from typing import Self

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoTokenizer,
    GenerationMixin,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.modeling_outputs import CausalLMOutputWithPast

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.connector import CONNECTORS
from polyvlm.model.supervised_loss import supervised_cross_entropy
from polyvlm.model.tile_layout import assemble_tiles
from polyvlm.model.tokenizer import add_image_tokens


class ModelLoadError(RuntimeError):
    """A vision tower, language model or tokenizer could not be loaded (missing path, no hub access)."""


class PolyVLMPreTrainedModel(PreTrainedModel):
    """Shared settings: which attention backends and generation features the composite supports."""

    config: PolyVLMConfig
    base_model_prefix = ""
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True


class PolyVLMForConditionalGeneration(PolyVLMPreTrainedModel, GenerationMixin):
    """A vision-language model: ``vision_tower`` -> ``connector`` -> ``language_model``."""

    def __init__(
        self,
        config: PolyVLMConfig,
        vision_tower: PreTrainedModel | None = None,
        language_model: PreTrainedModel | None = None,
    ):
        super().__init__(config)
        self.vision_tower = (
            vision_tower if vision_tower is not None else AutoModel.from_config(config.vision_config)
        )
        self.language_model = (
            language_model
            if language_model is not None
            else AutoModelForCausalLM.from_config(config.text_config)
        )
        # One config object per part, so resizing the LM's vocabulary shows in config.text_config.
        config.vision_config = self.vision_tower.config
        config.text_config = self.language_model.config
        connector = CONNECTORS[config.connector]
        self.connector = connector(
            config.vision_config.hidden_size,
            len(config.vision_feature_layers),
            config.text_config.hidden_size,
            num_heads=config.pool_num_heads,
            head_dim=config.pool_head_dim,
            hidden_dim=config.projector_hidden_size,
        )
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        """The LM's token embeddings."""
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        """Replace the LM's token embeddings."""
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        """The LM head."""
        return self.language_model.get_output_embeddings()

    def set_output_embeddings(self, value: nn.Module) -> None:
        """Replace the LM head."""
        self.language_model.set_output_embeddings(value)

    def image_features(self, pixel_values: torch.Tensor, image_grids: torch.Tensor) -> torch.Tensor:
        """(crops, 3, S, S) crops of images tiled as image_grids (rows, cols) -> (<im_patch> count, d_l)."""
        if image_grids is None:
            raise ValueError(
                "pixel_values need image_grids (rows, cols per image) from PolyVLMImageProcessor"
            )
        geometry, pool = self.config.tile_geometry, self.connector.pool
        side = geometry.crop_patches
        out = self.vision_tower(pixel_values.to(self.vision_tower.dtype), output_hidden_states=True)
        # hidden_states[0] is the patch embedding: see DEFAULT_FEATURE_LAYERS for the index convention.
        features = torch.cat([out.hidden_states[i] for i in self.config.vision_feature_layers], dim=-1)
        features = features.view(features.shape[0], side, side, features.shape[-1])
        # Each image's crops are [thumbnail, tiles...]; the reference flags its last tile as partly padded.
        last_tiles = (image_grids[:, 0] * image_grids[:, 1] + 1).cumsum(0) - 1
        partly_padded = torch.zeros(features.shape[0], dtype=torch.bool, device=features.device)
        if int(last_tiles[-1]) + 1 != features.shape[0]:
            raise ValueError(
                f"image_grids account for {int(last_tiles[-1]) + 1} crops but pixel_values has {features.shape[0]}"
            )
        partly_padded[last_tiles.to(features.device)] = True
        pooled = self.connector.pool_crops(features, partly_padded)
        tokens, crop = [], 0
        for rows, cols in image_grids.tolist():
            tiles = assemble_tiles(pooled[crop + 1 : crop + 1 + rows * cols], rows, cols, geometry, pool)
            tokens += [pooled[crop].reshape(-1, pooled.shape[-1]), tiles.reshape(-1, pooled.shape[-1])]
            crop += 1 + rows * cols
        return self.connector.project(torch.cat(tokens))

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        image_grids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        targets: torch.LongTensor | None = None,
        **kwargs,
    ) -> CausalLMOutputWithPast:
        """Logits (and loss with ``labels``; image tokens never count in it) for a prompt with images.

        With ``targets`` (training: the next token per position, -100 where unsupervised) the output
        holds no logits, only ``loss``: the cross-entropy *summed* over the supervised positions.
        """
        if targets is not None and labels is not None:
            raise ValueError(
                "give labels (shifted inside, mean loss) or targets (aligned, summed loss), not both"
            )
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids or inputs_embeds")
        if pixel_values is not None and input_ids is None:
            raise ValueError("pixel_values need input_ids: the <im_patch> tokens mark where the images go")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        if input_ids is not None:
            slots = input_ids == self.config.image_patch_token_id
            if pixel_values is not None:
                features = self.image_features(pixel_values, image_grids)
                if features.shape[0] != int(slots.sum()):
                    raise ValueError(
                        f"{int(slots.sum())} <im_patch> tokens in input_ids but the images give "
                        f"{features.shape[0]} features: build the prompt with PolyVLMProcessor"
                    )
                # Added to the <im_patch> embedding, not replacing it (the reference's x[idx] += features).
                added = torch.zeros_like(inputs_embeds).masked_scatter(
                    slots.unsqueeze(-1), features.to(inputs_embeds.dtype)
                )
                inputs_embeds = inputs_embeds + added
            elif slots.any() and (past_key_values is None or past_key_values.get_seq_length() == 0):
                raise ValueError("input_ids hold <im_patch> tokens but no pixel_values were given")
            if labels is not None:
                labels = labels.masked_fill(self._is_image_token(input_ids), -100)
        if position_ids is None and attention_mask is not None:
            # Left padding: positions count real tokens only, so a padded row matches its unpadded self.
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -inputs_embeds.shape[1] :]
        if targets is not None:
            hidden = self.language_model.get_decoder()(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                position_ids=position_ids,
                use_cache=False,
                **kwargs,
            ).last_hidden_state
            keep = targets != -100
            loss = supervised_cross_entropy(hidden[keep], self.get_output_embeddings(), targets[keep])
            return CausalLMOutputWithPast(loss=loss)
        return self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            labels=labels,
            use_cache=use_cache,
            logits_to_keep=logits_to_keep,
            **kwargs,
        )

    def _is_image_token(self, input_ids: torch.Tensor) -> torch.Tensor:
        ids = [
            self.config.image_start_token_id,
            self.config.image_end_token_id,
            self.config.image_col_token_id,
            self.config.image_patch_token_id,
        ]
        return torch.isin(input_ids, torch.tensor([i for i in ids if i is not None], device=input_ids.device))

    @classmethod
    def from_parts(
        cls,
        vision: str | os.PathLike,
        text: str | os.PathLike,
        tokenizer: PreTrainedTokenizerBase | None = None,
        connector: str = "attention_pool",
        dtype: torch.dtype | str | None = None,
        **config_kwargs,
    ) -> Self:
        """Join a pretrained SigLIP (hub name or local path) and a pretrained causal LM into a PolyVLM.

        The LM's embeddings are untied (the head gets its own copy), the image tokens are added to
        ``tokenizer`` (default: the LM's own tokenizer) and the embeddings resized to fit them. The
        connector is freshly initialised. ``config_kwargs`` go to PolyVLMConfig.
        """
        vision_config = load_part(AutoConfig.from_pretrained, vision, "vision tower config")
        vision_config = getattr(
            vision_config, "vision_config", vision_config
        )  # a full SigLIP: keep the tower
        if vision_config.model_type != "siglip_vision_model":
            raise ModelLoadError(
                f"{vision!s} is a {vision_config.model_type!r} model; PolyVLM needs a fixed-resolution SigLIP "
                "vision tower (SigLIP or SigLIP2 non-NaFlex checkpoints, model_type 'siglip')"
            )
        vision_config.vision_use_head = False  # the connector replaces SigLIP's pooling head
        vision_tower = load_part(
            AutoModel.from_pretrained, vision, "vision tower", config=vision_config, dtype=dtype
        )
        language_model = load_part(AutoModelForCausalLM.from_pretrained, text, "language model", dtype=dtype)
        if tokenizer is None:
            tokenizer = load_part(AutoTokenizer.from_pretrained, text, "tokenizer (or pass tokenizer=...)")
        untie_embeddings(language_model)
        token_ids = add_image_tokens(tokenizer)
        if len(tokenizer) > language_model.get_input_embeddings().weight.shape[0]:
            language_model.resize_token_embeddings(len(tokenizer))
        config = PolyVLMConfig(
            vision_config=vision_tower.config,
            text_config=language_model.config,
            connector=connector,
            **token_ids,
            **config_kwargs,
        )
        model = cls(config, vision_tower=vision_tower, language_model=language_model)
        model.connector.to(dtype=vision_tower.dtype)
        ends = {tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.eos_token_id} - {
            None,
            tokenizer.unk_token_id,
        }
        model.generation_config.eos_token_id = sorted(ends)
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        return model


def untie_embeddings(language_model: PreTrainedModel) -> None:
    """Give the LM head its own copy of the input embeddings and record that in the config."""
    head, embed = language_model.get_output_embeddings(), language_model.get_input_embeddings()
    if head.weight.data_ptr() == embed.weight.data_ptr():
        head.weight = nn.Parameter(embed.weight.detach().clone())
    language_model.config.tie_word_embeddings = False
    # transformers caches the tying map at init; without this a later resize would tie them again.
    language_model.all_tied_weights_keys = language_model.get_expanded_tied_weights_keys(all_submodels=True)


def load_part(loader, name: str | os.PathLike, what: str, **kwargs):
    """``loader(name, **kwargs)``, turning a missing or unreachable checkpoint into a ModelLoadError."""
    try:
        return loader(name, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelLoadError(
            f"could not load the {what} from {str(name)!r}: {e}\n"
            "Give a local directory with config.json and *.safetensors, or a hub name on a machine "
            "that can reach the hub (this one cannot download models)."
        ) from e


AutoModelForImageTextToText.register(PolyVLMConfig, PolyVLMForConditionalGeneration, exist_ok=True)
