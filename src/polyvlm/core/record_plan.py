"""declare_fields: a record dataclass's FieldPlan, built once from its field annotations."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import pyarrow as pa

from polyvlm.core.declared_record import DeclaredRecord, FieldPlan
from polyvlm.core.record_fields import Convert, FieldCodec, leaf_codec, list_item, without_none

R = TypeVar("R", bound=DeclaredRecord)


def _part_builder(cls: type[R], converters: list[tuple[str, Convert | None]]) -> Callable[[Any], R]:
    # parts (images, turns, provenance) were always built with cls(**d): an unknown key is an error, as it was
    converting = tuple((name, convert) for name, convert in converters if convert is not None)
    if not converting:
        return lambda d: cls(**(d or {}))

    def build(d: dict[str, Any] | None) -> R:
        kwargs = dict(d or {})
        for name, convert in converting:
            if name in kwargs:
                kwargs[name] = convert(kwargs[name])
        return cls(**kwargs)

    return build


def _record_builder(
    cls: type[R], converters: list[tuple[str, Convert | None]], required: tuple[str, ...]
) -> Callable[[Any], R]:
    # a top-level dict carries `kind` and readers may add keys: only the declared ones are read; a missing
    # one takes its default, a missing required one is a KeyError as d["id"] gave it
    plain = tuple(name for name, convert in converters if convert is None)
    converting = tuple((name, convert) for name, convert in converters if convert is not None)

    def build(d: dict[str, Any] | None) -> R:
        d = d or {}
        for name in required:
            if name not in d:
                raise KeyError(name)
        kwargs = {name: d[name] for name in plain if name in d}
        for name, convert in converting:
            if name in d:
                kwargs[name] = convert(d[name])
        return cls(**kwargs)

    return build


def _part_codec(part: type[DeclaredRecord]) -> FieldCodec:
    return FieldCodec(part.arrow_struct(), to_json=part.to_dict, from_json=part._plan.from_json,
                      to_row=part.to_arrow_row, from_row=part._plan.from_row)  # fmt: skip


def _list_reader(part: type[DeclaredRecord], build: Callable[[Any], Any], converts: bool) -> Convert:
    if not converts and part._plan.kind is None:  # a list of turns: cls(**d) is all a part's build does

        def read_as_is(items: list[dict[str, Any]] | None) -> list[DeclaredRecord]:
            return [part(**item) for item in items or []]

        return read_as_is

    def read(items: list[dict[str, Any]] | None) -> list[DeclaredRecord]:
        return [build(item) for item in items or []]

    return read


def _part_list_codec(part: type[DeclaredRecord]) -> FieldCodec:
    plan = part._plan

    def to_json(items: list[DeclaredRecord]) -> list[dict[str, Any]]:
        return [item.to_dict() for item in items]

    def to_row(items: list[DeclaredRecord]) -> list[dict[str, Any]]:
        return [item.to_arrow_row() for item in items]

    return FieldCodec(pa.list_(part.arrow_struct()), to_json, _list_reader(part, plan.from_json, plan.json_converts),
                      to_row, _list_reader(part, plan.from_row, plan.row_converts))  # fmt: skip


def _is_part(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, DeclaredRecord)


def field_codec(hint: Any, where: str) -> FieldCodec:
    """The codec of a field from its type hint: a declared record, a list of them, or a leaf value."""
    hint = without_none(hint)
    if _is_part(hint):
        return _part_codec(hint)
    if _is_part(list_item(hint)):
        return _part_list_codec(list_item(hint))
    return leaf_codec(hint, where)


def declare_fields(cls: type[R]) -> type[R]:
    """Give a record dataclass its plan from its field annotations; an unstorable field fails at import."""
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    codecs = [(f.name, field_codec(hints[f.name], f"{cls.__name__}.{f.name}")) for f in fields]
    no_default = dataclasses.MISSING
    required = tuple(f.name for f in fields if f.default is no_default and f.default_factory is no_default)
    kind = getattr(cls, "kind", None)
    from_json = [(name, codec.from_json) for name, codec in codecs]
    from_row = [(name, codec.from_row) for name, codec in codecs]
    cls._plan = FieldPlan(  # a class attribute, so it stays out of the slotted instances
        kind=kind,
        arrow_fields=tuple((name, codec.arrow_type) for name, codec in codecs),
        to_json=tuple((name, codec.to_json) for name, codec in codecs),
        to_row=tuple((name, codec.to_row) for name, codec in codecs),
        from_json=_record_builder(cls, from_json, required) if kind else _part_builder(cls, from_json),
        from_row=_record_builder(cls, from_row, required) if kind else _part_builder(cls, from_row),
        json_converts=any(convert is not None for _, convert in from_json),
        row_converts=any(convert is not None for _, convert in from_row),
    )
    return cls
