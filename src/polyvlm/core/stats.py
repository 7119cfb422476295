"""Run statistics: per-unit counters merged into the funnel of stats.json, and its text rendering."""

from __future__ import annotations

from typing import Any

from polyvlm.core.profiles import merge_profile_partials


def _add_counts(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, n in more.items():
        into[key] = into.get(key, 0) + n


def merge_unit_stats(
    units: list[dict[str, Any]], step_order: list[tuple[str, str]], last_phase: int
) -> dict[str, Any]:
    """Sum (phase, shard) counters into the run's funnel; `units` items carry 'phase' and 'stats'."""
    read: dict[str, Any] = {"records": 0, "skipped": {}, "rejected": {}, "errors": {}}
    steps = {
        label: {"label": label, "name": name, "in": 0, "out": 0, "dropped": {}, "errors": 0}
        for label, name in step_order
    }
    written: dict[str, int] = {}
    totals = {"kept": 0, "rejected": 0, "errors": 0, "created": 0}
    samples: list[dict[str, Any]] = []
    metrics: dict[str, dict[str, float]] = {}
    ordered = sorted(units, key=lambda u: (u["phase"], u["shard"]))
    for unit in ordered:
        s = unit["stats"]
        if "read" in s:
            read["records"] += s["read"]["records"]
            _add_counts(read["skipped"], s["read"]["skipped"])
            _add_counts(read["rejected"], s["read"].get("rejected", {}))
            _add_counts(read["errors"], s["read"]["errors"])
        for label, c in s["steps"].items():
            t = steps[label]
            t["in"] += c["in"]
            t["out"] += c["out"]
            t["errors"] += c["errors"]
            _add_counts(t["dropped"], c["dropped"])
        totals["rejected"] += s["rejected"]
        totals["errors"] += s["errors"]
        totals["created"] += s.get("created", 0)
        for label, counters in s.get("metrics", {}).items():
            _add_counts(metrics.setdefault(label, {}), counters)
        if unit["phase"] == last_phase:
            totals["kept"] += s["kept"]
            _add_counts(written, s["written"])
            samples.extend(s.get("samples", []))
    records_in = read["records"] + sum(read["errors"].values())
    extra: dict[str, Any] = merge_profile_partials([u["stats"] for u in ordered])
    if metrics:
        extra["metrics"] = metrics
    return {
        "read": read,
        "steps": [steps[label] for label, _ in step_order],
        "written": written,
        "totals": {"records_in": records_in, **totals},
        # expand steps make records: what came in plus what was made is what went out
        "balanced": records_in + totals["created"] == totals["kept"] + totals["rejected"] + totals["errors"],
        "samples": samples[:12],
        **extra,
    }


def format_funnel(stats: dict[str, Any]) -> str:
    """A plain-text funnel: records in, each step's in/out and drop reasons, what was written."""
    t = stats["totals"]
    read = stats["read"]
    lines = [f"read      {read['records']:>9} records from {stats.get('files', '?')} files"]
    for reason, n in sorted(read["skipped"].items()):
        lines.append(f"          {'':>9} skipped {n} ({reason})")
    for reason, n in sorted(read.get("rejected", {}).items()):
        lines.append(f"          {'':>9} rejected {n} ({reason}; in rejects/)")
    for reason, n in sorted(read["errors"].items()):
        lines.append(f"          {'':>9} error   {n} ({reason})")
    for s in stats["steps"]:
        lines.append(f"{s['label']:<24} {s['in']:>9} -> {s['out']:<9}")
        for reason, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1]):
            lines.append(f"{'':<24} {'':>9}    dropped {n} ({reason})")
        if s["errors"]:
            lines.append(f"{'':<24} {'':>9}    errors  {s['errors']}")
    made = f" (+{t['created']} made by expand steps)" if t.get("created") else ""
    lines.append(
        f"kept {t['kept']}, rejected {t['rejected']}, errors {t['errors']} of {t['records_in']} records in{made}"
        + ("" if stats["balanced"] else "  (UNBALANCED: please report)")
    )
    for label, n in stats["written"].items():
        lines.append(f"  {label}: {n} records")
    for label, counters in stats.get("metrics", {}).items():
        shown = ", ".join(f"{k} {v:,.4g}" for k, v in sorted(counters.items()))
        lines.append(f"  {label}: {shown}")
    return "\n".join(lines)
