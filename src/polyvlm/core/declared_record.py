"""The base of record classes: to_dict, from_dict and the Arrow form, run by a plan built once per class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import pyarrow as pa

from polyvlm.core.record_fields import Convert


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """A record class's fields in declaration order with their converters, built once per class."""

    kind: str | None  # a top-level record names its kind in its JSON form; a part (image, turn) does not
    arrow_fields: tuple[tuple[str, pa.DataType], ...]
    to_json: tuple[tuple[str, Convert | None], ...]
    to_row: tuple[tuple[str, Convert | None], ...]
    from_json: Callable[[dict[str, Any] | None], Any]  # the record from its JSON form
    from_row: Callable[[dict[str, Any] | None], Any]  # the record from its Arrow row
    json_converts: bool  # whether any field converts on the way in (if not, cls(**d) reads the JSON form)
    row_converts: bool


class DeclaredRecord:
    """Base of the record classes: (de)serialisation by the plan `declare_fields` (core/record_plan.py) gives each."""

    __slots__ = ()
    _plan: ClassVar[FieldPlan]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (bytes as base64): `kind` first for a top-level record, then the fields in order."""
        plan = self._plan
        return _converted(self, plan.to_json, {"kind": plan.kind} if plan.kind else {})

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Self:
        """Inverse of to_dict; also accepts raw bytes from the Arrow form; a missing field takes its default."""
        return cls._plan.from_json(d)

    def to_arrow_row(self) -> dict[str, Any]:
        """The row of this record in its Arrow schema (bytes as they are, free-form metadata as JSON text)."""
        return _converted(self, self._plan.to_row, {})

    @classmethod
    def from_arrow_row(cls, row: dict[str, Any] | None) -> Self:
        """Inverse of to_arrow_row."""
        return cls._plan.from_row(row)

    @classmethod
    def arrow_schema(cls) -> pa.Schema:
        """The Arrow schema of a table of these records: one nullable column per field, in order."""
        return pa.schema(cls._plan.arrow_fields)

    @classmethod
    def arrow_struct(cls) -> pa.StructType:
        """The Arrow type of one of these records held inside another."""
        return pa.struct(cls._plan.arrow_fields)


def _converted(
    record: DeclaredRecord, converters: tuple[tuple[str, Convert | None], ...], d: dict[str, Any]
) -> dict:
    for name, convert in converters:
        value = getattr(record, name)
        d[name] = value if convert is None else convert(value)
    return d
