"""CLIP backends: transformers (AutoModel with get_image_features/get_text_features) and open_clip.

Both load on CPU in float32 and never fetch from the hub unless the spec allows it. Each refuses a
model whose weights it cannot find rather than scoring with randomly initialised ones.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from PIL import Image

from polyvlm.clients.clip_spec import Backend, ClipSpec, ModelUnavailable, hub_offline

OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
OPEN_CLIP_HINT = (
    "the open_clip backend needs the open_clip_torch package (`pip install open_clip_torch`), which imports "
    "torchvision: install the torchvision build made for your torch (a mismatched one fails with "
    "'operator torchvision::nms does not exist'). Or use `backend: transformers` with a transformers-format model"
)


def looks_like_path(name: str) -> bool:
    """True for names that can only be file paths (a hub id is 'org/name' or 'name')."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name


def _not_found(spec: ClipSpec, error: BaseException) -> ModelUnavailable:
    """The message for a model that could not be loaded, by where it was looked for."""
    name = spec.model
    why = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    if os.path.exists(os.path.expanduser(name)):
        return ModelUnavailable(
            f"cannot load the {spec.backend} CLIP model at {name} ({why}); the directory must hold the "
            "files its library saves (save_pretrained / open_clip_config.json with weights)"
        )
    if looks_like_path(name):
        return ModelUnavailable(f"CLIP model path {name} does not exist; pass an existing local directory")
    repo = name.removeprefix("hf-hub:")
    if _in_hub_cache(repo, spec.backend):
        return ModelUnavailable(
            f"CLIP model {name!r} is in the local Hugging Face cache but fails to load ({why})"
        )
    if not spec.allow_download:
        from huggingface_hub import constants

        return ModelUnavailable(
            f"CLIP model {name!r} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and "
            "nothing is downloaded (offline). Pass a local directory as `model` (e.g. one made with "
            f"`hf download {repo} --local-dir DIR` on a machine with network), or fill the cache first, "
            "or set `allow_download: true` where the hub is reachable"
        )
    return ModelUnavailable(f"could not load CLIP model {name!r} from the hub ({why})")


def _in_hub_cache(repo: str, backend: str) -> bool:
    """Whether the hub cache holds the repository's config (so the failure is not a missing download)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(
            repo, "open_clip_config.json" if backend == "open_clip" else "config.json"
        )
    except Exception:  # noqa: BLE001 — a name that is no valid repo id is not cached either
        return False
    return isinstance(found, str)


def _features(out: Any) -> Any:
    """The projected features from a get_*_features result (a tensor, or an output with pooler_output)."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if getattr(out, "pooler_output", None) is not None:
        return out.pooler_output  # transformers 5 returns BaseModelOutputWithPooling
    raise TypeError(f"unexpected features output {type(out).__name__}")


class TransformersBackend:
    """A transformers dual encoder (CLIP, SigLIP, remote-code CLIPs) with its tokenizer and image processor."""

    def __init__(self, spec: ClipSpec) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        kw = {"local_files_only": not spec.allow_download, "trust_remote_code": spec.trust_remote_code}
        with hub_offline(not spec.allow_download):
            try:
                self.model = AutoModel.from_pretrained(spec.model, dtype=torch.float32, **kw).eval()
                self.tokenizer = AutoTokenizer.from_pretrained(spec.model, **kw)
                self.image_processor = AutoImageProcessor.from_pretrained(spec.model, **kw)
            except Exception as e:  # noqa: BLE001 — every load failure becomes one actionable message
                raise _not_found(spec, e) from e
        for fn in ("get_image_features", "get_text_features"):
            if not callable(getattr(self.model, fn, None)):
                raise ModelUnavailable(
                    f"{spec.model} loads as {type(self.model).__name__}, which has no {fn}: "
                    "not an image-text dual encoder (use a CLIP-like model)"
                )
        params = inspect.signature(self.model.get_text_features).parameters
        self._text_keys = {
            n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        self.max_length = self._max_length()

    def _max_length(self) -> int:
        limits = [getattr(getattr(self.model.config, "text_config", None), "max_position_embeddings", None)]
        limits.append(getattr(self.tokenizer, "model_max_length", None))
        # tokenizers without a limit report a huge sentinel; 77 is CLIP's context length
        sane = [n for n in limits if isinstance(n, int) and 0 < n < 100_000]
        return min(sane) if sane else 77

    def preprocess(self, image: Image.Image) -> Any:
        """One RGB image to a (C, H, W) tensor."""
        return self.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]

    def encode_images(self, pixels: Any) -> Any:
        """(N, C, H, W) pixels to (N, D) image features."""
        return _features(self.model.get_image_features(pixel_values=pixels))

    def encode_texts(self, texts: list[str]) -> Any:
        """N texts to (N, D) text features (padded to and truncated at the model's context)."""
        # padded to the full context, as these models were trained: SigLIP pools the last position,
        # so padding to the batch's longest text would make a score depend on its batch
        enc = self.tokenizer(
            texts, padding="max_length", truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return _features(
            self.model.get_text_features(**{k: v for k, v in enc.items() if k in self._text_keys})
        )


def _open_clip_source(spec: ClipSpec) -> tuple[str, str | None]:
    """The (model_name, pretrained) to hand open_clip, after making sure real weights are there."""
    name, pretrained = spec.model, spec.pretrained or None
    if name.startswith("hf-hub:"):
        from huggingface_hub import hf_hub_download

        errors = []
        with hub_offline(not spec.allow_download):
            for filename in OPEN_CLIP_WEIGHTS:
                try:
                    hf_hub_download(name.removeprefix("hf-hub:"), filename)
                    return name, None
                except Exception as e:  # noqa: BLE001 — try the next file name
                    errors.append(e)
        raise _not_found(spec, errors[-1])
    local = Path(os.path.expanduser(name.removeprefix("local-dir:")))
    if name.startswith("local-dir:") or local.is_dir():
        if not (local / "open_clip_config.json").is_file():
            raise ModelUnavailable(f"{local} is not an open_clip model directory (no open_clip_config.json)")
        if not any(next(local.glob(pattern), None) for pattern in ("*.safetensors", "*.bin", "*.pth")):
            raise ModelUnavailable(f"{local} holds no weights (*.safetensors, *.bin, *.pth)")
        return f"local-dir:{local}", None
    if looks_like_path(name):
        raise ModelUnavailable(f"CLIP model path {name} does not exist; pass an existing local directory")
    if not pretrained:
        # open_clip would build the architecture with random weights: a fake score
        raise ModelUnavailable(
            f"open_clip model {name!r} names an architecture only: set `pretrained` to a tag "
            "(e.g. frozen_laion5b_s13b_b90k) or a checkpoint file, or use an hf-hub:/local directory model"
        )
    if looks_like_path(pretrained) and not os.path.isfile(os.path.expanduser(pretrained)):
        raise ModelUnavailable(f"open_clip checkpoint {pretrained} does not exist")
    return name, os.path.expanduser(pretrained) if looks_like_path(pretrained) else pretrained


class OpenClipBackend:
    """An open_clip model (`hf-hub:org/name`, a local directory, or architecture + pretrained tag/file)."""

    def __init__(self, spec: ClipSpec) -> None:
        name, pretrained = _open_clip_source(spec)
        try:
            import open_clip
        except Exception as e:  # noqa: BLE001 — a broken torchvision raises RuntimeError, not ImportError
            raise ModelUnavailable(f"{OPEN_CLIP_HINT} (import failed: {type(e).__name__}: {e})") from e
        with hub_offline(not spec.allow_download):
            try:
                model, _, self._preprocess = open_clip.create_model_and_transforms(
                    name, pretrained=pretrained, device="cpu", precision="fp32"
                )
                self.tokenizer = open_clip.get_tokenizer(name)
            except Exception as e:  # noqa: BLE001 — e.g. the text tower's hub tokenizer is not cached
                raise _not_found(spec, e) from e
        self.model = model.eval()

    def preprocess(self, image: Image.Image) -> Any:
        """One RGB image to a (C, H, W) tensor."""
        return self._preprocess(image)

    def encode_images(self, pixels: Any) -> Any:
        """(N, C, H, W) pixels to (N, D) image features."""
        return self.model.encode_image(pixels)

    def encode_texts(self, texts: list[str]) -> Any:
        """N texts to (N, D) text features."""
        return self.model.encode_text(self.tokenizer(texts))


def load_backend(spec: ClipSpec) -> Backend:
    """Load the spec's backend; raises ModelUnavailable."""
    if spec.backend == "open_clip":
        return OpenClipBackend(spec)
    return TransformersBackend(spec)
