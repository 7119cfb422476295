"""The model under test as a saved PolyVLM directory, through polyvlm.model's public chat interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from polyvlm.eval.adapters.base import AdapterError, GenerationSettings
from polyvlm.eval.adapters.images import pil_image
from polyvlm.eval.items import EvalItem, Prediction


class PolyVLMAdapter:
    """`polyvlm.model.chat.load_model` + `answer` (greedy), one item at a time."""

    batch_size = 1

    def __init__(self, model_dir: str, settings: GenerationSettings, max_tiles: int | None = None) -> None:
        self.path = model_dir
        self.name = Path(model_dir).name
        self.settings = settings
        self.max_tiles = max_tiles
        self._loaded: Any = None

    def check(self) -> None:
        """Load the model now (AdapterError with polyvlm's own message when it cannot)."""
        if self._loaded is not None:
            return
        from polyvlm.model.chat import load_model
        from polyvlm.model.modeling import ModelLoadError

        try:
            self._loaded = load_model(self.path)
        except ModelLoadError as e:
            raise AdapterError(str(e)) from e

    def answer(self, items: Sequence[EvalItem]) -> list[Prediction]:
        """Each item in turn; an unreadable image or a failed generation is that item's error."""
        import torch

        from polyvlm.model.chat import answer

        self.check()
        model, processor = self._loaded
        out = []
        for item in items:
            try:
                images = [pil_image(im) for im in item.images]
                torch.manual_seed(self.settings.seed)
                text = answer(
                    model, processor, item.prompt, images, self.settings.max_new_tokens, self.max_tiles
                )
                out.append(Prediction(item.question_id, text, item.prompt))
            except (ValueError, RuntimeError) as e:
                out.append(
                    Prediction(item.question_id, "", item.prompt, error=f"generation_failed: {e}"[:300])
                )
        return out

    def describe(self) -> dict[str, Any]:
        """Model directory, its config's sha256 and the generation settings."""
        import hashlib

        config = Path(self.path) / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else ""
        return {
            "backend": "polyvlm",
            "model": self.path,
            "config_sha256": digest,
            "generation": {**self.settings.as_dict(), "max_tiles": self.max_tiles},
        }
