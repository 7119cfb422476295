"""Asking the judge: requests with temperature 0 and a fixed seed, through the harness's ChatClient.

The judge client (clients/: batched, cached, retried, rate-limited) is passed in by the harness; a
scorer never opens a socket. Every request carries `temperature: 0`. The seed is fixed: by default the
judge client's own (`ChatSpec.seed`, 0 unless set; the harness gives run `r` of `--judge-runs N` a client
whose seed is `seed + r`). A scorer built with `run=r > 0` instead puts `seed: JUDGE_SEED + r` in each
request (which wins over the client's), for callers that repeat judging with one client. Either way a
repeated run makes distinct requests and distinct cache keys, while a re-run of the same run is
answered from the cache.

A call that fails after the client's retries becomes an item excluded as `judge_call_failed`, a reply
the scorer cannot read one excluded as `judge_unparsable` (with the reply kept in the detail); both
are counted in `MetricResult.excluded` and `details["judge_failures"]`, never scored as 0. When the
client's circuit breaker opens (EndpointDown, a StopRun) it propagates: the run stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from polyvlm.clients.chat import ChatClient, ChatRequest, ChatResult
from polyvlm.eval.items import EvalItem, ItemScore, Prediction
from polyvlm.eval.scorer import Scorer
from polyvlm.eval.scorers.itemwise import paired_predictions, prediction_problem, references_of

JUDGE_SEED = 0
JUDGE_FAILURE_REASONS = ("judge_call_failed", "judge_unparsable")


def judge_question(item: EvalItem) -> str:
    """The question the judge is shown: `meta["question"]` when the task sets it, else the prompt."""
    return str(item.meta.get("question") or item.prompt)


def judge_reference(item: EvalItem) -> str:
    """The reference answer the judge reads: `meta["reference_answer"]`, else the first reference."""
    refs = references_of(item)
    return str(item.meta.get("reference_answer") or (refs[0] if refs else ""))


def judge_params(run: int, max_tokens: int) -> dict[str, Any]:
    """The sampling parameters of every judge request of one judging run (run 0: the client's seed)."""
    params: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
    if run:
        params["seed"] = JUDGE_SEED + run
    return params


def ask_judge(
    judge: ChatClient | None,
    conversations: Sequence[list[dict[str, Any]]],
    run: int = 0,
    max_tokens: int = 1024,
) -> list[ChatResult]:
    """One judge result per conversation, in order (one batch through the client)."""
    if judge is None:
        raise ValueError("this scorer needs a judge: pass --judge SPEC (an OpenAI-compatible endpoint)")
    if not conversations:
        return []
    params = judge_params(run, max_tokens)
    return judge.complete([ChatRequest(messages, dict(params)) for messages in conversations])


def judge_call_failed(question_id: str, result: ChatResult) -> ItemScore:
    """The exclusion of an item whose judge call failed after retries."""
    return ItemScore(
        question_id, None, "judge_call_failed", {"error": result.error, "detail": result.detail[:300]}
    )


def judge_unparsable(question_id: str, reply: str) -> ItemScore:
    """The exclusion of an item whose judge reply could not be read."""
    return ItemScore(question_id, None, "judge_unparsable", {"reply": reply[:1000]})


def judge_failures(scores: Sequence[ItemScore]) -> int:
    """How many items the judge could not score (failed calls and unreadable replies)."""
    return sum(1 for s in scores if s.reason in JUDGE_FAILURE_REASONS)


Reading = tuple[float, dict[str, Any]]  # an item's value and its detail, read from a judge reply


def judge_items(
    items: Sequence[EvalItem],
    predictions: Sequence[Prediction],
    judge: ChatClient | None,
    conversation: Callable[[EvalItem, str], list[dict[str, Any]]],
    read: Callable[[str], Reading | None],
    run: int = 0,
    max_tokens: int = 1024,
) -> list[ItemScore]:
    """Judge every scorable item in one batch: `conversation(item, answer)` builds the request,
    `read(reply)` reads it (None: unparsable); failures become counted exclusions, in item order."""
    out: list[ItemScore | None] = []
    asked, conversations = [], []
    for item, prediction in zip(items, paired_predictions(items, predictions), strict=True):
        problem = prediction_problem(item, prediction)
        if problem is None and not judge_reference(item):
            problem = ItemScore(item.question_id, None, "no_reference")
        out.append(problem)
        if problem is None:
            asked.append(len(out) - 1)
            conversations.append(conversation(item, prediction.text))  # type: ignore[union-attr]
    for i, result in zip(asked, ask_judge(judge, conversations, run, max_tokens), strict=True):
        qid = items[i].question_id
        if result.text is None:
            out[i] = judge_call_failed(qid, result)
            continue
        reading = read(result.text)
        out[i] = (
            judge_unparsable(qid, result.text)
            if reading is None
            else ItemScore(qid, reading[0], detail=reading[1])
        )
    return out  # type: ignore[return-value]


class JudgeScorer(Scorer):
    """A scorer that asks an LLM judge: subclasses say how to ask (`_conversation`) and how to read the
    reply (`_read`); the batch, the failures and the run's seed are handled here, once."""

    needs_judge: ClassVar[bool] = True
    max_tokens: ClassVar[int] = 1024
    run: int = 0

    def _conversation(self, item: EvalItem, answer: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _read(self, reply: str) -> Reading | None:
        raise NotImplementedError

    def score(
        self,
        items: Sequence[EvalItem],
        predictions: Sequence[Prediction],
        judge: ChatClient | None = None,
    ) -> list[ItemScore]:
        """Ask the judge about every scorable item in one batch; failures become counted exclusions."""
        return judge_items(
            items, predictions, judge, self._conversation, self._read, self.run, self.max_tokens
        )
