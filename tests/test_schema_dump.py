"""The compiled dump gives what marshmallow's dump() gives, for every schema of the control API."""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from mockjobs import control_resources, control_schemas, fault_schemas
from mockjobs.schema_dump import dumper

MISSING = object()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.binary(max_size=4)


def _schemas() -> list[type[Schema]]:
    found = {
        obj
        for module in (control_schemas, fault_schemas, control_resources)
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Schema) and obj is not Schema and obj.__module__ == module.__name__
    }
    return sorted(found, key=lambda s: s.__name__)


SCHEMAS = _schemas()


def values(field: fields.Field, depth: int) -> st.SearchStrategy[Any]:
    """Values for field: what the control API puts there, and what it never should (wrong types, None)."""
    if isinstance(field, fields.Nested) and depth < 3:
        one = objects(field.schema, depth + 1)
        many = field.many or field.schema.many
        return st.none() | (st.lists(one, max_size=3) if many else one)
    if isinstance(field, fields.List):
        return st.none() | st.lists(values(field.inner, depth + 1), max_size=3)
    if isinstance(field, fields.Dict):
        inner = JSON if field.value_field is None else values(field.value_field, depth + 1)
        return st.none() | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    return SCALARS | JSON


def objects(schema: Schema, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts for schema: each field given, missing, None or of another type; and keys it does not declare."""
    keys = {
        (f.attribute or name): st.just(MISSING) | values(f, depth)
        for name, f in schema.dump_fields.items()
        if "." not in (f.attribute or name)
    }
    extra = st.dictionaries(st.sampled_from(["extra", "items", "count", "n"]), JSON, max_size=2)
    return st.builds(
        lambda given, more: {**more, **{k: v for k, v in given.items() if v is not MISSING}},
        st.fixed_dictionaries(keys),
        extra,
    )


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types, keys in the same order (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def outcome(dump: Any, obj: Any) -> tuple[str, Any]:
    try:
        return "ok", dump(obj)
    except Exception as exc:  # the same input must fail the same way
        return "raised", type(exc)


@pytest.mark.parametrize("schema", SCHEMAS, ids=[s.__name__ for s in SCHEMAS])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_compiled_dump_is_marshmallows(schema: type[Schema], data: st.DataObject) -> None:
    obj = data.draw(objects(schema()))
    expected, got = outcome(schema().dump, obj), outcome(dumper(schema), obj)
    assert expected[0] == got[0] and same(expected[1], got[1]), (obj, expected, got)


def test_real_answers_are_dumped_as_marshmallow_dumps_them(app, client) -> None:
    before = client.get("/__mock/jobs").json["total"]
    for _ in range(3):
        assert client.post("/__mock/jobs", json={"scenario": "create-mission", "params": {"token": "s"}}).status_code
    client.get(f"/arcgis/rest/jobs/{client.get('/__mock/jobs').json['jobs'][-1]['jobId']}?f=json")  # a poll
    m = app.extensions["mockjobs"]
    listing = {"total": m.store.count_jobs(), "jobs": m.summaries(m.store.jobs())}
    assert listing["total"] == before + 3 and listing["jobs"][-1]["polls"]["count"] == 1
    assert same(dumper(control_schemas.JobList)(listing), control_schemas.JobList().dump(listing))
    answered = client.get("/__mock/jobs").json  # what the view answers is what the schema dumps
    assert same(control_schemas.JobList().dump(answered), answered) and answered["total"] == before + 3
    assert answered["jobs"][-1]["params"] == {"token": "***"}


def test_the_job_list_never_goes_through_marshmallows_field_machinery(monkeypatch: pytest.MonkeyPatch) -> None:
    summary = {"jobId": "j1", "scenario": "s", "version": "v", "static": False, "status": "EXECUTING"}
    summary |= {"stepsCompleted": 1, "isCancelled": False, "startTime": 5, "speed": 1.0, "pace": "clock"}
    summary |= {"elapsed": 0.5, "nextEventAt": None, "nextEventTime": None, "vars": {"a": 1}, "params": {}}
    dump = dumper(control_schemas.JobList)  # compiled before marshmallow is taken away

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("marshmallow's own dump was used")

    monkeypatch.setattr(Schema, "dump", refuse)
    monkeypatch.setattr(fields.Field, "serialize", refuse)
    assert dump({"total": 2, "jobs": [summary, {**summary, "url": "http://x/j1"}]}) == {
        "total": 2,
        "jobs": [summary, {**summary, "url": "http://x/j1"}],
    }


def test_a_schema_with_hooks_is_dumped_by_marshmallow_itself() -> None:
    class Tagged(Schema):
        name = fields.String()

        @post_dump
        def tag(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {**data, "tagged": True}

    class Outer(Schema):
        inner = fields.Nested(Tagged, many=True)
        total = fields.Integer(dump_default=0)

    assert dumper(Outer)({"inner": [{"name": 3}]}) == {"inner": [{"name": "3", "tagged": True}], "total": 0}
