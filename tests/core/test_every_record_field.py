"""Every declared field of every record kind survives each stored form: a field left out anywhere fails here.

The records are built from the declarations themselves (a non-default value per field, by its type), so a
field added to a record is covered without touching this file; a field of a new type fails until
`_value_for` knows one.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pyarrow.parquet as pq
import pytest

from polyvlm.core.declared_record import DeclaredRecord
from polyvlm.core.record_fields import list_item, without_none
from polyvlm.core.record_plan import declare_fields
from polyvlm.core.records import (
    RECORD_TYPES,
    SCHEMAS,
    Document,
    ImageRef,
    Record,
    Sample,
    record_from_dict,
    record_from_json,
    record_to_json,
    record_to_row,
    records_to_table,
    row_to_record,
    table_to_records,
)
from polyvlm.io.jsonl import ReadJsonl, WriteJsonl
from polyvlm.io.parquet import ReadParquet, WriteParquet

KINDS = sorted(RECORD_TYPES)


def _value_for(hint: Any, name: str) -> Any:
    """A value of type `hint` that no field has as its default (non-ASCII, bytes 0-255, floats that must stay exact)."""
    hint = without_none(hint)
    item = list_item(hint)
    if isinstance(hint, type) and issubclass(hint, DeclaredRecord):
        return full_record(hint)
    if isinstance(item, type) and issubclass(item, DeclaredRecord):
        return [full_record(item), full_record(item)]
    values = {
        str: f'{name}・値 "q"\n',
        int: 2**40 + 7,
        float: 1 / 3,
        bool: True,
        bytes: bytes(range(256)),
        list[str]: [f"{name} 一", "", "二\n"],
        dict[str, Any]: {"題名": name, "nested": {"a": [1, 2.5, None, True]}, "big": 2**60},
        dict[str, float]: {"nsfw": 0.1, "clip": -1 / 3},
    }
    if hint not in values:
        raise AssertionError(f"no test value for a field of type {hint!r} ({name}): add one to _value_for")
    return values[hint]


def full_record(cls: type) -> Any:
    """An instance of a record class with a non-default value in every declared field."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _value_for(hints[f.name], f.name) for f in dataclasses.fields(cls)})


def _defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def differing_fields(expected: Any, got: Any) -> list[str]:
    """The declared fields whose values differ between two records of one class."""
    return [f.name for f in dataclasses.fields(expected) if getattr(expected, f.name) != getattr(got, f.name)]


def _through_json(record: Record) -> Record:
    return record_from_dict(record.to_dict())


def _through_row(record: Record) -> Record:
    return row_to_record(record.kind, record_to_row(record))


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_has_a_value_other_than_its_default(kind):
    def check(cls: type, record: Any) -> None:
        for name, default in _defaults(cls).items():
            assert getattr(record, name) != default, f"{cls.__name__}.{name} was built with its default"
        for f in dataclasses.fields(cls):
            value = getattr(record, f.name)
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, DeclaredRecord):
                    check(type(part), part)

    check(RECORD_TYPES[kind], full_record(RECORD_TYPES[kind]))


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_survives_the_json_forms(kind):
    record = full_record(RECORD_TYPES[kind])
    assert differing_fields(record, _through_json(record)) == []
    assert differing_fields(record, record_from_json(record_to_json(record))) == []
    assert record_from_json(record_to_json(record)) == record


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_survives_the_arrow_form(kind, tmp_path):
    record = full_record(RECORD_TYPES[kind])
    assert differing_fields(record, _through_row(record)) == []
    pq.write_table(records_to_table([record, record]), tmp_path / "t.parquet")
    assert table_to_records(pq.read_table(tmp_path / "t.parquet")) == [record, record]


def _struct_names(arrow_type: Any) -> list[str]:
    return [arrow_type.field(i).name for i in range(arrow_type.num_fields)]


@pytest.mark.parametrize("kind", KINDS)
def test_the_schema_has_a_column_for_every_declared_field(kind):
    def check(cls: type, names: list[str], arrow_types: list[Any]) -> None:
        assert names == [f.name for f in dataclasses.fields(cls)], cls.__name__
        hints = typing.get_type_hints(cls)
        for f, arrow_type in zip(dataclasses.fields(cls), arrow_types, strict=True):
            hint = without_none(hints[f.name])
            part = list_item(hint) if list_item(hint) is not None else hint
            if isinstance(part, type) and issubclass(part, DeclaredRecord):
                struct = arrow_type.value_type if hint is not part else arrow_type
                check(part, _struct_names(struct), [struct.field(i).type for i in range(struct.num_fields)])

    schema = SCHEMAS[kind]
    check(RECORD_TYPES[kind], schema.names, list(schema.types))


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_survives_the_writers_and_readers(kind, tmp_path):
    record = full_record(RECORD_TYPES[kind])
    for writer, reader in [(WriteJsonl(), ReadJsonl()), (WriteParquet(), ReadParquet())]:
        shard = writer.open(str(tmp_path), f"s-{kind}", 100)
        shard.write(record)
        (name,) = shard.commit()
        back = list(reader.read(str(tmp_path / writer.params.path / name)))
        assert back == [record], writer.name


@pytest.mark.parametrize("form", ["json", "row"])
def test_a_field_dropped_from_serialisation_is_caught(form, monkeypatch):
    # the negative control: a forgotten field (here Document.raw_content_type) must fail the round trip
    plan = Document._plan
    dropped = "raw_content_type"
    out = "to_json" if form == "json" else "to_row"
    kept = tuple((name, convert) for name, convert in getattr(plan, out) if name != dropped)
    monkeypatch.setattr(Document, "_plan", dataclasses.replace(plan, **{out: kept}))
    record = full_record(Document)
    through = _through_json if form == "json" else _through_row
    assert differing_fields(record, through(record)) == [dropped]


def test_a_part_dropped_from_a_nested_record_is_caught(monkeypatch):
    plan = ImageRef._plan
    kept = tuple((name, convert) for name, convert in plan.to_json if name != "phash")
    monkeypatch.setattr(ImageRef, "_plan", dataclasses.replace(plan, to_json=kept))
    record = full_record(Sample)
    assert differing_fields(record, _through_json(record)) == ["images"]


def test_a_field_of_a_type_with_no_stored_form_fails_at_declaration():
    with pytest.raises(TypeError, match=r"Odd\.tags: no stored form"):

        @declare_fields
        @dataclasses.dataclass(slots=True)
        class Odd(DeclaredRecord):
            tags: set[str] = dataclasses.field(default_factory=set)


def test_a_top_level_record_reads_declared_keys_and_a_part_refuses_unknown_ones():
    # what the hand-written from_dict methods did, kept: readers may add keys to a record's dict, a
    # record without its id is a KeyError, and an image with an unknown key is a TypeError
    assert record_from_dict({"kind": "document", "id": "d", "extra": 1}) == Document(id="d")
    with pytest.raises(KeyError, match="id"):
        record_from_dict({"kind": "sample"})
    with pytest.raises(TypeError):
        ImageRef.from_dict({"url": "u", "colour": "red"})
    with pytest.raises(ValueError, match="unknown record kind"):
        record_from_dict({"kind": "video", "id": "v"})
