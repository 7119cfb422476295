"""Two minimal scorers of the tests' own (the real ones live in eval/scorers/, built separately): enough to
drive the harness — a plain one and a judge one whose verdicts the fake server's echo makes predictable.

`harness_contains`: 1 when the reference occurs in the answer, else 0.
`harness_judge`: asks the judge and parses the last `Score: N` of its reply. The fake server echoes the
prompt, so the verdict is `len(answer) % 5 + 1`; an item whose question holds `[garbage]` gets a prompt
without a score (an unparsable reply), `[judgefail]` a prompt the server fails with 500 every time,
`[judgestall]` one it stalls on (a timeout), `[judgestall1]` one it stalls on the first time only.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

from polyvlm.clients.chat import ChatRequest
from polyvlm.eval.items import ItemScore
from polyvlm.eval.scorer import SCORERS, MetricResult, Scorer, register_scorer

SCORE = re.compile(r"Score:\s*([1-5])")


def aggregate(name, items, scores, seed=0) -> MetricResult:
    """Mean of the scored items, a seeded percentile bootstrap CI, exclusions by reason, per category."""
    values = [s.value for s in scores if s.value is not None]
    excluded = Counter(s.reason for s in scores if s.value is None)
    if not values:
        return MetricResult(name, None, excluded=dict(excluded))
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(200))
    cats = defaultdict(list)
    for it, s in zip(items, scores, strict=True):
        if s.value is not None:
            cats[it.category].append(s.value)
    return MetricResult(
        name, sum(values) / len(values), means[4], means[194], len(values), dict(excluded),
        {c: sum(v) / len(v) for c, v in cats.items()},
    )  # fmt: skip


class HarnessContains(Scorer):
    name = "harness_contains"
    score_range = (0.0, 1.0)

    def score(self, items, predictions, judge=None):
        return [
            ItemScore(it.question_id, float(str(it.reference).lower() in p.text.lower()))
            for it, p in zip(items, predictions, strict=True)
        ]

    def aggregate(self, items, scores, seed=0):
        return aggregate(self.name, items, scores, seed)


class HarnessJudge(Scorer):
    name = "harness_judge"
    score_range = (1.0, 5.0)
    needs_judge = True

    def prompt_sha256s(self):
        return {"harness_judge.txt": "0" * 64}

    def score(self, items, predictions, judge=None):
        requests = []
        for it, p in zip(items, predictions, strict=True):
            tag = ""
            if "[judgefail]" in it.prompt:
                tag = "[[500x99]]"
            elif "[judgestall1]" in it.prompt:
                tag = "[[stallx1]]"
            elif "[judgestall]" in it.prompt:
                tag = "[[stallx9]]"
            verdict = "" if "[garbage]" in it.prompt else f"Score: {len(p.text) % 5 + 1}"
            requests.append(
                ChatRequest([{"role": "user", "content": f"Judge {it.question_id}{tag}: {verdict}"}])
            )
        out = []
        for it, r in zip(items, judge.complete(requests), strict=True):
            if r.text is None:
                out.append(ItemScore(it.question_id, None, "judge_call_failed", {"error": r.error}))
                continue
            found = SCORE.findall(r.text)
            if not found:
                out.append(ItemScore(it.question_id, None, "judge_unparsable", {"reply": r.text}))
            else:
                out.append(ItemScore(it.question_id, float(found[-1]), detail={"reply": r.text}))
        return out

    def aggregate(self, items, scores, seed=0):
        return aggregate(self.name, items, scores, seed)


for cls in (HarnessContains, HarnessJudge):
    if cls.name not in SCORERS:
        register_scorer(cls)
