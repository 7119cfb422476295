"""Model and judge specs as one string on the command line.

Model under test: `openai:MODEL@BASE_URL` (an OpenAI-compatible endpoint), `transformers:PATH_OR_NAME`,
`polyvlm:DIR`, or a bare directory (a saved PolyVLM if its config says so, else transformers).
Judge: `openai:MODEL@BASE_URL` or `local:smollm2|DIR|FILE.gguf` (the clients' local chat backend).
"""

from __future__ import annotations

import json
from pathlib import Path

from polyvlm.clients.chat import ChatSpec, LimitsSpec
from polyvlm.eval.adapters.base import Adapter, AdapterError, GenerationSettings


def _endpoint(rest: str, what: str) -> tuple[str, str]:
    model, sep, url = rest.rpartition("@")
    if not sep or not model or not url.startswith(("http://", "https://")):
        raise AdapterError(f"{what} spec 'openai:{rest}': expected openai:MODEL@http://host:port/v1")
    return model, url


def open_adapter(
    spec: str,
    settings: GenerationSettings,
    cache_path: str,
    api_key_env: str = "",
    limits: LimitsSpec | None = None,
) -> Adapter:
    """The adapter a model spec names (not loaded yet: call `check()`)."""
    kind, sep, rest = spec.partition(":")
    if sep and kind == "openai":
        from polyvlm.eval.adapters.openai_adapter import OpenAIAdapter

        model, url = _endpoint(rest, "model")
        return OpenAIAdapter(model, url, settings, cache_path, api_key_env, limits)
    if sep and kind in ("transformers", "hf"):
        from polyvlm.eval.adapters.transformers_adapter import TransformersAdapter

        return TransformersAdapter(rest, settings)
    if sep and kind == "polyvlm":
        from polyvlm.eval.adapters.polyvlm_adapter import PolyVLMAdapter

        return PolyVLMAdapter(rest, settings)
    config = Path(spec) / "config.json"
    if config.is_file():
        model_type = json.loads(config.read_text()).get("model_type", "")
        if model_type == "polyvlm":
            from polyvlm.eval.adapters.polyvlm_adapter import PolyVLMAdapter

            return PolyVLMAdapter(spec, settings)
        from polyvlm.eval.adapters.transformers_adapter import TransformersAdapter

        return TransformersAdapter(spec, settings)
    raise AdapterError(
        f"model spec {spec!r}: use openai:MODEL@URL, transformers:PATH, polyvlm:DIR or a saved model directory"
    )


def judge_spec(
    spec: str, cache_path: str, seed: int = 0, api_key_env: str = "", limits: LimitsSpec | None = None
) -> ChatSpec:
    """The ChatSpec of a judge spec: temperature 0, the given seed (part of every cache key)."""
    kind, sep, rest = spec.partition(":")
    common = {
        "seed": seed,
        "cache_path": cache_path,
        "sampling": {"temperature": 0.0},
        "limits": limits or LimitsSpec(),
    }
    if sep and kind == "openai":
        model, url = _endpoint(rest, "judge")
        return ChatSpec(backend="openai", model=model, base_url=url, api_key_env=api_key_env, **common)
    if sep and kind == "local":
        return ChatSpec(backend="local", model=rest or "smollm2", **common)
    raise AdapterError(f"judge spec {spec!r}: use openai:MODEL@URL or local:smollm2|DIR")
