"""The leaderboard across models and runs, as HTML (tables, per-category breakdowns, CIs, judge failures,
bar charts with CI whiskers, sample answers) and as Markdown. One row per model (its runs merged, the newest
run of a task shown); each metric drawn on its own stated scale; the judge named only for judged metrics.
Everything a model or a dataset wrote is escaped: an answer is text on the page, never markup."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from polyvlm.eval.report_data import TaskRun, collect_runs, merge_runs
from polyvlm.eval.report_scales import MetricScale, metric_scale
from polyvlm.eval.report_svg import bar_chart

__all__ = ["collect_runs", "write_reports", "render_html", "render_markdown"]

CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 18px}th,td{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}.warn{color:#b00020;font-weight:600}
.ci{color:#666;font-size:11px}.na{color:#999}pre{white-space:pre-wrap;margin:0;max-width:520px;font-size:12px}
h2{border-bottom:2px solid #4C78A8;padding-bottom:2px;margin-top:32px}"""


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _cells(runs: list[TaskRun]) -> list[tuple[str, str]]:
    """The (task, metric) columns of the leaderboard, in order."""
    return sorted({(r.task, m) for r in runs for m in r.metrics})


def _labels(runs: list[TaskRun]) -> list[str]:
    return sorted({r.label for r in runs})


def _index(runs: list[TaskRun]) -> dict[tuple[str, str], TaskRun]:
    return {(r.label, r.task): r for r in runs}


def _scales(runs: list[TaskRun]) -> dict[tuple[str, str], MetricScale]:
    """Each (task, metric) column's scale, widened to every value shown in it."""
    return {
        (t, m): metric_scale(m, [(r.metrics.get(m) or {}).get("overall_score") for r in runs if r.task == t])
        for t, m in _cells(runs)
    }


def _provenance(run: TaskRun) -> str:
    """Which run a merged cell comes from, and how many older runs it replaced."""
    older = f", newest of {len(run.superseded) + 1} runs" if run.superseded else ""
    return f"run {run.run}{older}"


def _headline_html(entry: dict[str, Any] | None, failures: int, run: TaskRun | None = None) -> str:
    if entry is None:
        return '<td class="na">—</td>'
    d = entry.get("details") or {}
    if d.get("skipped"):
        return f'<td class="na" title="{escape(str(d["skipped"]))}">skipped</td>'
    ci = ""
    if d.get("ci_low") is not None and d.get("ci_high") is not None:
        ci = f'<br><span class="ci">[{d["ci_low"]:.2f}, {d["ci_high"]:.2f}] n={d.get("n", "?")}</span>'
    spread = (
        f'<br><span class="ci">±{d["judge_run_std"]:.2f} over {len(d["judge_runs"])} judge runs</span>'
        if d.get("judge_runs")
        else ""
    )
    warn = f'<br><span class="warn">{failures} judge failures</span>' if failures else ""
    source = f'<br><span class="ci">{escape(_provenance(run))}</span>' if run else ""
    return f'<td class="num">{_fmt(entry.get("overall_score"))}{ci}{spread}{warn}{source}</td>'


def _leaderboard_html(runs: list[TaskRun]) -> str:
    cells, index, scales = _cells(runs), _index(runs), _scales(runs)
    head = "".join(
        f"<th>{escape(t)}<br><small>{escape(m)} · {escape(scales[t, m].label())}</small></th>"
        for t, m in cells
    )
    rows = []
    for label in _labels(runs):
        tds = []
        for task, metric in cells:
            run = index.get((label, task))
            entry = run.metrics.get(metric) if run else None
            failures = int((run.manifest.get("judge_failures") or {}).get(metric, 0)) if run else 0
            tds.append(_headline_html(entry, failures, run))
        rows.append(f"<tr><th>{escape(label)}</th>{''.join(tds)}</tr>")
    return f"<table><tr><th>model</th>{head}</tr>{''.join(rows)}</table>"


def _task_html(task: str, runs: list[TaskRun]) -> str:
    out = [f"<h2>{escape(task)}</h2>"]
    metrics = sorted({m for r in runs for m in r.metrics})
    for metric in metrics:
        bars = []
        for r in sorted(runs, key=lambda r: r.label):
            e = r.metrics.get(metric) or {}
            d = e.get("details") or {}
            bars.append((r.label, e.get("overall_score"), d.get("ci_low"), d.get("ci_high")))
        scale = metric_scale(metric, [b[1] for b in bars])
        out.append(bar_chart(f"{task} · {metric} ({scale.label()})", bars, scale))
        out.append(_counts_html(metric, runs, scale.judged))
        out.append(_categories_html(metric, runs))
    out.append(_samples_html(runs))
    return "\n".join(out)


def _counts_html(metric: str, runs: list[TaskRun], judged: bool) -> str:
    """Scored and excluded counts per model; the judge and its failures only for a judged metric."""
    rows = []
    for r in sorted(runs, key=lambda r: r.label):
        d = (r.metrics.get(metric) or {}).get("details") or {}
        excluded = (
            ", ".join(f"{escape(str(k))}: {v}" for k, v in sorted((d.get("excluded") or {}).items()))
            or "none"
        )
        failures = int((r.manifest.get("judge_failures") or {}).get(metric, 0))
        judge = escape(str((r.manifest.get("judge") or {}).get("spec", ""))) or "—"
        fail_cell = f'<span class="warn">{failures}</span>' if failures else "0"
        judge_cells = f"<td class='num'>{fail_cell}</td><td>{judge}</td>" if judged else ""
        rows.append(f"<tr><td>{escape(r.label)}</td><td>{escape(_provenance(r))}</td>"
                    f"<td class='num'>{d.get('n', '—')}</td><td>{excluded}</td>{judge_cells}</tr>")  # fmt: skip
    judge_head = "<th>judge failures</th><th>judge</th>" if judged else ""
    return ("<table><tr><th>model</th><th>from</th><th>scored</th><th>excluded (reason: items)</th>"
            f"{judge_head}</tr>{''.join(rows)}</table>")  # fmt: skip


def _categories_html(metric: str, runs: list[TaskRun]) -> str:
    per: dict[str, dict[str, float]] = {}
    for r in runs:
        per[r.label] = ((r.metrics.get(metric) or {}).get("details") or {}).get("by_category") or {}
    categories = sorted({c for v in per.values() for c in v})
    if categories in ([], [""]):  # a task without categories has nothing to break down
        return ""
    labels = sorted(per)
    head = "".join(f"<th>{escape(lb)}</th>" for lb in labels)
    rows = "".join(
        f"<tr><td>{escape(c)}</td>"
        + "".join(f"<td class='num'>{_fmt(per[lb].get(c))}</td>" for lb in labels)
        + "</tr>"
        for c in categories
    )
    return f"<table><tr><th>{escape(metric)} by category</th>{head}</tr>{rows}</table>"


def _samples_html(runs: list[TaskRun]) -> str:
    rows = []
    for r in sorted(runs, key=lambda r: r.label):
        for s in r.samples:
            answer = s.get("answer")
            answer = " | ".join(map(str, answer)) if isinstance(answer, list) else str(answer or "")
            rows.append(
                f"<tr><td>{escape(r.label)}</td><td>{escape(str(s.get('question_id', '')))}</td>"
                f"<td><pre>{escape(str(s.get('input_text', '')))}</pre></td><td><pre>{escape(str(s.get('text', '')))}</pre></td>"
                f"<td><pre>{escape(answer)}</pre></td></tr>"
            )
    if not rows:
        return ""
    return ("<details><summary>sample answers</summary><table><tr><th>model</th><th>id</th><th>question</th>"
            f"<th>answer given</th><th>reference</th></tr>{''.join(rows)}</table></details>")  # fmt: skip


def render_html(runs: list[TaskRun]) -> str:
    """The whole leaderboard page."""
    runs = merge_runs(runs)
    by_task: dict[str, list[TaskRun]] = defaultdict(list)
    for r in runs:
        by_task[r.task].append(r)
    failures = sum(r.judge_failures() for r in runs)
    note = (f'<p class="warn">{failures} judge verdicts failed (a call that failed after retries or a reply that '
            "did not parse): those items are left out of the means, never scored 0.</p>") if failures else ""  # fmt: skip
    body = "\n".join(_task_html(t, by_task[t]) for t in sorted(by_task))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>polyvlm leaderboard</title><style>{CSS}</style>'
        f"</head><body><h1>polyvlm leaderboard</h1><p>{len(by_task)} tasks, {len(_labels(runs))} models (runs of "
        "a model merged, the newest run of each task shown) · each metric on its own scale, stated with it · "
        f"95% bootstrap confidence intervals in brackets · generated {stamp}</p>{note}"
        f"{_leaderboard_html(runs)}{body}</body></html>"
    )


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(runs: list[TaskRun]) -> str:
    """The leaderboard and per-category tables as Markdown."""
    runs = merge_runs(runs)
    cells, index, scales = _cells(runs), _index(runs), _scales(runs)
    lines = [
        "# polyvlm leaderboard",
        "",
        "Headline [95% bootstrap CI] (the run it comes from); each metric on its own scale; judge failures are "
        "excluded, never 0. Runs of a model are merged: the newest run of each task is shown.",
        "",
    ]
    lines.append(
        "| model | " + " | ".join(f"{_md(t)} / {_md(m)} ({scales[t, m].label()})" for t, m in cells) + " |"
    )
    lines.append("|---" * (len(cells) + 1) + "|")
    for label in _labels(runs):
        row = []
        for task, metric in cells:
            run = index.get((label, task))
            e = run.metrics.get(metric) if run else None
            if e is None:
                row.append("—")
                continue
            d = e.get("details") or {}
            ci = (
                f" [{d['ci_low']:.2f}, {d['ci_high']:.2f}]"
                if d.get("ci_low") is not None and d.get("ci_high") is not None
                else ""
            )
            failures = int((run.manifest.get("judge_failures") or {}).get(metric, 0)) if run else 0
            row.append(
                _fmt(e.get("overall_score"))
                + ci
                + (f" ⚠{failures} judge failures" if failures else "")
                + f" ({_md(_provenance(run))})"
            )
        lines.append(f"| {_md(label)} | " + " | ".join(row) + " |")
    for task in sorted({r.task for r in runs}):
        task_runs = sorted((r for r in runs if r.task == task), key=lambda r: r.label)
        for metric in sorted({m for r in task_runs for m in r.metrics}):
            per = {
                r.label: ((r.metrics.get(metric) or {}).get("details") or {}).get("by_category") or {}
                for r in task_runs
            }
            categories = sorted({c for v in per.values() for c in v})
            if categories in ([], [""]):
                continue
            lines += ["", f"## {_md(task)} · {_md(metric)} by category", ""]
            lines.append("| category | " + " | ".join(_md(lb) for lb in per) + " |")
            lines.append("|---" * (len(per) + 1) + "|")
            lines += [
                f"| {_md(c)} | " + " | ".join(_fmt(per[lb].get(c)) for lb in per) + " |" for c in categories
            ]
    return "\n".join(lines) + "\n"


def write_reports(runs: list[TaskRun], html_path: Path, md_path: Path) -> None:
    """Write the HTML page and the Markdown file (each atomically)."""
    for path, text in ((html_path, render_html(runs)), (md_path, render_markdown(runs))):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
