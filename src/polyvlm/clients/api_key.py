"""An endpoint's API key: named by an environment variable, read when needed, sent as a header, never shown."""

from __future__ import annotations

import os

from polyvlm.core.errors import RecipeError


class ApiKey:
    """The key in `$env` (none when `env` is empty), sent as `Authorization: Bearer` or as `api-key`."""

    def __init__(self, env: str, header: str = "authorization") -> None:
        self.env, self.header = env, header

    def value(self) -> str:
        """The key ('' when none is configured); a named but unset variable is a RecipeError."""
        if not self.env:
            return ""
        key = os.environ.get(self.env, "")
        if not key:
            raise RecipeError(
                f"client.api_key_env names ${self.env}, but it is not set: export {self.env}=<your key> "
                "(the key itself never goes in a recipe)"
            )
        return key

    def headers(self) -> dict[str, str]:
        """The header that carries the key (none without a key)."""
        key = self.value()
        if not key:
            return {}
        return {"api-key": key} if self.header == "api-key" else {"Authorization": f"Bearer {key}"}

    def scrub(self, text: str) -> str:
        """`text` with the key replaced by ***: error bodies and exception texts must never carry it on."""
        key = os.environ.get(self.env, "") if self.env else ""
        return text.replace(key, "***") if key else text
