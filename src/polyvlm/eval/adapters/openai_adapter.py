"""The model under test behind an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, OpenAI, Azure):
images as data: URLs before the question, greedy, through clients/ (concurrency, retries, response cache)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polyvlm.clients.chat import ChatRequest, ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import open_chat_client
from polyvlm.core.errors import RecipeError
from polyvlm.eval.adapters.base import AdapterError, GenerationSettings
from polyvlm.eval.adapters.images import data_url
from polyvlm.eval.items import EvalItem, Prediction


def messages_for(item: EvalItem) -> list[dict[str, Any]]:
    """One user message: the item's images (data: URLs) in order, then its prompt."""
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": data_url(im)}} for im in item.images
    ]
    content.append({"type": "text", "text": item.prompt})
    return [{"role": "user", "content": content}]


class OpenAIAdapter:
    """An endpoint model; every answer is cached, so a re-run after a crash pays for nothing twice."""

    def __init__(
        self,
        model: str,
        base_url: str,
        settings: GenerationSettings,
        cache_path: str,
        api_key_env: str = "",
        limits: LimitsSpec | None = None,
    ) -> None:
        self.name = model.replace("/", "__")
        self.settings = settings
        self.spec = ChatSpec(
            backend="openai",
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            seed=settings.seed,
            cache_path=cache_path,
            limits=limits or LimitsSpec(),
        )
        # a batch is one wave of concurrent calls: its answers are cached as each arrives and appended to
        # prediction.jsonl when the wave ends, so a kill leaves at most `concurrency` answers only in the cache
        self.batch_size = self.spec.limits.concurrency
        self._client = open_chat_client(self.spec)

    def check(self) -> None:
        """The endpoint answers (RecipeError from the client becomes AdapterError)."""
        try:
            self._client.check()
        except RecipeError as e:
            raise AdapterError(str(e)) from e

    def answer(self, items: Sequence[EvalItem]) -> list[Prediction]:
        """All items in one concurrent batch; a failed call is a Prediction with its error."""
        params = {"temperature": self.settings.temperature, "max_tokens": self.settings.max_new_tokens}
        requests, bad = [], {}
        for i, item in enumerate(items):
            try:
                requests.append(ChatRequest(messages_for(item), dict(params)))
            except OSError as e:  # an image vanished since the run checked it
                bad[i] = f"image_unreadable: {e}"
                requests.append(None)
        results = iter(self._client.complete([r for r in requests if r is not None]))
        out = []
        for i, item in enumerate(items):
            if i in bad:
                out.append(Prediction(item.question_id, "", item.prompt, error=bad[i]))
                continue
            r = next(results)
            if r.text is None:
                out.append(
                    Prediction(item.question_id, "", item.prompt, error=f"{r.error}: {r.detail}"[:300])
                )
            else:
                out.append(Prediction(item.question_id, r.text, item.prompt))
        return out

    def describe(self) -> dict[str, Any]:
        """Model, endpoint and settings (never the key)."""
        return {
            "backend": "openai",
            "model": self.spec.model,
            "base_url": self.spec.base_url,
            "generation": self.settings.as_dict(),
            "usage": self._client.usage(),
        }
