"""The Arrow form of records: one schema per record kind (derived from the declared fields), rows and tables."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from polyvlm.core.record_kinds import RECORD_TYPES, ImageRef, Provenance, Record, record_type

PROVENANCE_TYPE = Provenance.arrow_struct()
IMAGE_TYPE = ImageRef.arrow_struct()
SCHEMAS: dict[str, pa.Schema] = {kind: cls.arrow_schema() for kind, cls in RECORD_TYPES.items()}
DOCUMENT_SCHEMA = SCHEMAS["document"]
SAMPLE_SCHEMA = SCHEMAS["sample"]
PAIR_SCHEMA = SCHEMAS["pair"]


def kind_of_schema(names: list[str]) -> str:
    """The record kind a table's column names belong to."""
    if "messages" in names:
        return "sample"
    if "image" in names and "text" in names:
        return "pair"
    return "document"


def record_to_row(record: Record) -> dict[str, Any]:
    """The Arrow row of a record (see SCHEMAS)."""
    return record.to_arrow_row()


def row_to_record(kind: str, row: dict[str, Any]) -> Record:
    """Inverse of record_to_row."""
    return record_type(kind).from_arrow_row(row)


def records_to_table(records: list[Record]) -> pa.Table:
    """An Arrow table of records of one kind."""
    kinds = {r.kind for r in records} or {"document"}
    if len(kinds) != 1:
        raise ValueError(f"a table holds one record kind, got {sorted(kinds)}")
    kind = kinds.pop()
    return pa.Table.from_pylist([record_to_row(r) for r in records], schema=SCHEMAS[kind])


def table_to_records(table: pa.Table, kind: str | None = None) -> list[Record]:
    """Inverse of records_to_table; the kind is inferred from the schema when not given."""
    if kind is None:
        kind = kind_of_schema(table.schema.names)
    return [row_to_record(kind, row) for row in table.to_pylist()]
