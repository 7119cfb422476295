"""When the judge failed too often for a headline to mean anything: a run whose judge calls all failed, or
more than a settable share of them (`--max-judge-failure-share`, default 0.1), fails with the counts and
the top reasons, after every output is written. Failures stay counted exclusions, never scores of 0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polyvlm.eval.items import ItemScore
from polyvlm.eval.tasks.table_rows import TaskDataError

if TYPE_CHECKING:  # light at import: the CLI reads the default below before any command runs
    from polyvlm.eval.scoring import MetricOutcome

DEFAULT_MAX_JUDGE_FAILURE_SHARE = 0.1


class JudgeFailuresError(TaskDataError):
    """The judge failed on more items than allowed; `result` is the task's (already written) result."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class JudgeTally:
    """One metric's judge calls over all its runs: how many were asked, how many failed, and why."""

    metric: str
    asked: int
    failed: int
    reasons: Counter[str]

    @property
    def share(self) -> float:
        """Failed / asked (0 when nothing was asked)."""
        return self.failed / self.asked if self.asked else 0.0


def _reason(score: ItemScore) -> str:
    error = score.detail.get("error") if score.reason == "judge_call_failed" else ""
    return f"{score.reason}: {error}" if error else score.reason


def tally(outcome: MetricOutcome) -> JudgeTally:
    """Count the judge verdicts and failures of one metric (items never sent to the judge are not counted)."""
    reasons: Counter[str] = Counter()
    asked = 0
    for scores in outcome.item_scores:
        for s in scores:
            if s.reason.startswith("judge"):  # judge_call_failed, judge_unparsable (as MetricOutcome counts)
                reasons[_reason(s)] += 1
                asked += 1
            elif s.value is not None:
                asked += 1
    return JudgeTally(outcome.metric, asked, sum(reasons.values()), reasons)


def judge_failure_problem(task: str, outcomes: Sequence[MetricOutcome], max_share: float) -> str:
    """Why the task's judging cannot be trusted ("" when it can): every judge call failed, or more than `max_share`."""
    problems = []
    for outcome in outcomes:
        t = tally(outcome)
        if not t.failed or (t.failed < t.asked and t.share <= max_share):
            continue
        top = "; ".join(f"{reason} ×{n}" for reason, n in t.reasons.most_common(3))
        problems.append(
            f"{task} / {t.metric}: the judge failed on {t.failed} of {t.asked} items ({t.share:.0%}, "
            f"allowed {max_share:.0%}): {top}"
        )
    return "\n".join(problems)
