"""`polyvlm eval`: run, score, report, tasks, translate. Only click (and a constant) is imported here; the
commands import the harness (and torch, for a local model) when they run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from polyvlm.eval.judge_health import DEFAULT_MAX_JUDGE_FAILURE_SHARE  # a light module: no harness imported


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _user_errors(fn: Callable[[], Any]) -> Any:
    """Run `fn`; a user mistake or a stopped endpoint becomes a one-line message, not a traceback."""
    from polyvlm.core.errors import RecipeError, StopRun
    from polyvlm.eval.adapters.base import AdapterError
    from polyvlm.eval.judge_health import JudgeFailuresError
    from polyvlm.eval.tasks.table_rows import TaskDataError

    try:
        return fn()
    except JudgeFailuresError as e:
        if e.result is not None:
            _print_result(e.result)
        raise click.ClickException(
            f"{e}\nthe judge failed too often (--max-judge-failure-share); outputs are written, and the same "
            "command run again asks the judge only for the failed items."
        ) from None
    except (RecipeError, AdapterError, TaskDataError, KeyError) as e:
        raise click.ClickException(str(e).strip("'\"")) from None
    except StopRun as e:
        raise click.ClickException(f"run stopped: {e}. Run the same command again to resume.") from None


def _data_for(task: Any, data_dir: str, data: dict[str, str]) -> str:
    """Where a task's data is: --data TASK=PATH, else DATA_DIR/<task>, else the hub name."""
    if task.name in data:
        return data[task.name]
    local = Path(data_dir) / task.name
    if local.exists() or not task.hub_name:
        return str(local)
    return task.hub_name


@click.group("eval")
def eval_group() -> None:
    """Evaluate vision-language models: tasks, scorers with judges, reports, benchmark translation."""


@eval_group.command("tasks")
def tasks_cmd() -> None:
    """List every task with its languages, metrics and published dataset."""
    from polyvlm.eval.registry import load_builtin_tasks

    for name, cls in sorted(load_builtin_tasks().items()):
        langs = ",".join(cls.languages) or "any"
        hub = f"  hub: {cls.hub_name}" if cls.hub_name else ""
        click.echo(f"{name}  [{langs}]  metrics: {', '.join(cls.default_metrics)}{hub}")
        click.echo(f"    {cls.description}")
    click.echo("<task>-<lang>: a translation written by `polyvlm eval translate` (e.g. mmbench-fr)")


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--judge", help="Judge: openai:MODEL@URL or local:smollm2|DIR (judge metrics need one)."
        ),
        click.option(
            "--judge-runs",
            default=1,
            show_default=True,
            type=click.IntRange(min=1),
            help="Judge every item N times (distinct seeds); reports mean and spread.",
        ),  # fmt: skip
        click.option("--metrics", help="Comma-separated metrics instead of each task's defaults."),
        click.option("--seed", default=0, show_default=True, help="Bootstrap and judge seed."),
        click.option(
            "--api-key-env", default="", help="Environment variable holding the endpoints' API key."
        ),
        click.option("--judge-concurrency", default=8, show_default=True, type=click.IntRange(min=1)),
        click.option(
            "--judge-timeout",
            default=120.0,
            show_default=True,
            type=click.FloatRange(min=0, min_open=True),
            help="Seconds one judge call may take (then it is retried, then a counted judge failure).",
        ),
        click.option(
            "--max-judge-failure-share",
            default=DEFAULT_MAX_JUDGE_FAILURE_SHARE,
            show_default=True,
            type=click.FloatRange(0.0, 1.0),
            help="Fail (non-zero exit) when more than this share of a metric's judge calls failed; "
            "a run where every judge call failed always fails.",
        ),
        click.option(
            "--judge-retries",
            default=4,
            show_default=True,
            type=click.IntRange(min=0),
            help="Retries of a failed judge call (then the item is a counted judge failure).",
        ),  # fmt: skip
        click.option("--limit", type=click.IntRange(min=1), help="Only the first N items of each task."),
        click.option(
            "-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory."
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(output: str, judge: str | None, judge_runs: int, metrics: str | None, seed: int, api_key_env: str,
            judge_concurrency: int, judge_timeout: float, max_judge_failure_share: float, judge_retries: int,
            limit: int | None, quiet: bool = False) -> Any:  # fmt: skip
    from polyvlm.clients.chat import LimitsSpec
    from polyvlm.eval.run import EvalConfig

    limits = LimitsSpec(concurrency=judge_concurrency, retries=judge_retries, timeout_s=judge_timeout)
    return EvalConfig(Path(output), judge, judge_runs, seed, _split(metrics), api_key_env, limits, limit,
                      not quiet, max_judge_failure_share)  # fmt: skip


def _print_result(result: Any) -> None:
    for o in result.outcomes:
        if o.skipped:
            click.echo(f"  {result.task} / {o.metric}: skipped ({o.skipped})")
            continue
        r = o.combined()
        ci = f" [{r.ci_low:.2f}, {r.ci_high:.2f}]" if r.ci_low is not None and r.ci_high is not None else ""
        overall = "n/a" if o.overall is None else f"{o.overall:.2f}"
        failures = f", judge failures {o.judge_failures()}" if o.judge_failures() else ""
        click.echo(f"  {result.task} / {o.metric}: {overall}{ci} (n={r.n}{failures})")
    click.echo(f"  wrote {result.out_dir}")


def _print_answers_read(result: Any, predictions: str) -> None:
    """Which field the answers came from, and the answers that match no question (not scored)."""
    click.echo(f"  answers read from field {result.answer_field!r} of {predictions}")
    unknown = result.not_in_task
    if unknown:
        examples = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        click.echo(f"  {len(unknown)} answers match no question of {result.task} (not scored): {examples}")


@eval_group.command("run")
@click.option("--model", "model_spec", required=True,
              help="Model under test: openai:MODEL@URL, transformers:PATH, polyvlm:DIR or a model directory.")  # fmt: skip
@click.option("--tasks", required=True, help="Comma-separated task names (polyvlm eval tasks).")
@click.option(
    "--data-dir", default="data/eval", show_default=True, help="Where DIR/<task> holds each task's data."
)
@click.option("--data", "data_pairs", multiple=True, help="TASK=PATH for one task's data (repeatable).")
@click.option("--max-new-tokens", default=256, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--concurrency", default=8, show_default=True, type=click.IntRange(min=1), help="Endpoint model only."
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_common
def run_cmd(model_spec: str, tasks: str, data_dir: str, data_pairs: tuple[str, ...], max_new_tokens: int,
            concurrency: int, quiet: bool, **common: Any) -> None:  # fmt: skip
    """Ask the model every item of the tasks and score them; a re-run resumes where a killed one stopped."""

    def go() -> None:
        from polyvlm.clients.chat import LimitsSpec
        from polyvlm.eval.adapters.base import GenerationSettings
        from polyvlm.eval.adapters.spec import open_adapter
        from polyvlm.eval.registry import get_task
        from polyvlm.eval.run import judge_factory, run_task

        config = _config(quiet=quiet, **common)
        data = dict(p.split("=", 1) for p in data_pairs if "=" in p)
        chosen = [get_task(name) for name in _split(tasks)]  # unknown names fail before any work
        settings = GenerationSettings(max_new_tokens=max_new_tokens, seed=config.seed)
        adapter = open_adapter(model_spec, settings, str(config.cache_dir / "model-responses.sqlite"),
                               config.api_key_env, LimitsSpec(concurrency=concurrency))  # fmt: skip
        if config.judge:  # an unreachable judge stops the run before the model is asked anything
            judge_factory(config)(0)
        for task in chosen:
            source = _data_for(task, data_dir, data)
            if source == task.hub_name:
                click.echo(f"{task.name}: no {Path(data_dir) / task.name}; loading the hub dataset {source}")
            _print_result(run_task(task, source, adapter, config))

    _user_errors(go)


@eval_group.command("suite")
@click.argument("name")
@click.option("--model", "model_spec", required=True, help="Model under test (as `eval run --model`).")
@click.option(
    "--data-dir", default="data/eval", show_default=True, help="Where DIR/<task> holds each task's data."
)
@click.option("--data", "data_pairs", multiple=True, help="TASK=PATH for one task's data (repeatable).")
@click.option("--max-new-tokens", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_common
def suite_cmd(name: str, model_spec: str, data_dir: str, data_pairs: tuple[str, ...], max_new_tokens: int,
              concurrency: int, quiet: bool, **common: Any) -> None:  # fmt: skip
    """Run a named suite (see eval/suites.py: ja, ...); tasks without data on disk are listed as skipped."""

    def go() -> None:
        from polyvlm.clients.chat import LimitsSpec
        from polyvlm.eval.adapters.base import GenerationSettings
        from polyvlm.eval.adapters.spec import open_adapter
        from polyvlm.eval.run import judge_factory
        from polyvlm.eval.suite_run import run_suite, suite_sources
        from polyvlm.eval.suites import get_suite

        suite = get_suite(name)
        config = _config(quiet=quiet, **common)
        sources = suite_sources(suite, data_dir, dict(p.split("=", 1) for p in data_pairs if "=" in p))
        settings = GenerationSettings(max_new_tokens=max_new_tokens, seed=config.seed)
        adapter = open_adapter(model_spec, settings, str(config.cache_dir / "model-responses.sqlite"),
                               config.api_key_env, LimitsSpec(concurrency=concurrency))  # fmt: skip
        if config.judge:
            judge_factory(config)(0)
        summary = run_suite(suite, sources, adapter, config, on_task=_print_result)
        click.echo(f"suite {suite.name} ({adapter.name}):")
        for row in summary["rows"]:
            shown = f"skipped ({row['skipped']})" if row["skipped"] else f"{row['value']:.2f}"
            click.echo(f"  {row['task']} / {row['metric']}: {shown}")
        headline = "n/a" if summary["headline"] is None else f"{summary['headline']:.2f}"
        click.echo(
            f"  headline: {headline} (mean over {summary['tasks_scored']} of {summary['tasks_total']} tasks)"
        )

    _user_errors(go)


@eval_group.command("score")
@click.option("--task", "task_name", required=True, help="The task the predictions answer.")
@click.option("--data", required=True, help="The task's data (file, directory or hub name).")
@click.option("--predictions", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSONL with question_id and text per line (ours, llm-jp-eval-mm's, Heron's answer files).")  # fmt: skip
@click.option("--answer-field",
              help="The field of each line holding the answer (default: found from the file; see docs/eval.md).")  # fmt: skip
@click.option("--model-name", help="Name of the model that answered (default: the file's stem).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_common
def score_cmd(task_name: str, data: str, predictions: str, answer_field: str | None, model_name: str | None,
              quiet: bool, **common: Any) -> None:  # fmt: skip
    """Score existing predictions (another run's or another harness's) with the task's metrics."""

    def go() -> None:
        from polyvlm.eval.judge_health import JudgeFailuresError
        from polyvlm.eval.registry import get_task
        from polyvlm.eval.run import score_existing

        config = _config(quiet=quiet, **common)
        name = model_name or Path(predictions).stem
        try:
            result = score_existing(get_task(task_name), data, Path(predictions), name, config, answer_field)
        except JudgeFailuresError as e:
            _print_answers_read(e.result, predictions)
            raise
        _print_answers_read(result, predictions)
        _print_result(result)

    _user_errors(go)


@eval_group.command("report")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", default="leaderboard.html", show_default=True, help="The HTML page to write.")
@click.option(
    "--markdown", help="Also write the leaderboard as Markdown here (default: beside the HTML, .md)."
)
def report_cmd(dirs: tuple[str, ...], output: str, markdown: str | None) -> None:
    """A leaderboard (HTML and Markdown) across the models and runs under DIRS."""
    from polyvlm.eval.report import collect_runs, write_reports

    runs = _user_errors(lambda: collect_runs([Path(d) for d in dirs]))
    if not runs:
        raise click.ClickException(f"no DIR/<task>/<model>/evaluation.jsonl under {', '.join(dirs)}")
    md = Path(markdown) if markdown else Path(output).with_suffix(".md")
    write_reports(runs, Path(output), md)
    click.echo(f"wrote {output} and {md} ({len(runs)} task × model results)")


@eval_group.command("translate")
@click.option(
    "--task", "task_name", required=True, help="The multiple-choice task to translate (e.g. mmbench)."
)
@click.option("--data", required=True, help="The task's data (file, directory or hub name).")
@click.option("--to", "targets", required=True, help="Comma-separated languages, e.g. fr,de,it,es.")
@click.option(
    "--model", "model_spec", required=True, help="Translator: openai:MODEL@URL or local:smollm2|DIR."
)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Writes OUTPUT/<task>-<lang>/ (load with --data <task>-<lang>=OUTPUT).")  # fmt: skip
@click.option("--source-language", default="en", show_default=True)
@click.option("--api-key-env", default="")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N items.")
@click.option("--no-language-check", is_flag=True, help="Skip language identification of the outputs.")
def translate_cmd(task_name: str, data: str, targets: str, model_spec: str, output: str, source_language: str,
                  api_key_env: str, limit: int | None, no_language_check: bool) -> None:  # fmt: skip
    """Translate a benchmark with structure-preserving translation; checks keep options, answers and images aligned."""

    def go() -> None:
        from polyvlm.eval.translate_task import translate_task

        for lang in _split(targets):
            summary = translate_task(task_name, data, lang, model_spec, Path(output), source_language,
                                     api_key_env, limit, check_language=not no_language_check)  # fmt: skip
            click.echo(f"{task_name}-{lang}: {summary['written']} items written, {summary['failed']} failed "
                       f"{summary['failures']} -> {summary['dir']}")  # fmt: skip

    _user_errors(go)
