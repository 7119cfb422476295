"""Point every model-calling step of a recipe at one OpenAI-compatible endpoint (`polyvlm run --endpoint`)."""

from __future__ import annotations

from polyvlm.clients.chat import ChatSpec
from polyvlm.core.recipe import Recipe


def point_at_endpoint(recipe: Recipe, base_url: str, model: str | None, api_key_env: str | None) -> int:
    """Make every step's `client` the endpoint at base_url; returns how many steps changed.

    The override is appended to the recipe text, so its hash (what resume checks) changes with it:
    a run made against one endpoint is not resumed against another.
    """
    changed = 0
    for step in recipe.steps:
        spec = getattr(step.params, "client", None)
        if not isinstance(spec, ChatSpec):
            continue
        update = {"backend": "openai", "base_url": base_url.rstrip("/")}
        if model:
            update["model"] = model
        if api_key_env is not None:
            update["api_key_env"] = api_key_env
        step.params = step.params.model_copy(update={"client": spec.model_copy(update=update)})
        changed += 1
    recipe.text += (
        f"\n# --endpoint {base_url} --endpoint-model {model or ''} --api-key-env {api_key_env or ''}\n"
    )
    return changed
