"""PolyVLMProcessor: prompts with ``<image>`` placeholders + images -> model inputs.

Each ``<image>`` in the text is replaced by the image's token layout (``token_count.py``): the
thumbnail region then the tiles region, each ``<im_start> (<im_patch>*w <im_col>)*h <im_end>``. Images
are matched to placeholders in order, across the whole batch. Every sequence starts with
``sequence_start`` (``<|endoftext|>``), as the reference processor prepends its BOS (Qwen has none, so
it uses the EOS id, 151643) to every prompt the released model saw. The tokenizer pads on the left so
a batch can be generated from directly.
"""

from __future__ import annotations

from collections.abc import Iterator

from transformers import AutoProcessor, BatchFeature
from transformers.processing_utils import ProcessorMixin

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.image_processing import PolyVLMImageProcessor  # noqa: F401 -- registers it for AutoProcessor
from polyvlm.model.token_count import image_token_count, region_grids
from polyvlm.model.tokenizer import IMAGE_TOKENS

# ChatML as Qwen3 writes it; an image item of a message becomes the "<image>" placeholder.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{ '<image>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


class PolyVLMProcessor(ProcessorMixin):
    """Image processor + tokenizer; expands ``<image>`` into the image's tokens."""

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        chat_template: str | None = None,
        image_placeholder: str = "<image>",
        pool_size: int = 2,
        sequence_start: str | None = "<|endoftext|>",
        **kwargs,
    ):
        self.image_placeholder = image_placeholder
        self.pool_size = pool_size
        self.sequence_start = sequence_start
        super().__init__(image_processor, tokenizer, chat_template=chat_template or CHAT_TEMPLATE, **kwargs)
        missing = [
            t for t in [*IMAGE_TOKENS.values(), sequence_start] if t and t not in tokenizer.get_vocab()
        ]
        if missing:
            raise ValueError(f"the tokenizer lacks the tokens {missing}: call add_image_tokens(tokenizer)")

    def image_tokens(self, rows: int, cols: int) -> str:
        """The token string standing for one image tiled rows x cols."""
        start, end, col, patch = (IMAGE_TOKENS[k] for k in IMAGE_TOKENS)
        geometry = self.image_processor.geometry
        return "".join(
            start + (patch * w + col) * h + end for h, w in region_grids(rows, cols, geometry, self.pool_size)
        )

    def tokens_per_image(self, width: int, height: int, max_tiles: int | None = None) -> int:
        """How many tokens an image of ``width`` x ``height`` takes in the prompt."""
        rows, cols = self.image_processor.grid_for(width, height, max_tiles)
        return image_token_count(rows, cols, self.image_processor.geometry, self.pool_size)

    def expand_images(self, text: str, grids: Iterator[tuple[int, int]]) -> str:
        """``text`` with each ``<image>`` replaced by the layout of the next (rows, cols) of ``grids``.

        Inference (``__call__``) and training (``train/data/tokenize.py``) both lay images out here, so a
        conversation gets the same ids in either.
        """
        parts = text.split(self.image_placeholder)
        return parts[0] + "".join(self.image_tokens(*next(grids)) + part for part in parts[1:])

    def apply_chat_template(self, conversation, chat_template: str | None = None, **kwargs) -> str:
        """Render ``conversation``; a reference template's ``image_prompt_token`` is our placeholder."""
        kwargs.setdefault("image_prompt_token", self.image_placeholder)
        return super().apply_chat_template(conversation, chat_template=chat_template, **kwargs)

    def __call__(
        self,
        text: str | list[str] | None = None,
        images=None,
        max_tiles: int | None = None,
        padding: bool | str = True,
        return_tensors: str | None = "pt",
        **kwargs,
    ) -> BatchFeature:
        """Tokenise ``text`` (one prompt or a batch) with its images; ``max_tiles`` overrides the budget."""
        if text is None:
            raise ValueError(
                "PolyVLMProcessor needs text: put an '<image>' placeholder where each image goes"
            )
        texts = [text] if isinstance(text, str) else list(text)
        placeholders = sum(t.count(self.image_placeholder) for t in texts)
        data: dict = {}
        if images is not None:
            image_inputs = self.image_processor(images, max_tiles=max_tiles, return_tensors=return_tensors)
            grids = image_inputs["image_grids"].tolist()
            if len(grids) != placeholders:
                raise ValueError(
                    f"{len(grids)} images but {placeholders} '{self.image_placeholder}' placeholders in the text"
                )
            layouts = iter(grids)
            texts = [self.expand_images(t, layouts) for t in texts]
            data.update(image_inputs)
        elif placeholders:
            raise ValueError(f"{placeholders} '{self.image_placeholder}' placeholders but no images")
        # once per sequence, at its start, as the reference's BOS (training puts it there too)
        texts = [(self.sequence_start or "") + t for t in texts]
        encoded = self.tokenizer(texts, padding=padding, return_tensors=return_tensors, **kwargs)
        data.update(encoded)
        return BatchFeature(data=data)

    @property
    def model_input_names(self) -> list[str]:
        """Inputs the model's forward takes from this processor."""
        return ["input_ids", "attention_mask", "pixel_values", "image_grids"]


AutoProcessor.register(PolyVLMConfig, PolyVLMProcessor, exist_ok=True)
