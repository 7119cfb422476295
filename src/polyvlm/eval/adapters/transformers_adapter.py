"""The model under test as any transformers image-text-to-text model, by local path or hub name: the
processor's chat template with the images before the question, greedy `generate`, one item at a time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from polyvlm.eval.adapters.base import AdapterError, GenerationSettings
from polyvlm.eval.adapters.images import pil_image
from polyvlm.eval.items import EvalItem, Prediction


class TransformersAdapter:
    """AutoProcessor + AutoModelForImageTextToText (a saved PolyVLM loads too: it registers with the Auto classes)."""

    batch_size = 1

    def __init__(self, model: str, settings: GenerationSettings) -> None:
        self.path = model
        self.name = Path(model).name if Path(model).exists() else model.replace("/", "__")
        self.settings = settings
        self._model: Any = None
        self._processor: Any = None

    def check(self) -> None:
        """Load the model now (AdapterError when it cannot be had: no hub access here)."""
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as e:
            raise AdapterError(f"the transformers adapter needs torch and transformers: {e}") from e
        import polyvlm.model.auto  # noqa: F401 -- a saved PolyVLM loads through the Auto classes

        try:
            self._processor = AutoProcessor.from_pretrained(self.path)
            self._model = AutoModelForImageTextToText.from_pretrained(self.path).eval()
        except (OSError, ValueError, KeyError) as e:
            raise AdapterError(
                f"cannot load the transformers model {self.path!r}: {e}. Give a local directory "
                "(no model can be downloaded on this machine)."
            ) from e

    def _generate(self, item: EvalItem) -> str:
        import torch

        images = [pil_image(im) for im in item.images]
        content = [{"type": "image"} for _ in images] + [{"type": "text", "text": item.prompt}]
        prompt = self._processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        inputs = self._processor(text=prompt, images=images or None, return_tensors="pt")
        torch.manual_seed(self.settings.seed)
        with torch.inference_mode():
            out = self._model.generate(**inputs, max_new_tokens=self.settings.max_new_tokens, do_sample=False)
        return self._processor.tokenizer.decode(
            out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )

    def answer(self, items: Sequence[EvalItem]) -> list[Prediction]:
        """Each item in turn; an unreadable image or a failed generation is that item's error."""
        self.check()
        out = []
        for item in items:
            try:
                out.append(Prediction(item.question_id, self._generate(item), item.prompt))
            except (ValueError, RuntimeError) as e:
                out.append(
                    Prediction(item.question_id, "", item.prompt, error=f"generation_failed: {e}"[:300])
                )
        return out

    def describe(self) -> dict[str, Any]:
        """Model path and generation settings."""
        return {"backend": "transformers", "model": self.path, "generation": self.settings.as_dict()}
