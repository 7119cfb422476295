"""`polyvlm eval run` and `eval score`: ask the model every item not yet answered (appending each answer as it
comes), then score with the task's metrics and write the llm-jp-eval-mm layout under DIR/<task>/<model>/.

A killed run run again continues: answered items are read back from prediction.jsonl and never asked
again; model and judge calls go through the clients' response cache (DIR/.cache/), so nothing paid for
is paid for twice, and a judge that already answered is read from the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from polyvlm.clients.chat import ChatClient, LimitsSpec
from polyvlm.clients.chat_open import open_chat_client
from polyvlm.eval.adapters.base import Adapter
from polyvlm.eval.adapters.spec import judge_spec
from polyvlm.eval.answer_files import read_answer_file
from polyvlm.eval.items import EvalItem, Prediction
from polyvlm.eval.judge_health import (
    DEFAULT_MAX_JUDGE_FAILURE_SHARE,
    JudgeFailuresError,
    judge_failure_problem,
)
from polyvlm.eval.judge_progress import ProgressJudge
from polyvlm.eval.manifest import build_manifest
from polyvlm.eval.outputs import write_task_outputs
from polyvlm.eval.prediction_log import PredictionLog, read_predictions
from polyvlm.eval.registry import load_builtin_scorers
from polyvlm.eval.scoring import JudgeFactory, MetricOutcome, score_metric
from polyvlm.eval.sessions import read_sessions, record_session
from polyvlm.eval.task import Task
from polyvlm.eval.tasks.table_rows import TaskDataError


@dataclass
class EvalConfig:
    """How a run scores: the judge, repeats, seed, metric override, where the caches live."""

    output: Path
    judge: str | None = None  # judge spec (adapters/spec.py)
    judge_runs: int = 1
    seed: int = 0
    metrics: tuple[str, ...] = ()  # override the task's default metrics
    api_key_env: str = ""
    judge_limits: LimitsSpec = field(default_factory=LimitsSpec)
    limit: int | None = None  # only the first N items (a smoke run)
    progress: bool = True
    max_judge_failure_share: float = (
        DEFAULT_MAX_JUDGE_FAILURE_SHARE  # more fails the run (all failed always does)
    )

    @property
    def cache_dir(self) -> Path:
        """Response caches shared by every task of the output directory."""
        return self.output / ".cache"


@dataclass
class TaskResult:
    """Where a scored task's files are, and its metrics."""

    task: str
    model: str
    out_dir: Path
    outcomes: list[MetricOutcome]
    answer_field: str = ""  # eval score: the field of the answers file the answers were read from
    not_in_task: list[str] = field(default_factory=list)  # eval score: answer ids that match no question


def load_items(task: Task, source: str, limit: int | None = None) -> list[EvalItem]:
    """The task's items (the first `limit`, plus the rest of the last one's group), with unique question
    ids (TaskDataError otherwise)."""
    items: list[EvalItem] = []
    for item in task.load(source):
        # a limit never cuts a group (a circular question's rotations are scored together)
        if limit is not None and len(items) >= limit and not (item.group and item.group == items[-1].group):
            break
        items.append(item)
    seen: set[str] = set()
    for it in items:
        if it.question_id in seen:
            raise TaskDataError(f"{task.name}: question id {it.question_id!r} occurs twice in {source}")
        seen.add(it.question_id)
    return items


def missing_image(item: EvalItem) -> str:
    """The first image path of the item that is not a file ("" when all are there)."""
    for image in item.images:
        if isinstance(image, str) and not Path(image).is_file():
            return image
    return ""


def infer(
    items: Sequence[EvalItem], adapter: Adapter, out: Path, progress: bool = True
) -> dict[str, Prediction]:
    """Ask the model the items prediction.jsonl has no answer for; every answer appended as it comes."""
    log_path = out / "prediction.jsonl"
    done = read_predictions(log_path)
    todo = [it for it in items if it.question_id not in done or done[it.question_id].error]
    if not todo:
        return done
    adapter.check()
    record_session(out, adapter, len(todo))
    with (
        PredictionLog(log_path) as log,
        tqdm(total=len(todo), desc=f"{items[0].task} ← {adapter.name}", disable=not progress) as bar,
    ):
        for start in range(0, len(todo), adapter.batch_size):
            batch = todo[start : start + adapter.batch_size]
            # an item whose image file is missing is not asked: it is recorded failed, with the path
            absent = {it.question_id: missing_image(it) for it in batch}
            ask = [it for it in batch if not absent[it.question_id]]
            answers = {p.question_id: p for p in adapter.answer(ask)} if ask else {}
            for it in batch:
                pred = answers.get(it.question_id) or Prediction(
                    it.question_id, "", it.prompt, error=f"missing_image: {absent[it.question_id]}"
                )
                log.append(it, pred)
                done[it.question_id] = pred
            bar.update(len(batch))
    return done


def judge_factory(config: EvalConfig) -> Any:
    """Run index -> the judge client of that run (its seed = config.seed + run: distinct cached calls)."""
    if not config.judge:
        return None

    def open_run(run: int) -> ChatClient:
        spec = judge_spec(
            config.judge or "",
            str(config.cache_dir / "judge-responses.sqlite"),
            seed=config.seed + run,
            api_key_env=config.api_key_env,
            limits=config.judge_limits,
        )
        client = open_chat_client(spec)
        if run == 0:
            client.check()
        return client

    return open_run


def score_task(
    task: Task,
    source: str,
    items: Sequence[EvalItem],
    predictions: dict[str, Prediction],
    model_name: str,
    model_info: dict[str, Any],
    config: EvalConfig,
) -> TaskResult:
    """Score the predictions with the task's metrics and write every output file."""
    scorers = load_builtin_scorers()
    factory = judge_factory(config)
    outcomes = []
    for name in config.metrics or task.default_metrics:
        if name not in scorers:
            outcomes.append(MetricOutcome(name, skipped=f"no scorer named {name!r} is installed"))
            continue
        shown = _with_progress(factory, f"{task.name} / {name}: judging", config)
        outcomes.append(
            score_metric(scorers[name](), items, predictions, shown, config.judge_runs, config.seed)
        )
    judge = None
    if config.judge and any(o.runs and scorers[o.metric].needs_judge for o in outcomes):
        usage = {o.metric: o.judge_usage for o in outcomes if o.judge_usage}
        judge = {"spec": config.judge, "runs": config.judge_runs, "temperature": 0.0, "usage": usage}
    errors = {qid: p.error for qid, p in predictions.items() if p.error}
    out = config.output / task.name / model_name
    manifest = build_manifest(task, source, items, model_info, judge, outcomes, config.seed, errors)
    manifest["inference_sessions"] = read_sessions(out)  # who answered: one entry per (resumed) session
    write_task_outputs(out, items, predictions, outcomes, manifest)
    result = TaskResult(task.name, model_name, out, outcomes)
    # checked once every file is written: the failed verdicts are on disk, and a re-run asks only for them
    problem = judge_failure_problem(task.name, outcomes, config.max_judge_failure_share)
    if problem:
        raise JudgeFailuresError(problem, result)
    return result


def _with_progress(factory: JudgeFactory | None, desc: str, config: EvalConfig) -> JudgeFactory | None:
    """The judge factory whose clients show a progress bar (`desc`, and the run when there are several)."""
    if factory is None:
        return None
    chunk = 4 * config.judge_limits.concurrency

    def open_run(run: int) -> ChatClient:
        label = f"{desc} (run {run + 1}/{config.judge_runs})" if config.judge_runs > 1 else desc
        return ProgressJudge(factory(run), label, config.progress, chunk)

    return open_run


def run_task(task: Task, source: str, adapter: Adapter, config: EvalConfig) -> TaskResult:
    """Infer (resuming) and score one task."""
    items = load_items(task, source, config.limit)
    out = config.output / task.name / adapter.name
    predictions = infer(items, adapter, out, config.progress)
    return score_task(task, source, items, predictions, adapter.name, adapter.describe(), config)


def score_existing(
    task: Task,
    source: str,
    predictions_file: Path,
    model_name: str,
    config: EvalConfig,
    answer_field: str | None = None,
) -> TaskResult:
    """Score another run's answers (ours, llm-jp-eval-mm's, LLaVA's, Heron's answer files: see answer_files)."""
    items = load_items(task, source, config.limit)
    read = read_answer_file(predictions_file, task.languages, answer_field)
    found = read.answers
    if not found:
        raise TaskDataError(f"{predictions_file}: no answers (JSONL lines with question_id and the answer)")
    ids = {it.question_id for it in items}
    unknown = sorted(set(found) - ids)
    if len(unknown) == len(found):
        raise TaskDataError(
            f"{predictions_file}: none of its question ids is in {task.name} (e.g. {unknown[0]})"
        )
    # answers to questions outside the items (another split, or --limit) are counted, not scored
    info = {"backend": "predictions", "file": str(predictions_file), "model": model_name,
            "answer_field": read.field, "predictions_not_in_task": len(unknown)}  # fmt: skip
    found = {qid: p for qid, p in found.items() if qid in ids}
    try:
        result = score_task(task, source, items, found, model_name, info, config)
    except JudgeFailuresError as e:
        e.result.answer_field, e.result.not_in_task = read.field, unknown
        raise
    result.answer_field, result.not_in_task = read.field, unknown
    return result
