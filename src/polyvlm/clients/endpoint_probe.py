"""The health probe of an OpenAI-compatible endpoint: one cheap request before work starts."""

from __future__ import annotations

import aiohttp

from polyvlm.clients.process_session import proxy_for


async def probe_endpoint(
    base_url: str,
    models_url: str,
    completions_url: str,
    model: str,
    headers: dict[str, str],
    timeout_s: float,
    key_env: str,
) -> str:
    """GET /models, else a 1-token completion; '' when the endpoint answers, else what is wrong and what to do."""
    timeout = aiohttp.ClientTimeout(total=min(timeout_s, 15.0))
    async with aiohttp.ClientSession(headers=headers, timeout=timeout, proxy=proxy_for(base_url)) as session:
        try:
            async with session.get(models_url) as resp:
                status, text = resp.status, await resp.text(errors="replace")
            if status in (404, 405):  # some servers have no /models: ask for one token instead
                body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
                async with session.post(completions_url, json=body) as r:
                    status, text = r.status, await r.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            why = "timed out" if isinstance(e, TimeoutError) else f"{type(e).__name__}: {e}"
            return (
                f"cannot reach the model endpoint {base_url} ({why}): start the server "
                "(e.g. `vllm serve MODEL --port 8000`) or fix client.base_url"
            )
    if status in (401, 403):
        return (
            f"{base_url} refused the API key (HTTP {status}): check ${key_env or '<unset>'}"
            " and client.api_key_env"
        )
    if status >= 400:
        return f"{base_url} answered HTTP {status} to a test request: {text[:200]}"
    return ""
