"""Scenario files: YAML validated by marshmallow schemas into immutable domain objects."""

from __future__ import annotations

import difflib
import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
)

from . import placeholders, yamlsrc
from .durations import format_ms, parse_ms
from .errors import BadRequest, DurationError, ScenarioError, ScenarioErrors
from .faults import PACES, Fault
from .limits import MAX_EPOCH_MS, MAX_EVENTS, MAX_NAME, MAX_SCENARIO_BYTES, MAX_SPEED, MIN_SPEED
from .placeholders import PlaceholderError, Template
from .resources import ResourceSpec
from .resources import build as build_resources
from .statuses import STATUSES, TERMINAL

RESERVED_ATTRIBUTES = frozenset({"stepsCompleted", "isCancelled", "messageCodes", "totalSteps"})
BUILTIN_PLACEHOLDERS = frozenset({"jobId", "username", "type"})
GENERATORS = {
    "hex32": lambda: uuid.uuid4().hex,
    "uuid": lambda: str(uuid.uuid4()),
    "jobid": lambda: new_job_id(),
}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SUFFIXES = (".yaml", ".yml")
_BUILTIN_PATHS = re.compile(r"^/(rest/?|rest/info/?|rest/jobs(/.*)?|tokens/.*)$")


def new_job_id() -> str:
    """A job id shaped like the real server's: j + a UUID."""
    return f"j{uuid.uuid4()}"


# --------------------------------------------------------------------------- domain objects


@dataclass(frozen=True)
class Event:
    """One timeline entry: what changes at `at_ms` of scenario time."""

    at_ms: float
    message: Template | None = None
    code: int | None = None
    status: str | None = None
    steps: int | None = None
    steps_relative: bool = False
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class JobTemplate:
    """The constant part of every job document of a scenario."""

    type: str
    username: str
    total_steps: int
    status: str
    custom_attributes: Mapping[str, Any]
    pending_end_time: int
    pace: str = "clock"  # "poll": the Nth poll of a job sees the state after its Nth event


@dataclass(frozen=True)
class VarSpec:
    """A per-job value: a literal, or a generator run when the job starts."""

    name: str
    literal: Any = None
    generate: str | None = None

    def value(self) -> Any:
        """The literal, or a fresh generated value."""
        return GENERATORS[self.generate]() if self.generate else self.literal


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a trigger expects: required, or filled with a default when the client leaves it out."""

    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Trigger:
    """The ArcGIS operation that starts a job of this scenario."""

    method: str
    path: str
    response: Any
    params: Mapping[str, ParamSpec] = field(default_factory=lambda: MappingProxyType({}))

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """given, with the declared defaults filled in; BadRequest naming a missing required parameter."""
        out = dict(given)
        for name, spec in self.params.items():
            if name in out and out[name] not in ("", None):
                continue
            if spec.required:
                near = difflib.get_close_matches(name, [k for k in given if k not in self.params], n=1, cutoff=0.6)
                hint = f" (the request has {near[0]!r}: check the spelling)" if near else ""
                raise BadRequest(f"the parameter {name!r} is required{hint}")
            if spec.default is not None:
                out[name] = spec.default
        return out


@dataclass(frozen=True)
class StaticJob:
    """A job that exists from server start, with a fixed id."""

    job_id: str
    start_time: int | None
    vars: Mapping[str, Any]
    params: Mapping[str, Any]
    speed: float | None


@dataclass(frozen=True)
class Source:
    """Where a scenario came from: a label (its file), its text, and a version hash."""

    file: str
    text: str

    @cached_property
    def version(self) -> str:
        """A short content hash that names this exact text from this file name."""
        digest = hashlib.sha256(f"{Path(self.file).name}\0{self.text}".encode()).hexdigest()
        return digest[:16]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the job's template, its timeline and its cancel story."""

    name: str
    description: str
    job: JobTemplate
    vars: tuple[VarSpec, ...]
    trigger: Trigger | None
    timeline: tuple[Event, ...]
    on_cancel: tuple[Event, ...]
    jobs: tuple[StaticJob, ...]
    source: Source
    lines: Mapping[tuple[str | int, ...], int] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    faults: tuple[Fault, ...] = ()  # fire on polls of this scenario's jobs
    warnings: tuple[ScenarioError, ...] = field(repr=False, compare=False, default=())  # `check --strict` refuses them
    resources: tuple[ResourceSpec, ...] = ()  # what its jobs leave behind (SPEC section 11)

    @property
    def version(self) -> str:
        """The version hash of the text this scenario was loaded from."""
        return self.source.version

    @cached_property
    def compiled(self) -> Any:
        """The precomputed replay timeline (see mockjobs.timeline)."""
        from .timeline import CompiledTimeline

        return CompiledTimeline.build(self)

    def resolve_vars(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every var's value for a new job; given values override, unknown names are refused."""
        given = dict(given or {})
        known = {v.name for v in self.vars}
        unknown = sorted(set(given) - known)
        if unknown:
            declared = ", ".join(sorted(known)) or "none"
            hint = did_you_mean(unknown[0], known)
            hint = f"; {hint}" if hint else ""
            raise ValueError(f"unknown var {unknown[0]!r} for scenario {self.name!r}{hint} (declared: {declared})")
        return {v.name: given[v.name] if v.name in given else v.value() for v in self.vars}


# --------------------------------------------------------------------------- schemas

_VAR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9/_.~-]*$")


def _one_of(choices: Iterable[str]) -> validate.OneOf:
    """OneOf whose message names the value and what is allowed."""
    return validate.OneOf(list(choices), error="{input!r} is not allowed; use one of: {choices}")


def _not_terminal(value: str) -> None:
    """job.status is where a job starts: a terminal status must come from a timeline event."""
    if value in TERMINAL:
        raise ValidationError(f"{value} is terminal; a job starts unfinished (set it with a timeline event at 0)")


def _required(message: str) -> dict[str, str]:
    """error_messages for a required field."""
    return {"required": message}


class DurationField(fields.Field):
    """An offset: seconds as a number, or 250ms / 12s / 1m30s / 1h; never negative."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        try:
            ms = parse_ms(value, allow_negative=True)
        except DurationError as exc:
            raise ValidationError(str(exc)) from None
        if ms < 0:
            raise ValidationError(f"negative offset {value!r}: offsets count from the start and cannot be negative")
        return ms


class StepsField(fields.Field):
    """stepsCompleted: an absolute count, or "+N" to add to the current one."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[int, bool]:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise ValidationError(f"steps may not be negative ({value}); use a whole number or '+N'")
            return value, False
        if isinstance(value, str) and re.fullmatch(r"\+\d+", value.strip()):
            return int(value.strip()[1:]), True
        raise ValidationError(f"steps must be a whole number or '+N' (quoted), not {value!r}")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class VarField(fields.Field):
    """A var: a literal scalar, or {generate: hex32|uuid|jobid}."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[Any, str | None]:
        form = f"{{generate: {'|'.join(GENERATORS)}}}"
        if isinstance(value, dict):
            if "generate" not in value:
                raise ValidationError(f"a generated var is written {form}")
            extra = {str(k): [f"unknown key; a generated var is written {form}"] for k in value if k != "generate"}
            if extra:
                raise ValidationError(extra)
            gen = value["generate"]
            if not isinstance(gen, str) or gen not in GENERATORS:
                raise ValidationError({"generate": [f"unknown generator {gen!r}; use one of: {', '.join(GENERATORS)}"]})
            return None, gen
        if _scalar(value):
            return value, None
        raise ValidationError(f"a var is text, a number, true/false, null or {form}")


class LiteralVarField(fields.Field):
    """A static job's var value: text, a number, true/false or null."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if _scalar(value):
            return value
        raise ValidationError("a var value is text, a number, true/false or null")


class JsonField(fields.Field):
    """Any JSON-like value (mappings with string keys, lists, scalars)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        problems = dict(_json_problems(value, ()))
        if problems:
            raise ValidationError(problems.pop(()) if () in problems else _nest(problems))
        return value


def _json_problems(value: Any, path: tuple[str | int, ...]) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(relative path, message) for each value JSON cannot carry (dates, non-string keys)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                yield (*path, str(k)), f"key {k!r} is not text; quote it"
            else:
                yield from _json_problems(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_problems(v, (*path, i))
    elif not _scalar(value):
        yield path, f"a {type(value).__name__} is not a JSON value; quote it"


class MapField(fields.Field):
    """A mapping of text keys (optionally matching a pattern) to values of one field type."""

    def __init__(self, values: fields.Field, key_re: re.Pattern[str] | None = None, key_hint: str = "", **kw: Any):
        super().__init__(**kw)
        self.values = values
        self.key_re = key_re
        self.key_hint = key_hint

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError("must be a mapping (key: value lines)")
        out: dict[str, Any] = {}
        errors: dict[Any, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                errors[str(key)] = [f"key {key!r} is not text; quote it"]
                continue
            if self.key_re is not None and not self.key_re.match(key):
                errors[key] = [f"{key!r} is not a usable key; {self.key_hint}"]
                continue
            try:
                out[key] = self.values._deserialize(item, key, value)  # each value field handles null itself
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


class _Strict(Schema):
    """Refuses unknown keys, naming those that are allowed."""

    class Meta:
        unknown = RAISE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "unknown": f"unknown key; allowed here: {', '.join(self.fields)}",
            "type": "must be a mapping (key: value lines)",
        }


class EventSchema(_Strict):
    at = DurationField(
        required=True, error_messages=_required("required: every event needs its offset, e.g. at: 0 or at: 12s")
    )
    message = fields.String()
    code = fields.Integer(strict=True)
    status = fields.String(validate=_one_of(STATUSES))
    steps = StepsField()
    attributes = MapField(JsonField())


class JobSchema(_Strict):
    type = fields.String(
        required=True,
        validate=validate.Length(min=1, error="may not be empty"),
        error_messages=_required("required: the job document's type, e.g. addMission"),
    )
    username = fields.String(load_default="admin")
    totalSteps = fields.Integer(strict=True, validate=validate.Range(min=0, error="may not be negative"))
    status = fields.String(load_default="SUBMITTED", validate=[_one_of(STATUSES), _not_terminal])
    customAttributes = MapField(JsonField(), load_default=dict)
    pendingEndTime = fields.Integer(strict=True, load_default=0)
    pace = fields.String(load_default="clock", validate=_one_of(PACES))


class ParamSchema(_Strict):
    required = fields.Boolean(load_default=False)
    default = JsonField(load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> ParamSpec:
        if data["required"] and data["default"] is not None:
            raise ValidationError("give required: true or a default, not both")
        return ParamSpec(data["required"], data["default"])


class TriggerSchema(_Strict):
    method = fields.String(load_default="POST", validate=_one_of(["GET", "POST", "PUT", "PATCH", "DELETE"]))
    path = fields.String(
        required=True,
        validate=validate.Regexp(_PATH_RE, error="{input!r} is not a path; write one under the context, like /rest/x"),
        error_messages=_required("required: the trigger's path under the context, e.g. /rest/services/x"),
    )
    response = JsonField(load_default=lambda: {"jobId": "{jobId}"})
    params = MapField(
        fields.Nested(ParamSchema),
        key_re=re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$"),
        key_hint="use letters, digits, _ . -",
        load_default=dict,
    )

    @pre_load
    def upper(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            data = {**data, "method": data["method"].upper()}
        return data


class StaticJobSchema(_Strict):
    jobId = fields.String(
        required=True,
        validate=validate.Regexp(JOB_ID_RE, error="{input!r} is not a usable job id (letters, digits, _ . -)"),
        error_messages=_required("required: every static job needs its id"),
    )
    startTime = fields.Integer(
        strict=True,
        validate=validate.Range(
            min=0, max=MAX_EPOCH_MS, error="must be epoch ms between {min} and {max} (the year 9999), not {input}"
        ),
    )
    vars = MapField(LiteralVarField(), load_default=dict)
    params = MapField(JsonField(), load_default=dict)
    speed = fields.Float(
        allow_nan=False,
        validate=validate.Range(min=MIN_SPEED, max=MAX_SPEED, error="must be between {min:g} and {max:g}, not {input}"),
    )


class ScenarioSchema(_Strict):
    name = fields.String(
        validate=[
            validate.Length(max=MAX_NAME, error="a name has at most {max} characters"),
            validate.Regexp(NAME_RE, error="{input!r} is not a valid name; use [a-z0-9][a-z0-9._-]*"),
        ]
    )
    description = fields.String(load_default="")
    job = fields.Nested(JobSchema, required=True, error_messages=_required("required: a mapping with at least type"))
    vars = MapField(VarField(), key_re=_VAR_NAME_RE, key_hint="use letters, digits and _", load_default=dict)
    trigger = fields.Nested(TriggerSchema, load_default=None)
    timeline = fields.List(
        fields.Nested(EventSchema),
        required=True,
        validate=[
            validate.Length(min=1, error="needs at least one event"),
            validate.Length(max=MAX_EVENTS, error="more than {max} events, the limit of one story"),
        ],
        error_messages=_required("required: the list of events (at least one)"),
    )
    on_cancel = fields.List(
        fields.Nested(EventSchema),
        load_default=None,
        validate=validate.Length(max=MAX_EVENTS, error="more than {max} events, the limit of one story"),
    )
    jobs = fields.List(fields.Nested(StaticJobSchema), load_default=list)
    faults = fields.List(fields.Nested(lambda: _fault_schema()), load_default=list)
    resources = fields.List(fields.Nested(lambda: _resource_schema()), load_default=list)

    def __init__(self, source: Source, stem: str, lines: Mapping[Any, int]) -> None:
        super().__init__()
        self.source = source
        self.stem = stem
        self.lines = lines

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Scenario:
        return _build(data, self.source, self.stem, self.lines)


def _fault_schema() -> Schema:
    """A faults entry's schema (its module builds on this one's fields)."""
    from .fault_schemas import ScenarioFaultSchema

    return ScenarioFaultSchema()


def _resource_schema() -> Schema:
    """A resources entry's schema (mockjobs.resources builds it on this module's fields)."""
    from .resources import schemas

    return schemas()[1]()


# marshmallow's stock messages, said the way the rest of mockjobs says things
_FRIENDLY = {
    "Field may not be null.": "is empty (null); give it a value or remove it",
    "Not a valid string.": "must be text",
    "Not a valid integer.": "must be a whole number",
    "Not a valid number.": "must be a number",
    "Not a valid list.": "must be a list (- item lines)",
    "Invalid input type.": "must be a mapping (key: value lines)",
    "Invalid type.": "must be a mapping (key: value lines)",
    "Missing data for required field.": "required key is missing",
    "Special numeric values (nan or infinity) are not permitted.": "must be a finite number",
}


DEFAULT_ON_CANCEL = (
    {"at": 0.0, "message": None, "status": "CANCELLING"},
    {"at": 1000.0, "message": None, "status": "CANCELLED"},
)


class _Problems(Exception):
    """Cross-field problems found after the schema: (path, message) pairs in file order."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__(problems)


def _build(data: dict[str, Any], source: Source, stem: str, lines: Mapping[Any, int]) -> Scenario:
    """Cross-field rules, then the Scenario; raises _Problems keyed by field path."""
    found: dict[tuple[str | int, ...], str] = {}
    job = data["job"]
    declared = BUILTIN_PLACEHOLDERS | frozenset(data["vars"])

    def problem(path: tuple[str | int, ...], message: str) -> None:
        found.setdefault(path, message)

    warnings: list[ScenarioError] = []

    def warn(path: tuple[str | int, ...], message: str) -> None:
        warnings.append(ScenarioError(source.file, _line_of(lines, path), field_path(path), message))

    def compiled(value: Any, path: tuple[str | int, ...]) -> Any:
        """Every string inside value as a Template, each checked where it stands."""
        if isinstance(value, str):
            try:
                template = placeholders.parse(value)
                placeholders.check(template, declared)
            except PlaceholderError as exc:
                problem(path, str(exc))
                return value
            return template
        if isinstance(value, dict):
            return {k: compiled(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [compiled(v, (*path, i)) for i, v in enumerate(value)]
        return value

    if "name" not in data and not NAME_RE.match(stem):
        problem(
            ("name",), f"no name given, and the file name {stem!r} is not a valid one; add name: [a-z0-9][a-z0-9._-]*"
        )

    for name in data["vars"]:
        if name in BUILTIN_PLACEHOLDERS or name == "params":
            problem(("vars", name), f"{name} is a built-in placeholder; give the var another name")

    extras = {}
    for key, value in job["customAttributes"].items():
        if key in RESERVED_ATTRIBUTES:
            problem(("job", "customAttributes", key), f"{key} is computed by the mock; it cannot be set")
        extras[key] = compiled(value, ("job", "customAttributes", key))

    def events(
        raw: list[dict[str, Any]], where: str, total: int, derived: bool, start_steps: int
    ) -> tuple[tuple[Event, ...], int]:
        out = []
        for i, ev in enumerate(raw):
            if "code" in ev and "message" not in ev:
                problem((where, i, "code"), "a code needs a message (messageCodes run parallel to messages)")
            attrs = {}
            for key, value in (ev.get("attributes") or {}).items():
                if key in RESERVED_ATTRIBUTES:
                    problem((where, i, "attributes", key), f"{key} is computed by the mock; it cannot be set")
                attrs[key] = compiled(value, (where, i, "attributes", key))
            steps = ev.get("steps")
            message = ev.get("message")
            out.append(
                (
                    i,
                    Event(
                        at_ms=ev["at"],
                        message=compiled(message, (where, i, "message")) if message is not None else None,
                        code=ev.get("code"),
                        status=ev.get("status"),
                        steps=steps[0] if steps else None,
                        steps_relative=steps[1] if steps else False,
                        attributes=MappingProxyType(attrs),
                    ),
                )
            )
        latest: tuple[int, float] | None = None
        for i, ev in out:
            if latest is not None and ev.at_ms < latest[1]:
                warn(
                    (where, i, "at"),
                    f"{format_ms(ev.at_ms)} comes before {where}[{latest[0]}] at {format_ms(latest[1])} above it;"
                    " events replay in time order, so this one runs first (a typo? put the events in time order)",
                )
            if latest is None or ev.at_ms >= latest[1]:
                latest = (i, ev.at_ms)
        out.sort(key=lambda pair: pair[1].at_ms)  # stable: equal offsets keep file order
        terminal: tuple[int, Event] | None = None
        running = highest = start_steps
        shown_total = f"{total}, the highest the timeline reaches; set job.totalSteps for more" if derived else total
        for i, ev in out:
            if terminal is not None:
                ti, tev = terminal
                problem(
                    (where, i, "at"),
                    f"comes after {where}[{ti}], which ends the job with {tev.status} at {format_ms(tev.at_ms)};"
                    " no event may follow a terminal one",
                )
            if ev.steps is not None:
                running = running + ev.steps if ev.steps_relative else ev.steps
                if running > total:
                    shown = f"+{ev.steps} brings stepsCompleted to {running}, which" if ev.steps_relative else running
                    problem((where, i, "steps"), f"{shown} is more than totalSteps ({shown_total})")
                highest = max(highest, running)
            if ev.status in TERMINAL:
                terminal = (i, ev)
        return tuple(ev for _, ev in out), highest

    declared_total = job.get("totalSteps")
    unbounded = 1 << 62
    timeline, highest = events(
        data["timeline"], "timeline", declared_total if declared_total is not None else unbounded, False, 0
    )
    total = declared_total if declared_total is not None else highest
    cancel_raw = data["on_cancel"] if data["on_cancel"] is not None else list(DEFAULT_ON_CANCEL)
    if data["on_cancel"] is not None and not data["on_cancel"]:
        problem(("on_cancel",), "needs at least one event (leave on_cancel out for the default story)")
    # Cancelling may happen at any point; the worst case starts from the highest step reached.
    on_cancel, _ = events(cancel_raw, "on_cancel", total, declared_total is None, highest)

    trigger = None
    if data["trigger"] is not None:
        t = data["trigger"]
        if _BUILTIN_PATHS.match(t["path"]):
            problem(("trigger", "path"), f"{t['path']} is a built-in ArcGIS route; pick another path")
        trigger = Trigger(
            t["method"],
            t["path"].rstrip("/") or "/",
            compiled(t["response"], ("trigger", "response")),
            MappingProxyType(dict(t["params"])),
        )

    resources = build_resources(
        data["resources"], compiled, problem, _BUILTIN_PATHS, trigger.path if trigger is not None else None
    )

    static = []
    seen_ids: dict[str, int] = {}
    for i, sj in enumerate(data["jobs"]):
        if sj["jobId"] in seen_ids:
            problem(("jobs", i, "jobId"), f"duplicate job id {sj['jobId']} (also jobs[{seen_ids[sj['jobId']]}])")
        seen_ids.setdefault(sj["jobId"], i)
        for key in sj["vars"]:
            if key not in data["vars"]:
                known = ", ".join(sorted(data["vars"])) or "none"
                problem(("jobs", i, "vars", key), f"unknown var {key!r} (declared in vars: {known})")
        static.append(
            StaticJob(
                job_id=sj["jobId"],
                start_time=sj.get("startTime"),
                vars=MappingProxyType(dict(sj["vars"])),
                params=MappingProxyType(dict(sj["params"])),
                speed=sj.get("speed"),
            )
        )

    if found:
        raise _Problems(list(found.items()))

    name = data.get("name") or stem
    faults = tuple(
        Fault(id=f"{name}.faults[{i}]", when=when, do=do, scenario=name, source="scenario")
        for i, (when, do) in enumerate(data["faults"])
    )
    return Scenario(
        name=name,
        description=data["description"],
        job=JobTemplate(
            type=job["type"],
            username=job["username"],
            total_steps=total,
            status=job["status"],
            custom_attributes=MappingProxyType(extras),
            pending_end_time=job["pendingEndTime"],
            pace=job["pace"],
        ),
        vars=tuple(VarSpec(name, lit, gen) for name, (lit, gen) in data["vars"].items()),
        trigger=trigger,
        timeline=timeline,
        on_cancel=on_cancel,
        jobs=tuple(static),
        source=source,
        lines=MappingProxyType(dict(lines)),
        faults=faults,
        warnings=tuple(warnings),
        resources=resources,
    )


def _line_of(lines: Mapping[Any, int], path: tuple[str | int, ...]) -> int:
    """The line of the value at path, or of its nearest ancestor that has one."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _nest(problems: Mapping[tuple[str | int, ...], str]) -> dict[Any, Any]:
    """marshmallow's nested message shape from flat path -> message pairs."""
    out: dict[Any, Any] = {}
    for path, message in problems.items():
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)
    return out


def _flatten(messages: Any, path: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(path, message) pairs from marshmallow's nested ValidationError.messages."""
    if isinstance(messages, dict):
        for key, sub in messages.items():
            if key == "_schema":
                yield from _flatten(sub, path)
            else:
                yield from _flatten(sub, (*path, key))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, path)
    else:
        yield path, str(messages)


def field_path(path: tuple[str | int, ...]) -> str:
    """timeline[3].steps from ('timeline', 3, 'steps')."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


# --------------------------------------------------------------------------- loading


def load_text(text: str, file: str, stem: str | None = None) -> Scenario:
    """Validate one scenario's YAML text; raises ScenarioErrors naming file:line: field."""
    try:
        return _load_text(text, file, stem)
    except ScenarioErrors as exc:
        last = len(_LINE_BREAKS.split(text))  # an empty document after "---" is marked past the end
        if all(1 <= e.line <= last for e in exc.errors):
            raise
        raise ScenarioErrors(
            [ScenarioError(e.file, max(1, min(e.line, last)), e.field, e.message) for e in exc.errors]
        ) from None


_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a line break


def _load_text(text: str, file: str, stem: str | None) -> Scenario:
    """load_text(), its lines as the parser marks them."""
    stem = stem if stem is not None else Path(file).stem
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SCENARIO_BYTES:
        kib = MAX_SCENARIO_BYTES >> 10
        raise ScenarioErrors(
            [ScenarioError(file, 1, "", f"{size} bytes; a scenario holds at most {MAX_SCENARIO_BYTES} ({kib} KiB)")]
        )
    try:
        located = yamlsrc.load(text)
    except yamlsrc.YamlSyntaxError as exc:
        raise ScenarioErrors([ScenarioError(file, exc.line, "", exc.message)]) from None
    if located.issues:
        raise ScenarioErrors(
            [ScenarioError(file, i.line, _one_line(field_path(i.path)), _one_line(i.message)) for i in located.issues]
        )
    if not isinstance(located.data, dict):
        kind = _KIND_OF.get(type(located.data), type(located.data).__name__)
        line = located.line_of(())
        raise ScenarioErrors(
            [ScenarioError(file, line, "", f"a scenario is a mapping (job:, timeline:, ...); this file is {kind}")]
        )
    source = Source(file, text)
    try:
        return ScenarioSchema(source, stem, located.lines).load(located.data)
    except RecursionError:
        raise ScenarioErrors([ScenarioError(file, 1, "", "values nested too deeply")]) from None
    except ValidationError as exc:
        pairs = [
            (path, _unquoted(located.data, path, _suggest(path, _FRIENDLY.get(message, message))))
            for path, message in _flatten(exc.messages)
        ]
    except _Problems as exc:
        pairs = exc.problems
    errors = [
        ScenarioError(file, located.line_of(path), _one_line(field_path(path)), _one_line(message))
        for path, message in pairs
    ]
    errors.sort(key=lambda e: e.line)
    raise ScenarioErrors(errors)


def _suggest(path: tuple[str | int, ...], message: str) -> str:
    """An unknown key's message with the allowed key it most looks like (did you mean ...?)."""
    prefix = "unknown key; allowed here: "
    if not message.startswith(prefix) or not path or not isinstance(path[-1], str):
        return message
    close = did_you_mean(path[-1], message[len(prefix) :].split(", "))
    return f"unknown key ({close}); allowed here: {message[len(prefix) :]}" if close else message


def _unquoted(data: Any, path: tuple[str | int, ...], message: str) -> str:
    """A hint when text was read as a mapping because it starts with an unquoted {placeholder}."""
    if not message.startswith("must be text"):
        return message
    value = data
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return message
    if isinstance(value, dict) and len(value) == 1 and next(iter(value.values())) is None:
        shown = "{" + str(next(iter(value))) + "}"
        return f'{message}; {shown} was read as a mapping: quote text that starts with a placeholder, "{shown}"'
    return message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'did you mean X?' for the choice closest to word, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean {close[0]!r}?" if close else ""


def _one_line(text: str) -> str:
    """Every error is one line: line breaks inside keys or values are shown escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


_KIND_OF: dict[type, str] = {
    type(None): "empty",
    list: "a list",
    str: "text",
    int: "a number",
    float: "a number",
    bool: "true/false",
}


def load_file(path: str | Path, label: str | None = None) -> Scenario:
    """Load and validate one scenario file."""
    path = Path(path)
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioErrors([ScenarioError(label, 1, "", f"cannot read: {exc}")]) from None
    return load_text(text, label, path.stem)


def load_object(data: Mapping[str, Any], file: str = "<api>") -> Scenario:
    """A scenario given as a mapping (e.g. JSON), validated like a file (lines are of its YAML form)."""
    import yaml

    # YAML, not JSON text: YAML 1.1 would read JSON's 1e-05 or 1e+16 back as strings.
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return load_text(text, file, str(data.get("name", "")) or "scenario")


def scenario_files(folder: Path) -> list[Path]:
    """The *.yaml / *.yml files below folder, in a stable order."""
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())


__all__ = [
    "Event",
    "JobTemplate",
    "Scenario",
    "Source",
    "StaticJob",
    "Trigger",
    "VarSpec",
    "load_file",
    "load_object",
    "load_text",
    "new_job_id",
    "scenario_files",
]
