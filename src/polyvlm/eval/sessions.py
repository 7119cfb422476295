"""sessions.jsonl: one line per inference session of a task and model — who answered (adapter, settings)
and how many items it was asked; a resumed run shows as a second session."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polyvlm.eval.adapters.base import Adapter

SESSIONS = "sessions.jsonl"  # one line per inference session: who answered, how many items were asked


def record_session(out: Path, adapter: Adapter, asked: int) -> None:
    """Note that `adapter` is about to answer `asked` items (a resumed run shows as a second session)."""
    info = {k: v for k, v in adapter.describe().items() if k != "usage"}
    row = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "asked": asked, "model": info}
    out.mkdir(parents=True, exist_ok=True)
    with (out / SESSIONS).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def read_sessions(out: Path) -> list[dict[str, Any]]:
    """The inference sessions recorded for this task and model."""
    path = out / SESSIONS
    if not path.is_file():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
