"""Small review projects for the tests: samples written as polyvlm JSONL, a project made by init_project."""

from __future__ import annotations

import secrets
from pathlib import Path

from polyvlm.core.records import ImageRef, Message, Provenance, Sample, record_to_json
from polyvlm.review.config import ReviewConfig
from polyvlm.review.project_init import InitResult, init_project
from polyvlm.review.store import connect

PHOTOS = Path(__file__).resolve().parents[2] / "examples/data/photos"


def samples(
    n: int, language: str = "fr", hostile: int | None = None, photo: str | None = None
) -> list[Sample]:
    """n translated-looking samples (the hostile-th one's answer carries a <script>)."""
    out = []
    for i in range(n):
        answer = f"Réponse numéro {i} : un chat dort sur le canapé."
        if i == hostile:
            answer = "<script>window.__xss = 1</script><b>bold?</b> & réponse"
        out.append(
            Sample(
                id=f"s{i}",
                images=[ImageRef(path=str(PHOTOS / photo))] if photo else [],
                messages=[Message("user", "<image>\nQue voit-on ?"), Message("assistant", answer)],
                task="caption",
                language=language,
                metadata={
                    "translated_from": {
                        "language": "en",
                        "messages": [
                            {"role": "user", "content": "<image>\nWhat is shown?"},
                            {"role": "assistant", "content": f"Answer number {i}: a cat sleeps on the sofa."},
                        ],
                    }
                },
                provenance=Provenance(
                    source="test", license="CC-BY-4.0", generator="gen-a" if i % 2 else "gen-b"
                ),
            )  # fmt: skip
        )
    return out


def make_project(
    tmp: Path, recs: list[Sample], annotators: list[str], overlap: int, share: float
) -> tuple[str, InitResult]:
    """Write `recs` as JSONL and create a project from them; (project folder, init result with tokens)."""
    data = tmp / f"data-{secrets.token_hex(3)}.jsonl"
    data.write_text("".join(record_to_json(r) + "\n" for r in recs), encoding="utf-8")
    project = str(tmp / f"project-{secrets.token_hex(3)}")
    return project, init_project(str(data), project, annotators, overlap, share, ReviewConfig())


def form(adequacy: int, fluency: int, decision: str, **extra: str) -> dict[str, str]:
    """A submitted review form with a fresh nonce, made from version 0 unless `base_version` says otherwise."""
    return {"adequacy": str(adequacy), "fluency": str(fluency), "decision": decision,
            "nonce": secrets.token_urlsafe(18), "base_version": "0", "base_adjudication": "0", **extra}  # fmt: skip


def assignment(project: str, annotator: str, item_id: int):
    """The row of annotator's assignment of item_id."""
    return (
        connect(project)
        .execute("SELECT * FROM assignments WHERE annotator = ? AND item_id = ?", (annotator, item_id))
        .fetchone()
    )
