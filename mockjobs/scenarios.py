"""Scenario files: YAML validated by marshmallow schemas into immutable domain objects."""

from __future__ import annotations

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
from .durations import parse_ms
from .errors import DurationError, ScenarioError, ScenarioErrors
from .placeholders import PlaceholderError, Template

STATUSES = ("SUBMITTED", "EXECUTING", "PROCESSING", "CANCELLING", "CANCELLED", "FAILED", "COMPLETED")
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
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
class Trigger:
    """The ArcGIS operation that starts a job of this scenario."""

    method: str
    path: str
    response: Any


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
            raise ValueError(f"unknown var {unknown[0]!r} for scenario {self.name!r} (declared: {declared})")
        return {v.name: given[v.name] if v.name in given else v.value() for v in self.vars}


# --------------------------------------------------------------------------- schemas


class DurationField(fields.Field):
    """An offset: seconds as a number, or 250ms / 12s / 1m30s / 1h; never negative."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        try:
            ms = parse_ms(value, allow_negative=True)
        except DurationError as exc:
            raise ValidationError(str(exc)) from None
        if ms < 0:
            raise ValidationError(f"negative offset {value!r}: offsets count from the job's start")
        return ms


class StepsField(fields.Field):
    """stepsCompleted: an absolute count, or "+N" to add to the current one."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[int, bool]:
        if isinstance(value, bool):
            raise ValidationError("steps must be a whole number or '+N'")
        if isinstance(value, int):
            if value < 0:
                raise ValidationError(f"steps may not be negative ({value})")
            return value, False
        if isinstance(value, str) and re.fullmatch(r"\+\d+", value.strip()):
            return int(value.strip()[1:]), True
        raise ValidationError(f"steps must be a whole number or '+N', not {value!r}")


class VarField(fields.Field):
    """A var: a literal scalar, or {generate: hex32|uuid|jobid}."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[Any, str | None]:
        if isinstance(value, dict):
            if set(value) != {"generate"}:
                raise ValidationError("a generated var is written {generate: hex32|uuid|jobid}")
            gen = value["generate"]
            if gen not in GENERATORS:
                raise ValidationError(f"unknown generator {gen!r} (known: {', '.join(GENERATORS)})")
            return None, gen
        if value is None or isinstance(value, (str, int, float, bool)):
            return value, None
        raise ValidationError("a var is a string, a number, or {generate: ...}")


class JsonField(fields.Field):
    """Any JSON-like value (mappings with string keys, lists, scalars)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        _check_json(value)
        return value


def _check_json(value: Any) -> None:
    """Refuse values JSON cannot carry (dates, non-string keys)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"keys must be strings, not {k!r}")
            _check_json(v)
    elif isinstance(value, list):
        for v in value:
            _check_json(v)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise ValidationError(f"{type(value).__name__} values are not allowed here (quote it)")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class EventSchema(_Strict):
    at = DurationField(required=True)
    message = fields.String()
    code = fields.Integer(strict=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    steps = StepsField()
    attributes = fields.Dict(keys=fields.String(), values=JsonField())

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return data


class JobSchema(_Strict):
    type = fields.String(required=True, validate=validate.Length(min=1))
    username = fields.String(load_default="admin")
    totalSteps = fields.Integer(strict=True, validate=validate.Range(min=0))
    status = fields.String(load_default="SUBMITTED", validate=validate.OneOf(STATUSES))
    customAttributes = fields.Dict(keys=fields.String(), values=JsonField(), load_default=dict)
    pendingEndTime = fields.Integer(strict=True, load_default=0)


class TriggerSchema(_Strict):
    method = fields.String(load_default="POST", validate=validate.OneOf(["GET", "POST", "PUT", "PATCH", "DELETE"]))
    path = fields.String(required=True, validate=validate.Regexp(r"^/[A-Za-z0-9/_.~-]*$"))
    response = JsonField(load_default=lambda: {"jobId": "{jobId}"})

    @pre_load
    def upper(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            data = {**data, "method": data["method"].upper()}
        return data


class StaticJobSchema(_Strict):
    jobId = fields.String(required=True, validate=validate.Regexp(JOB_ID_RE, error="not a usable job id"))
    startTime = fields.Integer(strict=True, validate=validate.Range(min=0))
    vars = fields.Dict(keys=fields.String(), values=JsonField(), load_default=dict)
    params = fields.Dict(keys=fields.String(), values=JsonField(), load_default=dict)
    speed = fields.Float(validate=validate.Range(min=0, min_inclusive=False))


class ScenarioSchema(_Strict):
    name = fields.String(validate=validate.Regexp(NAME_RE, error="use [a-z0-9][a-z0-9._-]*"))
    description = fields.String(load_default="")
    job = fields.Nested(JobSchema, required=True)
    vars = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")), values=VarField(), load_default=dict
    )
    trigger = fields.Nested(TriggerSchema, load_default=None)
    timeline = fields.List(
        fields.Nested(EventSchema), required=True, validate=validate.Length(min=1, error="needs at least one event")
    )
    on_cancel = fields.List(fields.Nested(EventSchema), load_default=None)
    jobs = fields.List(fields.Nested(StaticJobSchema), load_default=list)

    def __init__(self, source: Source, stem: str, lines: Mapping[Any, int]) -> None:
        super().__init__()
        self.source = source
        self.stem = stem
        self.lines = lines

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Scenario:
        return _build(data, self.source, self.stem, self.lines)


DEFAULT_ON_CANCEL = (
    {"at": 0.0, "message": None, "status": "CANCELLING"},
    {"at": 1000.0, "message": None, "status": "CANCELLED"},
)


def _build(data: dict[str, Any], source: Source, stem: str, lines: Mapping[Any, int]) -> Scenario:
    """Cross-field rules, then the Scenario; raises ValidationError keyed by field path."""
    problems: dict[tuple[str | int, ...], str] = {}
    job = data["job"]
    declared = BUILTIN_PLACEHOLDERS | frozenset(data["vars"])

    def compiled(value: Any, path: tuple[str | int, ...]) -> Any:
        try:
            out = placeholders.compile_value(value)
        except PlaceholderError as exc:
            problems.setdefault(path, str(exc))
            return value
        for sub, template in placeholders.templates_in(out):
            try:
                placeholders.check(template, declared)
            except PlaceholderError as exc:
                problems.setdefault((*path, *sub), str(exc))
        return out

    extras = {}
    for key, value in job["customAttributes"].items():
        if key in RESERVED_ATTRIBUTES:
            problems[("job", "customAttributes", key)] = f"{key} is computed from the timeline; it cannot be set"
        extras[key] = compiled(value, ("job", "customAttributes", key))

    def events(
        raw: list[dict[str, Any]], where: str, total: int | None, start_steps: int
    ) -> tuple[tuple[Event, ...], int]:
        out = []
        for i, ev in enumerate(raw):
            if "code" in ev and "message" not in ev:
                problems[(where, i, "code")] = "a code goes with a message (messageCodes run parallel to messages)"
            attrs = {}
            for key, value in (ev.get("attributes") or {}).items():
                if key in RESERVED_ATTRIBUTES:
                    problems[(where, i, "attributes", key)] = f"{key} is computed from the timeline; it cannot be set"
                attrs[key] = compiled(value, (where, i, "attributes", key))
            steps = ev.get("steps")
            out.append(
                (
                    i,
                    Event(
                        at_ms=ev["at"],
                        message=compiled(ev["message"], (where, i, "message"))
                        if ev.get("message") is not None
                        else None,
                        code=ev.get("code"),
                        status=ev.get("status"),
                        steps=steps[0] if steps else None,
                        steps_relative=steps[1] if steps else False,
                        attributes=MappingProxyType(attrs),
                    ),
                )
            )
        out.sort(key=lambda pair: pair[1].at_ms)  # stable: equal offsets keep file order
        terminal: tuple[int, Event] | None = None
        running = highest = start_steps
        for i, ev in out:
            if terminal is not None:
                ti, tev = terminal
                problems.setdefault(
                    (where, i, "at"),
                    f"event after the terminal status {tev.status} of {where}[{ti}]; nothing may follow it",
                )
            if ev.steps is not None:
                running = running + ev.steps if ev.steps_relative else ev.steps
                if total is not None and running > total:
                    shown = f"+{ev.steps} makes {running}" if ev.steps_relative else str(running)
                    problems.setdefault((where, i, "steps"), f"{shown} is more than totalSteps ({total})")
                highest = max(highest, running)
            if ev.status in TERMINAL:
                terminal = (i, ev)
        return tuple(ev for _, ev in out), highest

    declared_total = job.get("totalSteps")
    timeline, highest = events(data["timeline"], "timeline", declared_total, 0)
    total = declared_total if declared_total is not None else highest
    cancel_raw = data["on_cancel"] if data["on_cancel"] is not None else list(DEFAULT_ON_CANCEL)
    if data["on_cancel"] is not None and not data["on_cancel"]:
        problems[("on_cancel",)] = "needs at least one event (leave it out for the default story)"
    # Cancelling may happen at any point; the worst case starts from the highest step reached.
    on_cancel, _ = events(cancel_raw, "on_cancel", total, highest)

    trigger = None
    if data["trigger"] is not None:
        t = data["trigger"]
        if _BUILTIN_PATHS.match(t["path"]):
            problems[("trigger", "path")] = f"{t['path']} is a built-in ArcGIS route; pick another path"
        trigger = Trigger(t["method"], t["path"].rstrip("/") or "/", compiled(t["response"], ("trigger", "response")))

    static = []
    seen_ids: set[str] = set()
    for i, sj in enumerate(data["jobs"]):
        if sj["jobId"] in seen_ids:
            problems[("jobs", i, "jobId")] = f"duplicate job id {sj['jobId']}"
        seen_ids.add(sj["jobId"])
        for key in sj["vars"]:
            if key not in data["vars"]:
                known = ", ".join(sorted(data["vars"])) or "none"
                problems[("jobs", i, "vars", key)] = f"unknown var {key!r} (declared: {known})"
        static.append(
            StaticJob(
                job_id=sj["jobId"],
                start_time=sj.get("startTime"),
                vars=MappingProxyType(dict(sj["vars"])),
                params=MappingProxyType(dict(sj["params"])),
                speed=sj.get("speed"),
            )
        )

    if problems:
        raise ValidationError(_nest(problems))

    return Scenario(
        name=data.get("name") or stem,
        description=data["description"],
        job=JobTemplate(
            type=job["type"],
            username=job["username"],
            total_steps=total,
            status=job["status"],
            custom_attributes=MappingProxyType(extras),
            pending_end_time=job["pendingEndTime"],
        ),
        vars=tuple(VarSpec(name, lit, gen) for name, (lit, gen) in data["vars"].items()),
        trigger=trigger,
        timeline=timeline,
        on_cancel=on_cancel,
        jobs=tuple(static),
        source=source,
        lines=MappingProxyType(dict(lines)),
    )


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
    stem = stem if stem is not None else Path(file).stem
    try:
        located = yamlsrc.load(text)
    except yamlsrc.YamlSyntaxError as exc:
        raise ScenarioErrors([ScenarioError(file, exc.line, "", exc.message)]) from None
    if not isinstance(located.data, dict):
        kind = "empty" if located.data is None else type(located.data).__name__
        raise ScenarioErrors([ScenarioError(file, 1, "", f"a scenario is a mapping, this file is {kind}")])
    source = Source(file, text)
    try:
        return ScenarioSchema(source, stem, located.lines).load(located.data)
    except ValidationError as exc:
        errors = [
            ScenarioError(file, located.line_of(path), field_path(path), message)
            for path, message in _flatten(exc.messages)
        ]
        errors.sort(key=lambda e: e.line)
        raise ScenarioErrors(errors) from None


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
    """A scenario given as a mapping (e.g. JSON), validated like a file."""
    import json

    return load_text(json.dumps(data, indent=1), file, str(data.get("name", "")) or "scenario")


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
