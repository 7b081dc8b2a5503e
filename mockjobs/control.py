"""The control API under /__mock: JSON in and out, ordinary HTTP statuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from marshmallow import EXCLUDE, Schema
from werkzeug.exceptions import BadRequest as HttpBadRequest

from . import apidoc, pages, picture, resources
from . import control_schemas as cs
from .durations import format_ms
from .errors import BadRequest, NotFound, ScenarioErrors
from .placeholders import Template
from .scenarios import JOB_ID_RE, Event, Scenario
from .schema_dump import dumper
from .service import MockService

_DIGITS = re.compile(r"[0-9]{1,20}")  # str.isdigit() also takes "²" and "①", which int() refuses

bp = Blueprint("control", __name__, url_prefix="/__mock")
dashboard_bp = Blueprint("dashboard", __name__)


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


def body() -> Any:
    """The request's JSON value ({} when there is no body); BadRequest unless an object."""
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def answer(schema: type[Schema], value: Any, status: int = 200) -> tuple[Response, int]:
    """value shaped by schema (its dump, compiled once: see mockjobs.schema_dump), as JSON."""
    return jsonify(dumper(schema)(value)), status


def job_url(job_id: str) -> str:
    """The absolute URL of a job resource under the context path."""
    return url_for("arcgis.job", job_id=job_id, _external=True)


def job_urls() -> Callable[[str], str]:
    """job_url for many jobs of one request: url_for once, then the id appended (a usable id needs no quoting)."""
    prefix = job_url("x")[:-1]
    return lambda job_id: prefix + job_id if JOB_ID_RE.fullmatch(job_id) else job_url(job_id)


# --------------------------------------------------------------------------- health, scenarios


@bp.get("/health")
def health() -> tuple[Response, int]:
    """Status, counts and scenario load errors.
    ---
    get:
      summary: Status, counts and scenario load errors
      operationId: health
      responses:
        200: {description: Health., content: {application/json: {schema: HealthAnswer}}}
    """
    return answer(cs.HealthAnswer, mock().health())


def _template_text(value: Any) -> Any:
    """Templates back to their source text, recursively."""
    if isinstance(value, Template):
        return value.source
    if isinstance(value, dict):
        return {k: _template_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_template_text(v) for v in value]
    return value


def _event(ev: Event) -> dict[str, Any]:
    """One timeline event, normalised."""
    out: dict[str, Any] = {"at": ev.at_ms / 1000, "atText": format_ms(ev.at_ms)}
    if ev.message is not None:
        out["message"] = ev.message.source
    if ev.code is not None:
        out["code"] = ev.code
    if ev.status is not None:
        out["status"] = ev.status
    if ev.steps is not None:
        out["steps"] = f"+{ev.steps}" if ev.steps_relative else ev.steps
    if ev.attributes:
        out["attributes"] = _template_text(dict(ev.attributes))
    return out


def scenario_summary(sc: Scenario) -> dict[str, Any]:
    """A scenario in one line of the list."""
    return {
        "name": sc.name,
        "description": sc.description,
        "type": sc.job.type,
        "file": sc.source.file,
        "version": sc.version,
        "events": len(sc.timeline),
        "duration": sc.compiled.main.end / 1000,
        "trigger": None if sc.trigger is None else f"{sc.trigger.method} {sc.trigger.path}",
        "staticJobs": [j.job_id for j in sc.jobs],
    }


def scenario_detail(sc: Scenario) -> dict[str, Any]:
    """A scenario normalised: every default filled in, offsets in seconds."""
    out = scenario_summary(sc)
    out["job"] = {
        "type": sc.job.type,
        "username": sc.job.username,
        "totalSteps": sc.job.total_steps,
        "status": sc.job.status,
        "customAttributes": _template_text(dict(sc.job.custom_attributes)),
        "pendingEndTime": sc.job.pending_end_time,
        "pace": sc.job.pace,
    }
    out["vars"] = {v.name: {"generate": v.generate} if v.generate else v.literal for v in sc.vars}
    out["trigger"] = (
        None
        if sc.trigger is None
        else {
            "method": sc.trigger.method,
            "path": sc.trigger.path,
            "response": _template_text(sc.trigger.response),
        }
    )
    out["timeline"] = [_event(e) for e in sc.timeline]
    out["on_cancel"] = [_event(e) for e in sc.on_cancel]
    out["jobs"] = [
        {"jobId": j.job_id, "startTime": j.start_time, "vars": dict(j.vars), "speed": j.speed} for j in sc.jobs
    ]
    out["faults"] = [f.to_doc() for f in sc.faults]
    out["resources"] = [
        {
            "path": r.path.source,
            "aliases": [a.source for a in r.aliases],
            "appears": r.appears_text,
            "listed": _template_text(r.listed) if r.listed is not None else None,
            "document": _template_text(dict(r.document)),
            "children": _template_text(dict(r.children)),
            "operations": {
                name: {"response": resources.source(op.response), "removes": op.removes}
                for name, op in r.operations.items()
            },
        }
        for r in sc.resources
    ]
    return out


@bp.get("/scenarios")
def scenarios() -> tuple[Response, int]:
    """Every scenario.
    ---
    get:
      summary: Every scenario
      operationId: listScenarios
      responses:
        200: {description: Scenarios., content: {application/json: {schema: ScenarioList}}}
    """
    return answer(cs.ScenarioList, {"scenarios": [scenario_summary(s) for s in mock().registry.all()]})


@bp.get("/scenarios/<name>")
def scenario(name: str) -> tuple[Response, int]:
    """One scenario, normalised; 404 if unknown.
    ---
    get:
      summary: One scenario, normalised
      operationId: getScenario
      responses:
        200: {description: The scenario., content: {application/json: {schema: ScenarioDetail}}}
        404: NotFound
    """
    sc = mock().registry.get(name)
    if sc is None:
        raise NotFound(f"no scenario {name!r}")
    return answer(cs.ScenarioDetail, scenario_detail(sc))


@bp.post("/scenarios")
def add_scenario() -> tuple[Response, int]:
    """Add a scenario while serving: YAML text, or a JSON object; 409 if the name is taken.
    ---
    post:
      summary: Add a scenario while serving (YAML text or a JSON object); its static jobs start
      operationId: addScenario
      requestBody:
        required: true
        description: At most 512 KiB as YAML, 10,000 events per story.
        content:
          application/json: {schema: ScenarioRequest}
          application/yaml: {schema: {type: string, maxLength: 131072}}
      responses:
        201: {description: Added., content: {application/json: {schema: ScenarioSummary}}}
        400: BadRequest
        409: Conflict
    """
    source: str | dict[str, Any] = body() if request.is_json else request.get_data(as_text=True)  # or YAML
    if not source or (isinstance(source, str) and not source.strip()):
        raise BadRequest("send the scenario as YAML text or a JSON object")
    try:
        sc = mock().add_scenario(source, "<api>")
    except ScenarioErrors as exc:
        return answer(cs.ErrorAnswer, {"error": str(exc), "errors": [str(e) for e in exc.errors]}, 400)
    return answer(cs.ScenarioSummary, scenario_summary(sc), 201)


# --------------------------------------------------------------------------- jobs


@bp.post("/jobs")
def create_job() -> tuple[Response, int]:
    """Start a job of a scenario: 201, or 400/404/409.
    ---
    post:
      summary: Start a job of a scenario
      operationId: createJob
      requestBody: {required: true, content: {application/json: {schema: CreateJobRequest}}}
      responses:
        201: {description: Started., content: {application/json: {schema: JobCreated}}}
        400: BadRequest
        404: NotFound
        409: Conflict
    """
    data = cs.load(cs.CreateJobRequest, body())
    job = mock().create(
        data["scenario"],
        job_id=data.get("jobId"),
        vars=data.get("vars"),
        params=data.get("params"),
        speed=data.get("speed"),
        start_time=data.get("startTime"),
        pace=data.get("pace"),
    )
    out = {
        "jobId": job.job_id,
        "url": job_url(job.job_id),
        "scenario": job.scenario,
        "startTime": job.start_ms,
        "speed": job.speed,
    }
    return answer(cs.JobCreated, out, 201)


@bp.get("/jobs")
def list_jobs() -> tuple[Response, int]:
    """Every job with its current state (and poll summary unless ?polls=false).
    ---
    get:
      summary: Every job with its current state, next event and poll summary
      operationId: listJobs
      parameters: [{in: query, schema: JobsQuery}]
      responses:
        200: {description: Jobs in creation order., content: {application/json: {schema: JobList}}}
        400: BadRequest
    """
    m = mock()
    query = cs.load(cs.JobsQuery, request.args, unknown=EXCLUDE)
    polls = query["polls"].lower() not in ("0", "false", "no")
    out = m.summaries(m.store.jobs(query["offset"], query.get("limit")), polls=polls)
    url_of = job_urls()
    for entry in out:
        entry["url"] = url_of(entry["jobId"])
    return answer(cs.JobList, {"total": m.store.count_jobs(), "jobs": out})


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> tuple[Response, int]:
    """One job with its current state.
    ---
    get:
      summary: One job with its current state
      operationId: getJob
      responses:
        200: {description: The job., content: {application/json: {schema: JobSummary}}}
        404: NotFound
    """
    m = mock()
    out = m.summary(m.get(job_id))
    out["url"] = job_url(job_id)
    return answer(cs.JobSummary, out)


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str) -> tuple[Response, int]:
    """Remove a job.
    ---
    delete:
      summary: Remove a job
      operationId: deleteJob
      responses:
        200: {description: Removed., content: {application/json: {schema: Deleted}}}
        404: NotFound
    """
    mock().delete(job_id)
    return answer(cs.Deleted, {"deleted": job_id})


@bp.get("/jobs/<job_id>/at")
def job_at(job_id: str) -> tuple[Response, int]:
    """The job document at ?t= (elapsed scenario time).
    ---
    get:
      summary: The job document at an elapsed scenario time (scrubbing; changes nothing)
      operationId: jobAt
      parameters: [{in: query, schema: AtQuery}]
      responses:
        200: {description: The document., content: {application/json: {schema: JobDocument}}}
        400: BadRequest
        404: NotFound
    """
    m = mock()
    job = m.get(job_id)
    if "t" not in request.args:
        raise BadRequest("give the elapsed scenario time as ?t=12s")
    query = cs.load(cs.AtQuery, request.args, unknown=EXCLUDE)
    return answer(cs.JobDocument, m.at(job, query["t"]))


@bp.post("/jobs/<job_id>/advance")
def advance_job(job_id: str) -> tuple[Response, int]:
    """Move one job forward: {by: duration} or {to: next|end|offset}.
    ---
    post:
      summary: Move one job forward in its scenario time (no other job moves)
      operationId: advanceJob
      requestBody: {required: true, content: {application/json: {schema: AdvanceRequest}}}
      responses:
        200: {description: The job after the move., content: {application/json: {schema: JobSummary}}}
        400: BadRequest
        404: NotFound
    """
    data = cs.load(cs.AdvanceRequest, body())
    m = mock()
    job = m.advance(job_id, by_ms=data["by"]) if "by" in data else m.advance(job_id, to=data["to"])
    out = m.summary(job, polls=False)
    out["url"] = job_url(job_id)
    return answer(cs.JobSummary, out)


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> tuple[Response, int]:
    """Cancel a running job; 409 when it has ended.
    ---
    post:
      summary: Cancel a running job; isCancelled flips and on_cancel replays from now
      operationId: cancelJob
      requestBody: {required: true, content: {application/json: {schema: EmptyRequest}}}
      responses:
        200: {description: The job, cancelling., content: {application/json: {schema: JobSummary}}}
        400: BadRequest
        404: NotFound
        409: Conflict
    """
    cs.load(cs.EmptyRequest, body())
    m = mock()
    job = m.cancel(job_id)
    return answer(cs.JobSummary, m.summary(job, polls=False))


@bp.get("/jobs/<job_id>/timeline.svg")
def job_timeline(job_id: str) -> Response:
    """The job's events and polls on one time axis, as SVG.
    ---
    get:
      summary: A picture of the job, its events and its polls on one time axis
      operationId: jobTimeline
      responses:
        200: {description: An SVG image., content: {image/svg+xml: {schema: {type: string}}}}
        404: NotFound
    """
    m = mock()
    pic = picture.build(m, m.get(job_id))
    return Response(render_template("timeline.svg", pic=pic), mimetype="image/svg+xml")


@bp.get("/jobs/<job_id>/polls")
def job_polls(job_id: str) -> tuple[Response, int]:
    """Poll cadence of one job.
    ---
    get:
      summary: How the job was polled
      operationId: jobPolls
      responses:
        200: {description: Poll cadence., content: {application/json: {schema: PollsAnswer}}}
        404: NotFound
    """
    m = mock()
    return answer(cs.PollsAnswer, m.polls(m.get(job_id)))


# --------------------------------------------------------------------------- clock, journal, reset


@bp.get("/clock")
def get_clock() -> tuple[Response, int]:
    """The mock clock.
    ---
    get:
      summary: The server's mock clock
      operationId: getClock
      responses:
        200: {description: The clock., content: {application/json: {schema: ClockAnswer}}}
    """
    return answer(cs.ClockAnswer, mock().clock())


@bp.post("/clock")
def set_clock() -> tuple[Response, int]:
    """Freeze, unfreeze, set, advance, or return to real time.
    ---
    post:
      summary: Freeze, unfreeze, set, advance, or return to real time
      operationId: setClock
      requestBody: {required: true, content: {application/json: {schema: ClockRequest}}}
      responses:
        200: {description: The clock after the change., content: {application/json: {schema: ClockAnswer}}}
        400: BadRequest
    """
    data = cs.load(cs.ClockRequest, body())
    advance = round(data["advance"]) if "advance" in data else None
    clock = mock().change_clock(
        freeze=data.get("freeze"), set_ms=data.get("set"), advance_ms=advance, real=data.get("real", False)
    )
    return answer(cs.ClockAnswer, clock)


@bp.get("/requests")
def get_requests() -> tuple[Response, int]:
    """The journal, filtered by jobId, method, kind, f and path.
    ---
    get:
      summary: The request journal, filtered
      operationId: listRequests
      parameters: [{in: query, schema: RequestsQuery}]
      responses:
        200: {description: Requests in arrival order., content: {application/json: {schema: RequestList}}}
    """
    m = mock()
    entries = m.journal.entries(request.args.get("jobId") or None)
    for key in ("method", "kind", "f"):
        if request.args.get(key):
            entries = [e for e in entries if str(e.get(key, "")).lower() == request.args[key].lower()]
    if request.args.get("path"):
        entries = [e for e in entries if request.args["path"] in e.get("path", "")]
    return answer(cs.RequestList, {"count": len(entries), "requests": entries})


@bp.delete("/requests")
def clear_requests() -> tuple[Response, int]:
    """Empty the journal.
    ---
    delete:
      summary: Empty the journal
      operationId: clearRequests
      responses:
        200: {description: Emptied., content: {application/json: {schema: Cleared}}}
    """
    mock().journal.clear()
    return answer(cs.Cleared, {"cleared": True})


@bp.post("/reset")
def reset() -> tuple[Response, int]:
    """Back to the start: static jobs only, real clock, empty journal.
    ---
    post:
      summary: Back to the start (static jobs only, real clock, empty journal)
      operationId: reset
      requestBody: {required: true, content: {application/json: {schema: EmptyRequest}}}
      responses:
        200: {description: Done., content: {application/json: {schema: ResetDone}}}
        400: BadRequest
    """
    cs.load(cs.EmptyRequest, body())
    mock().reset()
    return answer(cs.ResetDone, {"reset": True})


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this control API.
    ---
    get:
      summary: The OpenAPI 3.1 document of this control API
      operationId: openapi
      responses:
        200: {description: This document., content: {application/json: {schema: {type: object}}}}
    """
    return jsonify(apidoc.document(current_app, request.host_url.rstrip("/")))


@bp.errorhandler(HttpBadRequest)
def bad_json(exc: HttpBadRequest) -> tuple[Response, int]:
    """A body Flask could not parse, as a JSON error."""
    return jsonify({"error": exc.description or "bad request"}), 400


# --------------------------------------------------------------------------- dashboard


@dashboard_bp.get("/")
def dashboard() -> str:
    """The HTML dashboard: scenarios to start, live jobs, the clock and the request log."""
    m = mock()
    log_job = request.args.get("jobId") or None
    journal, journal_total = pages.journal_rows(m, log_job)
    details = [scenario_detail(s) for s in m.registry.all()]
    return render_template(
        "dashboard.html",
        health=m.health(),
        scenarios=[{**d, "params": pages.param_names(d)} for d in details],
        jobs=[pages.job_row(m, job) for job in m.store.jobs(max(0, m.store.count_jobs() - 200))],
        journal=journal,
        journal_total=journal_total,
        resources=[r.summary() for r in resources.every(m)][-200:],
        log_job=log_job,
        context=current_app.config["CONTEXT"],
        refresh=_refresh(),
    )


def _refresh() -> int | None:
    """Seconds between reloads of the dashboard (?refresh=N, 1 to 3600), or None."""
    raw = request.args.get("refresh", "")
    if not _DIGITS.fullmatch(raw) or len(raw) > 6:
        return None
    return min(int(raw), 3600) or None


@dashboard_bp.app_template_filter("seconds")
def seconds_text(value: float) -> str:
    """Seconds for people: 0.25s, 1m6.311s, 3h2m1s, or 1267d 4h beyond a day."""
    if value >= 86_400:
        days, rest = divmod(int(value), 86_400)
        return f"{days}d {rest // 3600}h"
    return format_ms(round(value * 1000, 3))


@dashboard_bp.get("/favicon.ico")
def favicon() -> Response:
    """No icon: an empty answer, so browsers log no 404."""
    return Response(status=204)
