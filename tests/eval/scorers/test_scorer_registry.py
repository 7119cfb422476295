"""Every scorer is registered, builds without arguments (as the harness builds it) and writes JSON."""

import dataclasses
import importlib
import json
import pkgutil

from judge_server import judge_client, judge_server
from scorer_cases import item, pred

import polyvlm.eval.scorers as scorers_package
from polyvlm.eval.scorer import SCORERS

NAMES = {
    "rougel", "llm_judge_vila", "heron_judge", "llava_judge", "exact_match", "relaxed_match",
    "substring_match", "anls", "yes_no", "choice", "circular", "mme", "pope", "mtvqa", "vqa_accuracy", "mmmu",
    "count_match",
}  # fmt: skip


def reply(prompt: str) -> str:
    if "score_gpt" in prompt:
        return '{"score_gpt": 8, "score": 6}'
    return "Score: 4" if "Score: X" in prompt else "8 6"


def test_all_scorers_registered_and_their_results_are_json(tmp_path):
    for info in pkgutil.iter_modules(scorers_package.__path__):  # as the harness's registry does
        importlib.import_module(f"{scorers_package.__name__}.{info.name}")
    assert NAMES <= set(SCORERS)
    choices = {"A": "yes", "B": "no"}
    items = [
        item(f"q{i}", ref, choices=choices, category="conv", group=f"g{i // 2}", language="ja")
        for i, ref in enumerate(["A", "B", "A", "B"])
    ]
    preds = [pred(i.question_id, f"({i.reference}) はい") for i in items]
    with judge_server() as server:
        server.reply = reply
        client = judge_client(server, tmp_path)
        for name in sorted(NAMES):
            scorer = SCORERS[name]()
            scores = scorer.score(items, preds, client if scorer.needs_judge else None)
            assert len(scores) == len(items)
            result = scorer.aggregate(items, scores, seed=0)
            json.dumps(dataclasses.asdict(result))  # evaluation.jsonl and the manifest
            json.dumps([dataclasses.asdict(s) for s in scores])  # prediction.jsonl columns
            assert result.metric == name
