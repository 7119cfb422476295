"""The drop for a chat result that cannot be used: no answer, an empty one, or one cut off at max_tokens."""

from __future__ import annotations

from polyvlm.clients.chat import ChatResult
from polyvlm.core.step import Drop


def unusable(result: ChatResult, empty_reason: str) -> Drop | None:
    """Why a result cannot be used (model_error:<error>, `empty_reason`, truncated), or None."""
    if result.text is None:
        return Drop(f"model_error:{result.error or 'unknown'}", result.detail[:500])
    if not result.text.strip():
        return Drop(empty_reason)
    # cut off at max_tokens: half a text would pass every other check
    return Drop("truncated", "finish_reason=length") if result.finish_reason == "length" else None
