"""May a run resume from a checkpoint after its config changed? Compared by parsed values, not text.

A checkpoint stores the config it was trained with (values after validation and path resolution). A
change that cannot alter the steps already taken or the rest of the stage being resumed is allowed:
comments and formatting, logging and checkpoint cadence, the output folder, the failure threshold, and
anything in a stage after the checkpoint's stage (its data, its length, new stages). Any other difference
refuses the resume, naming the keys that differ.
"""

from __future__ import annotations

from typing import Any

FREE_KEYS = ("log_every", "checkpoint_every", "keep_checkpoints", "output_dir", "max_failed_share")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict/list as {dotted.path: leaf value}."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in items:
        out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out or {prefix: value}


def resume_conflicts(saved: dict, now: dict, stage: int) -> list[str]:
    """Dotted keys whose values differ and matter for resuming at stage index ``stage``."""
    old, new = flatten(saved), flatten(now)
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key, KeyError) == new.get(key, KeyError):
            continue
        parts = key.split(".")
        if parts[0] in FREE_KEYS:
            continue
        if parts[0] == "stages" and len(parts) > 1 and int(parts[1]) > stage:
            continue
        out.append(key)
    return out
