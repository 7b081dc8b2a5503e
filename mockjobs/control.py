"""The control API under /__mock: JSON in and out, ordinary HTTP statuses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadRequest as HttpBadRequest

from . import openapi, pages, picture, resources
from .durations import format_ms, parse_ms
from .errors import BadRequest, DurationError, NotFound, ScenarioErrors
from .placeholders import Template
from .scenarios import Event, Scenario
from .service import MockService

MAX_EPOCH_MS = 2**53  # the largest whole number a JSON client reads exactly

bp = Blueprint("control", __name__, url_prefix="/__mock")
dashboard_bp = Blueprint("dashboard", __name__)


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


def body() -> dict[str, Any]:
    """The request's JSON object (empty when there is no body)."""
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _duration(value: Any, what: str, *, allow_negative: bool = False) -> float:
    """A duration of the body or query; BadRequest naming what."""
    try:
        return parse_ms(value, allow_negative=allow_negative)
    except DurationError as exc:
        raise BadRequest(f"{what}: {exc}") from None


def _epoch_ms(value: Any, what: str) -> int | None:
    """An instant in epoch ms (or None when absent); BadRequest unless a whole number in range."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_EPOCH_MS:
        raise BadRequest(f"'{what}' must be epoch milliseconds (a whole number within +-2**53)")
    return value


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def job_url(job_id: str) -> str:
    """The absolute URL of a job resource under the context path."""
    return url_for("arcgis.job", job_id=job_id, _external=True)


# --------------------------------------------------------------------------- health, scenarios


@bp.get("/health")
def health() -> Response:
    """Status, counts and scenario load errors."""
    return jsonify(mock().health())


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
def scenarios() -> Response:
    """Every scenario."""
    return jsonify({"scenarios": [scenario_summary(s) for s in mock().registry.all()]})


@bp.get("/scenarios/<name>")
def scenario(name: str) -> Response:
    """One scenario, normalised; 404 if unknown."""
    sc = mock().registry.get(name)
    if sc is None:
        raise NotFound(f"no scenario {name!r}")
    return jsonify(scenario_detail(sc))


@bp.post("/scenarios")
def add_scenario() -> tuple[Response, int]:
    """Add a scenario while serving: YAML text, or a JSON object; 409 if the name is taken."""
    source: str | dict[str, Any] = body() if request.is_json else request.get_data(as_text=True)
    if not source or (isinstance(source, str) and not source.strip()):
        raise BadRequest("send the scenario as YAML text or a JSON object")
    try:
        sc = mock().add_scenario(source, "<api>")
    except ScenarioErrors as exc:
        return jsonify({"error": str(exc), "errors": [str(e) for e in exc.errors]}), 400
    return jsonify(scenario_summary(sc)), 201


# --------------------------------------------------------------------------- jobs


@bp.post("/jobs")
def create_job() -> tuple[Response, int]:
    """Start a job of a scenario: 201, or 400/404/409."""
    data = body()
    _only(data, {"scenario", "jobId", "vars", "params", "speed", "startTime", "pace"})
    name = data.get("scenario")
    if not isinstance(name, str) or not name:
        raise BadRequest("'scenario' (a scenario name) is required")
    for key in ("vars", "params"):
        if key in data and not isinstance(data[key], dict):
            raise BadRequest(f"'{key}' must be an object")
    job_id = data.get("jobId")
    if job_id is not None and not isinstance(job_id, str):
        raise BadRequest("'jobId' must be a string")
    speed = data.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))):
        raise BadRequest("'speed' must be a number")
    start = _epoch_ms(data.get("startTime"), "startTime")
    pace = data.get("pace")
    if pace is not None and not isinstance(pace, str):
        raise BadRequest("'pace' must be 'clock' or 'poll'")
    job = mock().create(
        name,
        job_id=job_id,
        vars=data.get("vars"),
        params=data.get("params"),
        speed=speed,
        start_time=start,
        pace=pace,
    )
    out = {
        "jobId": job.job_id,
        "url": job_url(job.job_id),
        "scenario": job.scenario,
        "startTime": job.start_ms,
        "speed": job.speed,
    }
    return jsonify(out), 201


@bp.get("/jobs")
def list_jobs() -> Response:
    """Every job with its current state (and poll summary unless ?polls=false)."""
    m = mock()
    polls = request.args.get("polls", "true").lower() not in ("0", "false", "no")
    offset = _count_arg("offset", 0)
    limit = _count_arg("limit", None)
    out = m.summaries(m.store.jobs(offset or 0, limit), polls=polls)
    for entry in out:
        entry["url"] = job_url(entry["jobId"])
    return jsonify({"total": m.store.count_jobs(), "jobs": out})


def _count_arg(name: str, default: int | None) -> int | None:
    """A non-negative whole number from the query string."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a whole number >= 0, not {raw!r}")
    return int(raw)


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    """One job with its current state."""
    m = mock()
    out = m.summary(m.get(job_id))
    out["url"] = job_url(job_id)
    return jsonify(out)


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str) -> Response:
    """Remove a job."""
    mock().delete(job_id)
    return jsonify({"deleted": job_id})


@bp.get("/jobs/<job_id>/at")
def job_at(job_id: str) -> Response:
    """The job document at ?t= (elapsed scenario time)."""
    m = mock()
    job = m.get(job_id)
    if "t" not in request.args:
        raise BadRequest("give the elapsed scenario time as ?t=12s")
    return jsonify(m.at(job, _duration(request.args["t"], "t")))


@bp.post("/jobs/<job_id>/advance")
def advance_job(job_id: str) -> Response:
    """Move one job forward: {by: duration} or {to: next|end|offset}."""
    data = body()
    _only(data, {"by", "to"})
    if ("by" in data) == ("to" in data):
        raise BadRequest("give exactly one of 'by' (a duration) or 'to' ('next', 'end' or an offset)")
    m = mock()
    if "by" in data:
        job = m.advance(job_id, by_ms=_duration(data["by"], "by"))
    else:
        to = data["to"]
        target: str | float = to if to in ("next", "end") else _duration(to, "to")
        job = m.advance(job_id, to=target)
    out = m.summary(job, polls=False)
    out["url"] = job_url(job_id)
    return jsonify(out)


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> Response:
    """Cancel a running job; 409 when it has ended."""
    m = mock()
    job = m.cancel(job_id)
    return jsonify(m.summary(job, polls=False))


@bp.get("/jobs/<job_id>/timeline.svg")
def job_timeline(job_id: str) -> Response:
    """The job's events and polls on one time axis, as SVG."""
    m = mock()
    pic = picture.build(m, m.get(job_id))
    return Response(render_template("timeline.svg", pic=pic), mimetype="image/svg+xml")


@bp.get("/jobs/<job_id>/polls")
def job_polls(job_id: str) -> Response:
    """Poll cadence of one job."""
    m = mock()
    return jsonify(m.polls(m.get(job_id)))


# --------------------------------------------------------------------------- clock, journal, reset


@bp.get("/clock")
def get_clock() -> Response:
    """The mock clock."""
    return jsonify(mock().clock())


@bp.post("/clock")
def set_clock() -> Response:
    """Freeze, unfreeze, set, advance, or return to real time."""
    data = body()
    _only(data, {"freeze", "set", "advance", "real"})
    if not data:
        raise BadRequest("give freeze (true/false), set (epoch ms), advance (a duration) or real: true")
    freeze = data.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise BadRequest("'freeze' must be true or false")
    set_ms = _epoch_ms(data.get("set"), "set")
    adv = round(_duration(data["advance"], "advance", allow_negative=True)) if "advance" in data else None
    real = data.get("real", False)
    if not isinstance(real, bool):
        raise BadRequest("'real' must be true or false")
    return jsonify(mock().change_clock(freeze=freeze, set_ms=set_ms, advance_ms=adv, real=real))


@bp.get("/requests")
def get_requests() -> Response:
    """The journal, filtered by jobId, method, kind, f and path."""
    m = mock()
    entries = m.journal.entries(request.args.get("jobId") or None)
    for key in ("method", "kind", "f"):
        if request.args.get(key):
            entries = [e for e in entries if str(e.get(key, "")).lower() == request.args[key].lower()]
    if request.args.get("path"):
        entries = [e for e in entries if request.args["path"] in e.get("path", "")]
    return jsonify({"count": len(entries), "requests": entries})


@bp.delete("/requests")
def clear_requests() -> Response:
    """Empty the journal."""
    mock().journal.clear()
    return jsonify({"cleared": True})


@bp.post("/reset")
def reset() -> Response:
    """Back to the start: static jobs only, real clock, empty journal."""
    mock().reset()
    return jsonify({"reset": True})


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this control API."""
    return jsonify(openapi.document(current_app.config["CONTEXT"], request.host_url.rstrip("/")))


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
    return min(int(raw), 3600) if raw.isdigit() and int(raw) > 0 else None


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
