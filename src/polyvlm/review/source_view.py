"""What the annotator compares the generated text with: the original before translation or regeneration, or
the captions and objects a text-only generator wrote from."""

from __future__ import annotations

from typing import Any

from polyvlm.core.records import Record


def _messages(block: dict[str, Any]) -> list[str]:
    return [f"{m.get('role', '')}: {m.get('content', '')}" for m in block.get("messages") or []]


def source_panels(record: Record) -> list[dict[str, str]]:
    """Titled texts of the record's sources, in the order they were made; empty when none was kept."""
    md = record.metadata
    panels = []
    regenerated = md.get("regenerated_from")
    if isinstance(regenerated, dict):
        lines = _messages(regenerated) or [str(regenerated.get("text", ""))]
        panels.append({"title": "Before regeneration", "text": "\n\n".join(lines)})
    translated = md.get("translated_from")
    if isinstance(translated, dict):
        lines = _messages(translated) or [str(translated.get("text", ""))]
        title = f"Original ({translated.get('language', '?')}), before translation"
        panels.append({"title": title, "text": "\n\n".join(lines)})
    if md.get("captions"):
        panels.append({"title": "Captions the generator read", "text": "\n".join(map(str, md["captions"]))})
    if md.get("instances"):
        objects = [
            f"{i.get('category', '?')} {i.get('bbox', '')}" for i in md["instances"] if isinstance(i, dict)
        ]
        panels.append({"title": "Objects (COCO boxes)", "text": "\n".join(objects)})
    return panels
