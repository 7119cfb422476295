"""The stored form of a record field, chosen by its type annotation: Arrow type, JSON and Arrow-row conversions."""

from __future__ import annotations

import base64
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """How one kind of field is stored; a converter of None keeps the value as it is (the fast path)."""

    arrow_type: pa.DataType
    to_json: Convert | None = None
    from_json: Convert | None = None
    to_row: Convert | None = None
    from_row: Convert | None = None


def _b64encode(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def _b64decode(value: str | bytes | None) -> bytes | None:
    # the Arrow form and the Ray row tables hand bytes over as they are
    return base64.b64decode(value) if isinstance(value, str) else value


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def _json_object(value: Any) -> dict[str, Any]:
    return dict(value or {})


def _from_json_text(value: str | None) -> dict[str, Any]:
    return dict(json.loads(value or "{}") or {})


def _string_list(value: Any) -> list[str]:
    return list(value or [])


def _float_map_from_row(value: Any) -> dict[str, float]:
    # Arrow hands a map column back as a list of (key, value) pairs
    return dict(value or [])


def _float_map_to_row(value: dict[str, float]) -> list[tuple[str, float]]:
    return list(value.items())


_SCALARS: dict[Any, FieldCodec] = {
    str: FieldCodec(pa.string()),
    int: FieldCodec(pa.int64()),
    float: FieldCodec(pa.float64()),
    bool: FieldCodec(pa.bool_()),
    bytes: FieldCodec(pa.binary(), to_json=_b64encode, from_json=_b64decode),
}
STRING_LIST = FieldCodec(
    pa.list_(pa.string()), to_json=list, from_json=_string_list, to_row=list, from_row=_string_list
)
# free-form metadata is a JSON text column: lossless for any JSON value, whatever keys steps add.
# Its JSON form is the dict itself, not a copy, as the hand-written to_dict gave it.
JSON_OBJECT = FieldCodec(pa.string(), from_json=_json_object, to_row=_json_text, from_row=_from_json_text)
FLOAT_MAP = FieldCodec(pa.map_(pa.string(), pa.float64()), to_json=dict, from_json=_json_object,
                       to_row=_float_map_to_row, from_row=_float_map_from_row)  # fmt: skip


def without_none(hint: Any) -> Any:
    """`X | None` as X (nullability is every column's); any other hint unchanged."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def list_item(hint: Any) -> Any:
    """The item type of a `list[X]` hint, or None for any other hint."""
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return item
    return None


def leaf_codec(hint: Any, where: str) -> FieldCodec:
    """The codec of a field that holds no record: a scalar, bytes, a list of strings or a JSON-like dict."""
    hint = without_none(hint)
    if hint in _SCALARS:
        return _SCALARS[hint]
    if list_item(hint) is str:
        return STRING_LIST
    if typing.get_origin(hint) is dict:
        args = typing.get_args(hint)
        if args == (str, Any):
            return JSON_OBJECT
        if args == (str, float):
            return FLOAT_MAP
    raise TypeError(f"{where}: no stored form for a field of type {hint!r}; add one in core/record_fields.py")
