"""marshmallow schemas of faults: in scenario files, and the control API's request and response.

One contract for both: a scenario's ``faults:`` entry is ``{when, do}``; ``POST /__mock/faults``
adds a scope (``jobId`` or ``scenario``). Loading gives the domain objects of mockjobs.faults.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from .durations import format_ms
from .errors import BadRequest
from .faults import EFFECTS, Do, Fault, When
from .scenarios import _FRIENDLY, JOB_ID_RE, NAME_RE, DurationField, _flatten, _Strict, field_path

__all__ = ["DoSchema", "FaultRequestSchema", "FaultResponseSchema", "ScenarioFaultSchema", "WhenSchema", "load_request"]


def _at_least_1(what: str) -> validate.Range:
    return validate.Range(min=1, error=f"must be at least 1 ({what})")


class WhenSchema(_Strict):
    """When a fault fires: every key given must hold."""

    poll = fields.Integer(strict=True, validate=_at_least_1("polls count from 1"))
    every = fields.Integer(strict=True, validate=_at_least_1("every Nth poll"))
    times = fields.Integer(strict=True, validate=_at_least_1("firings per job"))
    after = DurationField()
    before = DurationField()
    probability = fields.Float(
        allow_nan=False, validate=validate.Range(min=0, max=1, error="must be between 0 and 1, not {input}")
    )
    seed = fields.Integer(strict=True)

    @validates_schema
    def _combined(self, data: dict[str, Any], **kwargs: Any) -> None:
        after, before = data.get("after"), data.get("before")
        if after is not None and before is not None and before <= after:
            raise ValidationError(f"must be after 'after' ({format_ms(after)}), not {format_ms(before)}", "before")
        if "seed" in data and "probability" not in data:
            raise ValidationError("a seed only makes sense with a probability", "seed")
        if "times" in data and "poll" in data:
            raise ValidationError("poll: N fires once; use every: N for repeated firings", "times")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> When:
        return When(
            poll=data.get("poll"),
            every=data.get("every"),
            times=data.get("times"),
            after_ms=data.get("after"),
            before_ms=data.get("before"),
            probability=data.get("probability"),
            seed=data.get("seed"),
        )


class DelayField(fields.Field):
    """A delay: one duration, or a range [shortest, longest]."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[float, float]:
        one = DurationField()
        if isinstance(value, list):
            if len(value) != 2:
                raise ValidationError("a range is two durations, [shortest, longest]")
            low, high = (one.deserialize(v) for v in value)
            if high < low:
                raise ValidationError(f"the range ends ({format_ms(high)}) before it starts ({format_ms(low)})")
            return low, high
        ms = one.deserialize(value)
        return ms, ms


class ErrorSchema(_Strict):
    """The ArcGIS error envelope a fault answers with HTTP 200."""

    code = fields.Integer(strict=True, required=True, error_messages={"required": "required: e.g. code: 500"})
    message = fields.String(required=True, error_messages={"required": "required: the error's message"})
    details = fields.List(fields.String(), load_default=list)


class DoSchema(_Strict):
    """What a fault does: exactly one effect."""

    http = fields.Integer(strict=True, validate=validate.Range(min=400, max=599, error="must be 400..599, not {input}"))
    retry_after = DurationField()
    error = fields.Nested(ErrorSchema)
    delay = DelayField()
    drop = fields.Boolean(validate=validate.Equal(True, error="write drop: true (or leave it out)"))
    truncate = fields.Boolean(validate=validate.Equal(True, error="write truncate: true (or leave it out)"))
    stale = fields.Boolean(validate=validate.Equal(True, error="write stale: true (or leave it out)"))

    @validates_schema
    def _one_effect(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in EFFECTS if k in data]
        if not given:
            raise ValidationError(f"needs one effect: {', '.join(EFFECTS)}")
        if len(given) > 1:
            raise ValidationError(f"one effect per fault, not {' and '.join(given)}; add another fault")
        if "retry_after" in data and given[0] != "http":
            raise ValidationError("only an http effect has a Retry-After", "retry_after")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Do:
        effect = next(k for k in EFFECTS if k in data)
        retry = data.get("retry_after")
        return Do(
            effect=effect,
            http=data.get("http"),
            retry_after=None if retry is None else math.ceil(retry / 1000 - 1e-9),
            error=data.get("error"),
            delay_ms=data.get("delay"),
        )


class ScenarioFaultSchema(_Strict):
    """One entry of a scenario's faults: (When, Do)."""

    when = fields.Nested(WhenSchema, load_default=When)
    do = fields.Nested(DoSchema, required=True, error_messages={"required": "required: what the fault does"})

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> tuple[When, Do]:
        return data["when"], data["do"]


class FaultRequestSchema(ScenarioFaultSchema):
    """``POST /__mock/faults``: a fault for one job, one scenario's jobs, or (no scope) every job."""

    jobId = fields.String(
        validate=validate.Regexp(JOB_ID_RE, error="{input!r} is not a job id (letters, digits, _ . -)")
    )
    scenario = fields.String(validate=validate.Regexp(NAME_RE, error="{input!r} is not a scenario name"))

    @validates_schema
    def _one_scope(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "jobId" in data and "scenario" in data:
            raise ValidationError("give jobId or scenario (or neither: every job), not both", "scenario")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Fault:  # type: ignore[override]
        return Fault(
            id=f"f{uuid.uuid4().hex[:12]}",
            when=data["when"],
            do=data["do"],
            job_id=data.get("jobId"),
            scenario=data.get("scenario"),
        )


class FaultResponseSchema(Schema):
    """A fault as ``/__mock/faults`` answers it (and the store keeps it)."""

    id = fields.String(required=True)
    jobId = fields.String()
    scenario = fields.String()
    when = fields.Dict(required=True)
    do = fields.Dict(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["api", "scenario"]))


class FaultListSchema(Schema):
    """``GET /__mock/faults``: the API's faults, then the scenario files' faults."""

    faults = fields.List(fields.Nested(FaultResponseSchema), required=True)


def load_request(data: Any) -> Fault:
    """A new fault from a request body; BadRequest listing every problem as ``field: message``."""
    try:
        return FaultRequestSchema().load(data)
    except ValidationError as exc:
        lines = [f"{field_path(path) or 'body'}: {_FRIENDLY.get(msg, msg)}" for path, msg in _flatten(exc.messages)]
        raise BadRequest("; ".join(lines)) from None


def from_doc(doc: dict[str, Any]) -> Fault:
    """A stored fault back as the domain object (its id and source kept)."""
    fault = FaultRequestSchema().load({k: v for k, v in doc.items() if k in ("jobId", "scenario", "when", "do")})
    return Fault(str(doc["id"]), fault.when, fault.do, fault.job_id, fault.scenario, doc.get("source", "api"))
