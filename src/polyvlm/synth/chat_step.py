"""Batch steps that call a chat model: a client they meter for themselves, prompt files, a batch size.

ClientStep is what every model-calling step shares (generators included); ChatStep adds the one prompt
file of translate and regenerate.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.chat import ChatSpec
from polyvlm.clients.chat_open import open_chat_client
from polyvlm.core.errors import RecipeError
from polyvlm.core.step import BatchParams, BatchStep
from polyvlm.synth.metered_client import MeteredClient
from polyvlm.synth.prompt_files import Prompt, PromptNotFound, load_prompt


class ChatStepParams(BatchParams):
    """Parameters every prompt-file chat step has."""

    client: ChatSpec = ChatSpec()
    """the model (backend, model, base_url, sampling, limits, cache, license)"""
    prompt_dir: str = ""
    """a folder with your own prompt files instead of the shipped ones"""
    batch_size: int = Field(16, ge=1)
    """records per model call batch (each of their texts is one request; one `complete` call per batch)"""


class ClientStep(BatchStep):
    """A batch step with a chat client; clients are shared per process and spec, so it meters its own calls."""

    def read_prompts(self) -> None:
        """Read the step's prompt files (a missing or malformed one is a recipe error)."""

    def setup(self) -> None:
        self.read_prompts()
        self._client: MeteredClient = MeteredClient(open_chat_client(self.params.client))

    def check(self) -> None:
        self.ensure_setup()
        self._client.check()

    def metrics(self) -> dict[str, float]:
        client = getattr(self, "_client", None)
        return client.usage() if client is not None else {}


class ChatStep(ClientStep):
    """A batch step that sends requests built from one prompt file to a chat client."""

    Params = ChatStepParams

    def prompt_file(self) -> tuple[str, str]:
        """(language folder, prompt name) of the step's prompt."""
        raise NotImplementedError

    def read_prompts(self) -> None:
        lang, name = self.prompt_file()
        try:
            self._prompt: Prompt = load_prompt(lang, name, self.params.prompt_dir)
        except PromptNotFound as e:
            raise RecipeError(f"step {self.label}: {e}") from None
