"""What annotators rate in a project: ordinal scales (adequacy, fluency 1-5) and nominal choices (accept)."""

from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

RESERVED_KEYS = set("cejknp")  # the page's own shortcuts: comment, edit, next, previous


class RatingField(BaseModel):
    """One rating an annotator gives each item."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    kind: Literal["ordinal", "nominal"]
    choices: list[str] = Field(default_factory=list)
    """nominal: the allowed values, e.g. [accept, reject]"""
    low: int = 1
    high: int = 5
    """ordinal: the scale's ends (inclusive)"""
    label: str = ""

    @model_validator(mode="after")
    def _shape(self) -> RatingField:
        if self.kind == "nominal" and len(self.choices) < 2:
            raise ValueError(f"nominal field {self.name!r} needs at least two choices")
        if self.kind == "ordinal" and self.high <= self.low:
            raise ValueError(f"ordinal field {self.name!r}: high must exceed low")
        return self

    def values(self) -> list[str]:
        """The allowed answers as the form sends them."""
        if self.kind == "nominal":
            return list(self.choices)
        return [str(v) for v in range(self.low, self.high + 1)]

    def parse(self, raw: str | None) -> str | int:
        """The stored value of a submitted answer; ValueError when it is not allowed."""
        if raw is None or raw not in self.values():
            raise ValueError(f"{self.name}: choose one of {', '.join(self.values())}")
        return int(raw) if self.kind == "ordinal" else raw


class ReviewConfig(BaseModel):
    """A project's rating form (Multi-PixMo's review: adequacy, fluency, accept/reject by default)."""

    model_config = ConfigDict(extra="forbid")
    fields: list[RatingField] = Field(
        default_factory=lambda: [
            RatingField(name="adequacy", kind="ordinal", label="Adequacy (meaning kept)"),
            RatingField(name="fluency", kind="ordinal", label="Fluency (natural language)"),
            RatingField(name="decision", kind="nominal", choices=["accept", "reject"], label="Decision"),
        ]
    )
    decision_field: str = "decision"
    """the nominal field whose first choice keeps an item in the export (accept) and others drop it"""

    @model_validator(mode="after")
    def _decision_exists(self) -> ReviewConfig:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"rating field names repeat: {names}")
        if self.decision_field not in names or self.field(self.decision_field).kind != "nominal":
            raise ValueError(f"decision_field {self.decision_field!r} must name a nominal field")
        return self

    def field(self, name: str) -> RatingField:
        """The field called `name`."""
        return next(f for f in self.fields if f.name == name)

    def shortcut(self, field: RatingField, value: str) -> str:
        """The key that picks `value`: 1-9 (first scale), shift+1-9 (second; Alt+digit switches browser tabs,
        so a third scale has none), a choice's first letter unless the page uses it; empty when none."""
        if field.kind == "ordinal":
            n = [f.name for f in self.fields if f.kind == "ordinal"].index(field.name)
            return f"{('', 'shift+')[n]}{value}" if n < 2 and len(value) == 1 else ""
        key = value[:1].lower()
        firsts = [c[:1].lower() for f in self.fields if f.kind == "nominal" for c in f.choices]
        return key if key.isalpha() and firsts.count(key) == 1 and key not in RESERVED_KEYS else ""


def load_config(path: str | None) -> ReviewConfig:
    """The project's rating form from a YAML file, or the default one."""
    if path is None:
        return ReviewConfig()
    with open(path, encoding="utf-8") as f:
        return ReviewConfig.model_validate(yaml.safe_load(f) or {})
