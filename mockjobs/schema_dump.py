"""A marshmallow schema's dump(), compiled once into plain functions: the same answer, a fraction of the work.

``Schema().dump()`` walks every field of every object through marshmallow's generic accessors
(about 30 us per job of the control API's list, five times what this takes). ``dumper(schema)``
reads the schema's fields once and returns a function that does, for plain dicts, what dump()
does with those field classes (String: str, Integer: int, Float: float, Boolean and Raw as given,
Dict, List and Nested recursively, dump_default, data_key and attribute honoured). Whatever it
does not know (another field class, a schema with pre/post_dump hooks or its own accessor, an
object that is not a dict) goes to marshmallow itself, so the schema stays the only definition
of the answer; tests/test_schema_dump.py checks that both give the same answer (values, types, key order)
for every schema of the control API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from marshmallow import Schema, fields
from marshmallow.schema import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type, missing

Convert = Callable[[Any], Any]
"""A field's dump of one value (never missing)."""


def _text(value: Any) -> Any:
    return value if type(value) is str else None if value is None else ensure_text_type(value)


def _integer(value: Any) -> Any:
    return value if type(value) is int else None if value is None else int(value)


def _number(value: Any) -> Any:
    return value if type(value) is float else None if value is None else float(value)


def _as_given(value: Any) -> Any:
    return value


_ANY = object()
_KEEPS: dict[Convert | None, Any] = {_text: str, _integer: int, _number: float, _as_given: _ANY}
"""The type of value each converter gives back as it is (_ANY: every value)."""


def _converter(field: fields.Field) -> Convert | None:
    """What field._serialize does to a value, for the field classes known here (exactly); else None."""
    kind = type(field)
    if kind is fields.String:
        return _text
    if kind in (fields.Integer, fields.Float) and not field.as_string:  # type: ignore[attr-defined]
        return _integer if kind is fields.Integer else _number
    if kind in (fields.Boolean, fields.Raw, fields.Field):
        return _as_given
    if kind is fields.List:
        inner = _converter(field.inner)  # type: ignore[attr-defined]
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(each) for each in value]
    if kind is fields.Dict:
        return _mapping(field)  # type: ignore[arg-type]
    if kind is fields.Nested:
        schema: Schema = field.schema  # type: ignore[attr-defined]
        many = schema.many or field.many  # type: ignore[attr-defined]
        if _own_ways(schema):
            return lambda value: None if value is None else schema.dump(value, many=many)
        one = _compiled(schema)
        if many:
            return lambda value: None if value is None else [one(each) for each in value]
        return lambda value: None if value is None else one(value)
    return None


def _mapping(field: fields.Dict) -> Convert | None:
    """fields.Dict's dump: keys and values through their fields, if it has them."""
    mapping_type = field.mapping_type
    key_field, value_field = field.key_field, field.value_field
    if key_field is None and value_field is None:
        return lambda value: None if value is None else mapping_type(value)
    keys = _as_given if key_field is None else _converter(key_field)
    values = _as_given if value_field is None else _converter(value_field)
    if keys is None or values is None:
        return None

    def dump_mapping(value: Any) -> Any:
        if value is None:
            return None
        out = mapping_type()
        for k, v in value.items():
            out[keys(k)] = values(v)
        return out

    return dump_mapping


def _own_ways(schema: Schema) -> bool:
    """Whether schema dumps in ways of its own (hooks, its own accessor or dict class): marshmallow does it then."""
    hooks = schema._hooks  # where marshmallow keeps a schema's hooks
    kind = type(schema)
    return bool(
        hooks[PRE_DUMP]
        or hooks[POST_DUMP]
        or any(getattr(kind, name) is not getattr(Schema, name) for name in ("dump", "_serialize", "get_attribute"))
        or schema.dict_class is not dict
    )


def _compiled(schema: Schema) -> Convert:
    """schema.dump for one object, compiled from its dump fields."""
    if _own_ways(schema):
        return lambda obj: schema.dump(obj, many=False)
    plan = []
    for name, field in schema.dump_fields.items():
        source = field.attribute if field.attribute is not None else name
        target = field.data_key if field.data_key is not None else name
        convert = _converter(field) if "." not in source else None
        plan.append((source, target, _KEEPS.get(convert), convert, field, name))

    def dump_one(obj: Any) -> Any:
        if type(obj) is not dict:
            return schema.dump(obj, many=False)
        out = {}
        for source, target, keeps, convert, field, name in plan:
            if convert is None:  # a field class not known here: marshmallow's own serialize
                value = field.serialize(name, obj, accessor=schema.get_attribute)
                if value is not missing:
                    out[target] = value
                continue
            value = obj[source] if source in obj else getattr(obj, source, missing)  # as marshmallow's get_value
            if value is missing:
                value = field.dump_default
                if callable(value):
                    value = value()
                if value is missing:
                    continue
            out[target] = value if keeps is _ANY or type(value) is keeps else convert(value)  # no call if kept
        return out

    return dump_one


@cache
def dumper(schema: type[Schema]) -> Convert:
    """schema().dump as a compiled function of one object (compiled once per schema class)."""
    return _compiled(schema())
