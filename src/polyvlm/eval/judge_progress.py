"""A progress bar while judging: the judge client wrapped so a batch is sent in chunks and a bar (tqdm)
moves as each chunk's verdicts arrive (a whole task's judging is otherwise one silent call of minutes)."""

from __future__ import annotations

from tqdm import tqdm

from polyvlm.clients.chat import ChatClient, ChatRequest, ChatResult


class ProgressJudge:
    """A ChatClient that shows `desc` and a bar over every batch it is given; results are the inner client's."""

    def __init__(self, inner: ChatClient, desc: str, enabled: bool = True, chunk: int = 32) -> None:
        self.inner, self.desc, self.enabled = inner, desc, enabled
        self.chunk = max(1, chunk)  # a few waves of the client's concurrency: the chunks stay well parallel

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        """One result per request, in order, sent chunk by chunk."""
        results: list[ChatResult] = []
        with tqdm(total=len(requests), desc=self.desc, unit="item", disable=not self.enabled) as bar:
            for start in range(0, len(requests), self.chunk):
                part = requests[start : start + self.chunk]
                results.extend(self.inner.complete(part))
                bar.update(len(part))
        return results

    def usage(self) -> dict[str, float]:
        """The inner client's counters."""
        return self.inner.usage()

    def check(self) -> None:
        """The inner client's check."""
        self.inner.check()
