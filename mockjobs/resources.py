"""What a finished job leaves behind (SPEC section 11): scenario key `resources`.

A resource is DERIVED from a job and its scenario at time `now`, like the job document: it
appears when the job completes (or at start, or at an offset) and answers at its path and
aliases, with children and POST operations. The only thing stored is what clients change:
the removal by an operation with `removes: true` (see the store's resources section).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validate

from .durations import format_ms, parse_ms
from .errors import DurationError
from .placeholders import Template, render_value
from .timeline import values_for

if TYPE_CHECKING:
    from .scenarios import Scenario
    from .service import MockService
    from .timeline import Job

APPEARS = ("completed", "start")
PENDING, LIVE, REMOVED = "pending", "live", "removed"
CATALOG_PATH = "/rest/services"  # Mission Server's services catalog, answered by the mock itself
CHILD_NAME_RE = re.compile(r"^[A-Za-z0-9_.~-]+$")
RESOURCE_PATH_RE = re.compile(r"^/[A-Za-z0-9/_.~{}-]*$")
_GENERATE_TEXT = re.compile(r"^\{generate:\s*([A-Za-z0-9_]+)\s*\}$")


# --------------------------------------------------------------------------- domain objects


@dataclass(frozen=True)
class Generate:
    """A value made afresh on every call of an operation: {generate: hex32|uuid|jobid}."""

    generator: str


@dataclass(frozen=True)
class Operation:
    """POST <path>/<name>: what it answers, and whether it removes the resource."""

    response: Any
    removes: bool = False


@dataclass(frozen=True)
class ResourceSpec:
    """One `resources` entry of a scenario, its strings compiled to Templates."""

    path: Template
    aliases: tuple[Template, ...]
    appears: str | float  # "completed", "start", or scenario ms after the job's start
    listed: Mapping[str, Any] | None
    document: Mapping[str, Any]
    children: Mapping[str, Any] = field(default_factory=dict)
    operations: Mapping[str, Operation] = field(default_factory=dict)

    @property
    def appears_text(self) -> str:
        """appears as the scenario file writes it."""
        return self.appears if isinstance(self.appears, str) else format_ms(self.appears)


# --------------------------------------------------------------------------- schema fields


class AppearsField(fields.Field):
    """completed | start | an offset (seconds as a number, or 250ms / 12s / 1m30s / 1h)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str | float:
        if value in APPEARS:
            return str(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError("use completed, start or an offset such as 30s")
        try:
            ms = parse_ms(value, allow_negative=True)
        except DurationError as exc:
            raise ValidationError(f"{exc}; or use completed or start") from None
        if ms < 0:
            raise ValidationError(f"negative offset {value!r}: offsets count from the job's start")
        return ms


@cache
def schemas() -> tuple[type, type]:
    """(OperationSchema, ResourceSchema), built on the scenario module's fields."""
    from . import scenarios as s

    class OperationSchema(s._Strict):
        response = s.JsonField(
            required=True,
            error_messages=s._required("required: what the operation answers, e.g. response: {{success: true}}"),
        )
        removes = fields.Boolean(truthy={True}, falsy={False}, load_default=False)

    class ResourceSchema(s._Strict):
        path = fields.String(
            required=True,
            validate=validate.Regexp(
                RESOURCE_PATH_RE,
                error="{input!r} is not a path; write one under the context, like /rest/x/{{missionId}}",
            ),
            error_messages=s._required("required: the resource's path under the context, e.g. /rest/services/{id}"),
        )
        aliases = fields.List(
            fields.String(
                validate=validate.Regexp(RESOURCE_PATH_RE, error="{input!r} is not a path under the context")
            ),
            load_default=list,
        )
        appears = AppearsField(load_default="completed")
        listed = s.MapField(s.JsonField(), load_default=None)
        document = s.MapField(s.JsonField(), load_default=dict)
        children = s.MapField(
            s.JsonField(), key_re=CHILD_NAME_RE, key_hint="use letters, digits, _ . ~ -", load_default=dict
        )
        operations = s.MapField(
            fields.Nested(OperationSchema),
            key_re=CHILD_NAME_RE,
            key_hint="use letters, digits, _ . ~ -",
            load_default=dict,
        )

    return OperationSchema, ResourceSchema


def build(
    raw: list[dict[str, Any]],
    compiled: Callable[[Any, tuple[str | int, ...]], Any],
    problem: Callable[[tuple[str | int, ...], str], None],
    builtin_paths: re.Pattern[str],
    trigger_path: str | None,
) -> tuple[ResourceSpec, ...]:
    """The cross-field rules of `resources`, then its specs; problems reported by path."""
    out = []
    seen: dict[str, tuple[str | int, ...]] = {}
    for i, res in enumerate(raw):
        where: tuple[str | int, ...] = ("resources", i)
        paths = [(res["path"], (*where, "path"))] + [(a, (*where, "aliases", j)) for j, a in enumerate(res["aliases"])]
        for text, at in paths:
            clash = _clash(text, builtin_paths, trigger_path)
            if clash:
                problem(at, clash)
            key = text.rstrip("/") or "/"
            if key in seen:
                problem(at, f"{text} is already the path of {_field(seen[key])}")
            seen.setdefault(key, at)
        both = sorted(set(res["children"]) & set(res["operations"]))
        if both:
            problem((*where, "operations", both[0]), f"{both[0]} is also a child; a name is one or the other")
        listed = res["listed"]
        if listed is not None:
            missing = [k for k in ("name", "type") if k not in listed]
            if missing:
                problem((*where, "listed"), f"needs {' and '.join(missing)} (catalog clients read name and type)")
        operations = {}
        for name, op in res["operations"].items():
            response = _generators(op["response"], (*where, "operations", name, "response"), problem)
            operations[name] = Operation(compiled(response, (*where, "operations", name, "response")), op["removes"])
        out.append(
            ResourceSpec(
                path=compiled(res["path"].rstrip("/") or "/", (*where, "path")),
                aliases=tuple(
                    compiled(a.rstrip("/") or "/", (*where, "aliases", j)) for j, a in enumerate(res["aliases"])
                ),
                appears=res["appears"],
                listed=None if listed is None else compiled(listed, (*where, "listed")),
                document=compiled(res["document"], (*where, "document")),
                children={k: compiled(v, (*where, "children", k)) for k, v in res["children"].items()},
                operations=operations,
            )
        )
    return tuple(out)


def _field(path: tuple[str | int, ...]) -> str:
    from .scenarios import field_path

    return field_path(path)


def _clash(text: str, builtin_paths: re.Pattern[str], trigger_path: str | None) -> str | None:
    """Why a resource path cannot be used, or None."""
    path = text.rstrip("/") or "/"
    if path == "/__mock" or path.startswith("/__mock/"):
        return f"{text} is the control API's; resource paths are relative to the context (e.g. /rest/...)"
    if path.startswith("/rest/jobs"):
        return f"{text} clashes with the job resource (CTX/rest/jobs); pick another path"
    if builtin_paths.match(path) or path in ("/", CATALOG_PATH):
        return f"{text} is a built-in ArcGIS route; pick another path"
    if trigger_path is not None and path == trigger_path:
        return f"{text} is this scenario's trigger; pick another path"
    return None


def _generators(value: Any, path: tuple[str | int, ...], problem: Callable[..., None]) -> Any:
    """{generate: NAME} (a mapping, or that very text) in an operation response as Generate."""
    from .scenarios import GENERATORS

    name = None
    if isinstance(value, dict) and list(value) == ["generate"]:
        name = value["generate"]
    elif isinstance(value, str) and _GENERATE_TEXT.match(value):
        name = _GENERATE_TEXT.match(value).group(1)  # type: ignore[union-attr]
    if name is not None:
        if name not in GENERATORS:
            problem(path, f"unknown generator {name!r}; use one of: {', '.join(GENERATORS)}")
            return None
        return Generate(str(name))
    if isinstance(value, dict):
        return {k: _generators(v, (*path, k), problem) for k, v in value.items()}
    if isinstance(value, list):
        return [_generators(v, (*path, j), problem) for j, v in enumerate(value)]
    return value


def source(value: Any) -> Any:
    """A compiled value back as the scenario file wrote it (Templates as text, Generate as a mapping)."""
    if isinstance(value, Generate):
        return {"generate": value.generator}
    if isinstance(value, Template):
        return value.source
    if isinstance(value, dict):
        return {k: source(v) for k, v in value.items()}
    if isinstance(value, list):
        return [source(v) for v in value]
    return value


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """A compiled value rendered for one job; Generate markers made afresh."""
    from .scenarios import GENERATORS

    if isinstance(value, Generate):
        return GENERATORS[value.generator]()
    if isinstance(value, dict):
        return {k: render(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, values) for v in value]
    return render_value(value, values)


# --------------------------------------------------------------------------- resources at an instant


@dataclass(frozen=True)
class Resource:
    """One resource of one job at one instant: its rendered paths and its state."""

    job: Job
    scenario: Scenario
    index: int
    spec: ResourceSpec
    values: Mapping[str, Any]
    paths: tuple[str, ...]  # its path first, then its aliases, rendered
    state: str  # pending, live or removed
    removed_at: int | None = None

    @property
    def key(self) -> str:
        """Names this resource of this very job (not another job later given the same id)."""
        return resource_key(self.job, self.index)

    @property
    def path(self) -> str:
        return self.paths[0]

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.paths[1:]

    def document(self) -> Any:
        """The resource's document."""
        return render(self.spec.document, self.values)

    def listed(self) -> Any:
        """Its entry in CTX/rest/services, or None."""
        return None if self.spec.listed is None else render(self.spec.listed, self.values)

    def child(self, name: str) -> Any:
        """A child resource's document."""
        return render(self.spec.children[name], self.values)

    def response(self, name: str) -> Any:
        """What an operation answers (generated values made afresh)."""
        return render(self.spec.operations[name].response, self.values)

    def match(self, path: str) -> str | None:
        """ "" when path is this resource, a child or operation name for one of those, else None."""
        for own in self.paths:
            if path == own:
                return ""
            if path.startswith(own + "/"):
                name = path[len(own) + 1 :]
                if name in self.spec.children or name in self.spec.operations:
                    return name
        return None

    def summary(self) -> dict[str, Any]:
        """How the control API lists it."""
        return {
            "key": self.key,
            "path": self.path,
            "aliases": list(self.aliases),
            "state": self.state,
            "appears": self.spec.appears_text,
            "jobId": self.job.job_id,
            "scenario": self.scenario.name,
            "static": self.job.static,
            "listed": self.listed(),
            "children": list(self.spec.children),
            "operations": [{"name": name, "removes": op.removes} for name, op in self.spec.operations.items()],
            "removedAt": self.removed_at,
        }


def resource_key(job: Job, index: int) -> str:
    """The store's name for resource index of job."""
    return f"{job.job_id}#{job.seq}/{index}"


def _appeared(spec: ResourceSpec, status: str, elapsed: float) -> bool:
    if spec.appears == "completed":
        return status == "COMPLETED"
    if spec.appears == "start":
        return elapsed >= 0
    return elapsed >= float(spec.appears)  # whole ms on both sides (the engine counts in integers)


def of_job(m: MockService, job: Job, now: int, removed: Mapping[str, int] | None = None) -> list[Resource]:
    """Every resource job's scenario declares, in file order, with its state at now."""
    sc = m.registry.version(job.version)
    if sc is None or not sc.resources:
        return []
    removed = m.store.removed_resources() if removed is None else removed
    view = m.view(job, now)
    values = values_for(sc, job)
    out = []
    for i, spec in enumerate(sc.resources):
        paths = tuple(t.render(values) for t in (spec.path, *spec.aliases))
        key = resource_key(job, i)
        if key in removed:
            state, at = REMOVED, removed[key]
        else:
            state, at = (LIVE if _appeared(spec, view.state.status, view.state.position.elapsed) else PENDING), None
        out.append(Resource(job, sc, i, spec, values, paths, state, at))
    return out


def every(m: MockService, now: int | None = None, jobs: Iterable[Job] | None = None) -> list[Resource]:
    """Every declared resource of every job (or of jobs), in job creation order."""
    now = m.now() if now is None else now
    removed = m.store.removed_resources()
    out: list[Resource] = []
    for job in m.store.jobs() if jobs is None else jobs:
        out.extend(of_job(m, job, now, removed))
    return out


def find(m: MockService, path: str, now: int | None = None) -> tuple[Resource, str] | None:
    """The resource a path under the context names (preferring a live one) and the child/operation name."""
    path = path.rstrip("/") or "/"
    best: tuple[Resource, str] | None = None
    for res in every(m, now):
        name = res.match(path)
        if name is None:
            continue
        if res.state == LIVE:
            return res, name
        if best is None:
            best = res, name
    return best


def catalog(m: MockService, start: int, num: int, now: int | None = None) -> dict[str, Any]:
    """CTX/rest/services: Esri's documented catalog keys, the listed live resources paged."""
    listed = [entry for res in every(m, now) if res.state == LIVE for entry in [res.listed()] if entry is not None]
    page = listed[start - 1 : start - 1 + num]
    after = start - 1 + num
    return {
        "total": len(listed),
        "folders": [],
        "num": num,
        "start": start,
        "nextStart": after + 1 if after < len(listed) else -1,
        "services": page,
    }
