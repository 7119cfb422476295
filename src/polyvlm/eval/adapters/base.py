"""What every adapter does: answer a batch of items (one Prediction each, failures as errors, never raises
for one item), say which model it is and with which generation settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from polyvlm.eval.items import EvalItem, Prediction


class AdapterError(RuntimeError):
    """The model under test cannot be loaded or reached (the message says what to do)."""


@dataclass(frozen=True)
class GenerationSettings:
    """How the model under test decodes: greedy, at most `max_new_tokens` (recorded in the manifest)."""

    max_new_tokens: int = 256
    temperature: float = 0.0  # greedy
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON."""
        return {**asdict(self), "do_sample": False}


class Adapter(Protocol):
    """A model under test."""

    name: str  # the model's directory name under DIR/<task>/
    batch_size: int  # items handed to `answer` at once (predictions are saved after each batch)

    def check(self) -> None:
        """Fail before work starts (AdapterError) when the model cannot be loaded or reached."""
        ...

    def answer(self, items: Sequence[EvalItem]) -> list[Prediction]:
        """One prediction per item, in order; a failed item has `error` set and empty `text`."""
        ...

    def describe(self) -> dict[str, Any]:
        """The model, backend and generation settings, for the manifest."""
        ...
