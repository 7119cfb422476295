"""The CLIP model a step loads: the parameters clip_score and image_sentence_similarity share."""

from __future__ import annotations

from typing import Literal

from polyvlm.clients.clip import ClipSpec, ModelUnavailable, check_scorer
from polyvlm.core.errors import RecipeError
from polyvlm.core.step import BatchParams


class ClipModelParams(BatchParams):
    """Which CLIP model to load, and how."""

    model: str
    """hub name (must be in the local Hugging Face cache) or local directory; open_clip also takes hf-hub:NAME"""
    backend: Literal["transformers", "open_clip"] = "transformers"
    """library that loads the model"""
    pretrained: str = ""
    """open_clip only, with an architecture name as model: a pretrained tag or a checkpoint file"""
    allow_download: bool = False
    """let the hub client download a model that is not cached (off: a missing model stops the run at once)"""
    trust_remote_code: bool = False
    """transformers only: run the model repository's own code (some Japanese CLIPs need it)"""

    def clip_spec(self) -> ClipSpec:
        """The client's description of this model."""
        return ClipSpec(
            self.model, self.backend, self.pretrained, self.allow_download, self.trust_remote_code
        )


def check_clip_model(label: str, params: ClipModelParams, hint: str = "") -> None:
    """Stop the recipe before it runs when the model cannot be loaded here (a RecipeError naming the step)."""
    try:
        check_scorer(params.clip_spec())
    except ModelUnavailable as e:
        raise RecipeError(f"step {label}: {e}{hint}") from None
