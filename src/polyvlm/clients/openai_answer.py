"""What one attempt at a chat completion came to: an answer, or why not and whether to try again.

`retry` says which retry budget an outcome may use: "endpoint" (429, 408, 5xx, timeouts, dropped
connections: the network's or the server's fault) or "malformed" (a 200 whose body is unusable: usually
the model's fault, retried fewer times). A final failure that every request would meet alike (a refused
key, a wrong URL or model) is marked `endpoint_failed`, so the circuit breaker counts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polyvlm.clients.chat import ChatResult
from polyvlm.clients.limits import retry_after_s

RETRY_STATUS = {408, 429} | set(range(500, 600))
DOWN_STATUS = {401, 403, 404}  # every request will fail the same way: counts toward the breaker
REASONS = {
    "connection_refused": "connection refused",
    "connection_error": "connection dropped",
    "timeout": "timed out",
    "http_401": "HTTP 401: the API key was refused",
    "http_403": "HTTP 403: the API key may not use this model",
    "http_404": "HTTP 404: wrong base_url or model",
}


@dataclass(slots=True)
class AttemptOutcome:
    """One attempt's result, and whether (and after how long a server-asked wait) it may be retried."""

    result: ChatResult
    retry: str = ""  # "" final; "endpoint" or "malformed": may be retried
    retry_after: float | None = None
    endpoint_failed: bool = False  # a final failure that says the endpoint (not this request) is broken

    @property
    def endpoint_fault(self) -> bool:
        """Failed because of the endpoint, not this request: what the circuit breaker counts."""
        return self.result.text is None and (self.endpoint_failed or self.retry == "endpoint")


def failure_reason(error: str) -> str:
    """An error code in words, for the breaker's message (http_502 -> HTTP 502)."""
    return REASONS.get(error, error.replace("http_", "HTTP ").replace("_", " "))


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer in content parts
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(texts) if texts else None
    return None


def parse_answer(raw: bytes) -> AttemptOutcome:
    """A 200 response body as a result: the text and token counts, or why it is unusable."""
    try:
        data = json.loads(raw)
    except ValueError:
        return AttemptOutcome(ChatResult(None, "bad_response", f"not JSON: {raw[:120]!r}"), retry="malformed")
    if not isinstance(data, dict):
        return AttemptOutcome(
            ChatResult(None, "bad_response", "the body is not a JSON object"), retry="malformed"
        )
    if data.get("error"):
        return AttemptOutcome(ChatResult(None, "bad_response", str(data["error"])[:300]), retry="malformed")
    choices = data.get("choices")
    if not choices or not isinstance(choices, list):
        return AttemptOutcome(
            ChatResult(None, "empty_choices", "the answer has no choices"), retry="malformed"
        )
    choice = choices[0] if isinstance(choices[0], dict) else {}
    text = _text_of((choice.get("message") or {}).get("content"))
    if text is None:
        return AttemptOutcome(
            ChatResult(None, "bad_response", "no message.content in the answer"), retry="malformed"
        )
    usage = data.get("usage") or {}
    return AttemptOutcome(
        ChatResult(
            text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=str(choice.get("finish_reason") or ""),
        )
    )


def answer_outcome(status: int, raw: bytes, headers: Any, scrub: Callable[[str], str]) -> AttemptOutcome:
    """An HTTP answer as an outcome: parsed when 200, else an `http_<status>` failure, retried or not."""
    if status == 200:
        return parse_answer(raw)
    result = ChatResult(None, f"http_{status}", scrub(raw[:300].decode("utf-8", "replace")))
    if status in RETRY_STATUS:
        return AttemptOutcome(result, "endpoint", retry_after_s(headers))
    return AttemptOutcome(result, endpoint_failed=status in DOWN_STATUS)
