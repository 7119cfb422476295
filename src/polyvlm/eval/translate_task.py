"""`polyvlm eval translate`: a benchmark into another language with synth's structure-preserving translation
(placeholders, language check, length ratio), then the benchmark's own checks — the same option letters in
the same order, the answer key unchanged, the same images — and written as a task `<task>-<lang>` with
provenance. An item that fails any check is left out and counted by reason, never written half-translated.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from polyvlm.core.records import Sample
from polyvlm.core.step import Drop
from polyvlm.eval.adapters.images import image_bytes
from polyvlm.eval.adapters.spec import judge_spec
from polyvlm.eval.item_files import write_items
from polyvlm.eval.items import EvalItem
from polyvlm.eval.registry import get_task
from polyvlm.eval.run import load_items
from polyvlm.eval.tasks.choice_prompt import rotate
from polyvlm.eval.tasks.mmbench_layout import mmbench_prompt

BATCH = 16


def _record(item: EvalItem, source: str) -> Sample:
    """The texts to translate, as a Sample's metadata (question, hint, options in letter order, reference)."""
    meta: dict[str, Any] = {
        "question": item.meta.get("question", item.prompt),
        "hint": item.meta.get("hint", ""),
    }
    if item.choices:
        meta["options"] = list(item.choices.values())
    elif isinstance(item.reference, str):
        meta["reference"] = item.reference
    return Sample(id=item.question_id, language=source, metadata=meta)


def _rebuild(
    item: EvalItem, translated: Sample, lang: str, task: str, circular: bool
) -> tuple[list[EvalItem], str]:
    """The translated item (and its rotations for a circular task), or why it fails the benchmark checks."""
    meta = translated.metadata
    try:
        images = tuple(image_bytes(im) for im in item.images)  # the translation carries its own copies
    except OSError as e:
        return [], f"missing_image: {e}"
    common = {
        "task": task,
        "images": images,
        "category": item.category,
        "language": lang,
        "group": item.group,
    }
    origin = {"translated_from": {"language": item.language, "question_id": item.question_id}}
    if not item.choices:
        reference = meta.get("reference", item.reference)
        if not str(meta.get("question", "")).strip() or (
            isinstance(item.reference, str) and not str(reference).strip()
        ):
            return [], "empty_translation"
        return [
            EvalItem(
                item.question_id,
                prompt=meta["question"],
                reference=reference,
                meta={**item.meta, **origin},
                **common,
            )
        ], ""
    options = meta.get("options") or []
    if len(options) != len(item.choices) or any(not str(o).strip() for o in options):
        return [], "options_misaligned"  # an option lost, merged or emptied: letters would point elsewhere
    choices = dict(zip(item.choices, (str(o).strip() for o in options), strict=True))
    if item.reference not in choices:
        return [], "answer_key_lost"
    rotations = len(choices) if circular else 1
    out = []
    for shift in range(rotations):
        shown, key = rotate(choices, str(item.reference), shift) if shift else (choices, str(item.reference))
        prompt = mmbench_prompt(meta["question"], meta.get("hint", ""), shown, lang)
        qid = item.question_id if shift == 0 else f"{item.group}-c{shift}"
        extra = {"rotation": shift, "question": meta["question"], "hint": meta.get("hint", ""), **origin}
        out.append(EvalItem(qid, prompt=prompt, reference=key, choices=shown, meta=extra, **common))
    return out, ""


def translate_task(
    task_name: str,
    data: str,
    lang: str,
    model_spec: str,
    output: Path,
    source_language: str = "en",
    api_key_env: str = "",
    limit: int | None = None,
    check_language: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Translate the task's items into `lang`; write OUTPUT/<task>-<lang>/ and return the counts."""
    from polyvlm.synth.translate import Translate

    task = get_task(task_name)
    items = load_items(task, data, limit)
    # a circular task's rotations are rebuilt from the translated original (rotation 0): translated once
    originals = [it for it in items if it.meta.get("rotation", 0) == 0]
    circular = len(originals) < len(items)
    name = f"{task.name}-{lang}"
    spec = judge_spec(model_spec, str(output / ".cache/translate-responses.sqlite"), api_key_env=api_key_env)
    step = Translate(
        target=lang, source=source_language, client=spec, roles=[], text=False,
        metadata_keys=["question", "hint", "options", "reference"], check_language=check_language,
    )  # fmt: skip
    step.ensure_setup()
    step.check()
    written: list[EvalItem] = []
    failures: Counter[str] = Counter()
    failed: list[dict[str, str]] = []
    for start in tqdm(range(0, len(originals), BATCH), desc=f"translate {name}", disable=not progress):
        batch = originals[start : start + BATCH]
        outs = step.apply_batch([_record(it, source_language) for it in batch])
        for item, out in zip(batch, outs, strict=True):
            if isinstance(out, Drop):
                reason, detail = out.reason, out.detail
                rebuilt: list[EvalItem] = []
            else:
                rebuilt, reason = _rebuild(item, out, lang, name, circular)  # type: ignore[arg-type]
                detail = ""
            if reason:
                failures[reason.split(":")[0]] += 1
                failed.append({"question_id": item.question_id, "reason": reason, "detail": detail})
            written += rebuilt
    root = output / name
    n = write_items(written, root)
    provenance = {
        "task": name,
        "translated_from": {
            "task": task.name,
            "data": data,
            "language": source_language,
            "items": len(originals),
        },
        "translator": {
            "spec": model_spec,
            "prompt": "prompts/en/translate",
            "prompt_sha256": step._prompt.sha256,
        },
        "checks": [
            "placeholders restored",
            "language identified" if check_language else "language not checked",
            "length ratio",
            "options count and letters",
            "answer key",
            "images copied",
        ],  # fmt: skip
        "written_items": n,
        "translated_questions": len(originals) - len(failed),
        "failures": dict(failures),
        "failed_items": failed,
        "items_sha256": hashlib.sha256((root / "items.jsonl").read_bytes()).hexdigest(),
        "license": "derived from the source benchmark (its licence applies); machine translation",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "usage": step.metrics(),
    }
    (root / "provenance.json").write_text(
        json.dumps(provenance, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return {
        "written": len(originals) - len(failed),
        "failed": len(failed),
        "failures": dict(failures),
        "dir": str(root),
    }
