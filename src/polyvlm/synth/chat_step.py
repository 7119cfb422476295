"""The shape shared by translate and regenerate: a batch step with a chat client, a prompt file, its own usage."""

from __future__ import annotations

from pydantic import Field

from polyvlm.clients.chat import ChatSpec, open_chat_client
from polyvlm.core.recipe import RecipeError
from polyvlm.core.step import BatchStep, Params
from polyvlm.synth.metered_client import MeteredClient
from polyvlm.synth.prompt_files import Prompt, PromptNotFound, load_prompt


class ChatStepParams(Params):
    """Parameters every prompt-file chat step has."""

    client: ChatSpec = ChatSpec()
    """the model (backend, model, base_url, sampling, limits, cache, license)"""
    prompt_dir: str = ""
    """a folder with your own prompt files instead of the shipped ones"""
    batch_size: int = Field(16, ge=1)
    """records per model call batch (each of their texts is one request; one `complete` call per batch)"""


class ChatStep(BatchStep):
    """A batch step that sends requests built from a prompt file to a chat client, and counts its own calls."""

    Params = ChatStepParams

    @property
    def batch_size(self) -> int:  # type: ignore[override]  # a parameter here, a class default elsewhere
        return self.params.batch_size

    def prompt_file(self) -> tuple[str, str]:
        """(language folder, prompt name) of the step's prompt."""
        raise NotImplementedError

    def setup(self) -> None:
        lang, name = self.prompt_file()
        try:
            self._prompt: Prompt = load_prompt(lang, name, self.params.prompt_dir)
        except PromptNotFound as e:
            raise RecipeError(f"step {self.label}: {e}") from None
        self._client = MeteredClient(open_chat_client(self.params.client))

    def check(self) -> None:
        self.ensure_setup()
        self._client.check()

    def metrics(self) -> dict[str, float]:
        client = getattr(self, "_client", None)
        return client.usage() if client is not None else {}
