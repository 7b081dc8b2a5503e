"""The ArcGIS surface under the context path: site root, jobs, one job, triggers."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from . import faulted, formats, pages, resources, timeline
from .auth import DEFAULT_MINUTES, token_from
from .errors import ArcgisError, BadRequest, Conflict, NotFound, WrongMethod
from .fastpath import DocumentCache, Writer, json_writer
from .formats import Format
from .service import MockService

bp = Blueprint("arcgis", __name__)

_RESERVED_PARAMS = frozenset({"f", "callback", "token"})
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ANSWERED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # what a path may take; OPTIONS goes with any
_OPERATION_METHODS = frozenset({"POST"})  # a resource's operation
_RESOURCE_METHODS = frozenset({"GET", "POST"})  # a resource and its children


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


def fmt() -> Format:
    """The format this request asks for (negotiated once, in before_request)."""
    return g.fmt


def indent() -> int:
    """Spaces per level of pjson."""
    return int(current_app.config["PJSON_INDENT"])


_HTML_JOBS = 1000  # the html jobs list shows the newest; json and pjson list every job
_OPEN_ENDPOINTS = frozenset({"arcgis.site_root", "arcgis.generate_token"})
_CATCH_ALL = ("arcgis.other", None)  # the catch-all route, or none for a method no route names (e.g. TRACE)


@bp.before_request
def choose_format_and_check_token() -> Response | None:
    g.fmt = formats.negotiate(request)  # FormatError is answered by the app's handler
    _check_token()
    if request.method == "OPTIONS":  # not a CORS preflight (cors.Cors answers those before Flask)
        return _options()
    return None


def _options() -> Response:
    """OPTIONS: an empty answer whose Allow names the methods this path takes; its 404 when it takes none."""
    g.journal = {"kind": "other"}
    allowed = allowed_methods()
    if not allowed:
        raise ArcgisError(404, "Not Found", [f"No resource at {request.path}."])
    return Response(status=200, headers={"Allow": ", ".join(allowed)})


def _check_token() -> None:
    """With token security on, refuse (TokenError) a request without a valid token unless its path stays open."""
    if current_app.config["AUTH"] and not _open_path() and not _open_unknown_path():
        m = mock()
        g.journal = {"kind": "denied"}  # until the token passes
        m.tokens.check(token_from(request.values, request.headers), m.now())
        g.journal = None


def _open_path() -> bool:
    """Whether this path stays open with token security on (site root, rest/info, generateToken), by any method."""
    if request.endpoint in _OPEN_ENDPOINTS:
        return True
    if request.endpoint not in _CATCH_ALL:  # another method at an open path is not routed to its view
        return False
    try:
        endpoint, _ = current_app.url_map.bind_to_environ(request.environ).match(request.path, method="POST")
    except HTTPException:
        return False
    return endpoint in _OPEN_ENDPOINTS  # every open path takes POST


def _open_unknown_path() -> bool:
    """Whether this request is for a path nothing answers and AUTH_UNKNOWN_PATHS says 404 before the token."""
    if str(current_app.config["AUTH_UNKNOWN_PATHS"]) != "404" or request.endpoint not in _CATCH_ALL:
        return False
    return not allowed_methods() and resources.find(mock(), _relative_path()) is None  # no trigger, route, resource


def _relative_path() -> str:
    """This request's path relative to the context, as triggers and resources are written."""
    return request.path[len(current_app.config["CONTEXT"]) :]


def answer(obj: Any, template: str, **context: Any) -> Response:
    """obj in the request's format; template renders the html page."""
    return formats.respond(
        obj,
        fmt(),
        lambda: render_template(template, doc=obj, **context),
        indent=indent(),
    )


@bp.route("/rest", methods=["GET", "POST"], strict_slashes=False)
@bp.route("/rest/info", methods=["GET", "POST"], strict_slashes=False)
def site_root() -> Response:
    cfg = current_app.config
    owning = cfg["OWNING_SYSTEM_URL"] or request.host_url.rstrip("/") + cfg["CONTEXT"]
    doc = {
        "currentVersion": cfg["CURRENT_VERSION"],
        "fullVersion": cfg["FULL_VERSION"],
        "owningSystemUrl": owning,
        "authInfo": {"isTokenBasedSecurity": False},
    }
    if cfg["AUTH"]:
        doc["authInfo"] = {
            "isTokenBasedSecurity": True,
            "tokenServicesUrl": request.host_url.rstrip("/") + cfg["CONTEXT"] + "/tokens/generateToken",
        }
    g.journal = {"kind": "root"}
    return answer(doc, "root.html")


@bp.route("/rest/jobs", methods=["GET", "POST"], strict_slashes=False)
def jobs() -> Response:
    """Every job id, in creation order."""
    g.journal = {"kind": "jobs"}
    ids = mock().store.job_ids()
    return answer({"asyncJobs": ids}, "jobs.html", shown=ids[-_HTML_JOBS:], total=len(ids))


@bp.route("/tokens/generateToken", methods=["GET", "POST"])
def generate_token() -> Response:
    """A token for the configured user, POST only (only with token security on; 404 otherwise).

    Its life runs on the mock clock; `expires` is real epoch ms, as clients compare it with theirs.
    """
    if not current_app.config["AUTH"]:
        g.journal = {"kind": "other"}
        raise ArcgisError(404, "Not Found", [f"No resource at {request.path}."])
    g.journal = {"kind": "token"}
    if request.method != "POST":  # Esri documents generateToken as POST only, credentials in the body
        raise method_refused()
    values = request.values
    raw = values.get("expiration") or DEFAULT_MINUTES
    try:
        minutes = float(raw)
        if not math.isfinite(minutes):
            raise ValueError(raw)
    except ValueError:
        raise ArcgisError(400, "Unable to generate token.", [f"Invalid expiration {raw!r}: minutes."]) from None
    m = mock()
    token, expires = m.tokens.issue(
        values.get("username", ""), values.get("password", ""), minutes, m.now(), m.real_ms()
    )
    return answer({"token": token, "expires": expires, "ssl": False}, "token.html")


@bp.route("/rest/jobs/<job_id>/", methods=["GET", "POST"])  # a trailing slash is the same job (README, Choices)
@bp.route("/rest/jobs/<job_id>", methods=["GET", "POST"])  # registered first: url_for builds this one
def job(job_id: str) -> Response:
    """The job document for now (GET or POST, any format)."""
    f = fmt()
    live = f.is_html and bool(request.headers.get(pages.LIVE_HEADER))  # the page's own refresh
    write: Writer = pages.html_page if f.is_html else json_writer(f, indent())
    touched = None if live else faulted.answer(mock(), job_id, f, write, indent())  # a fault or the poll pace
    if touched is not None:
        response, g.journal = touched
        return response
    if f.is_html:
        return pages.job_page(job_id)
    docs: DocumentCache = current_app.extensions["mockjobs.docs"]
    found = docs.encoded(mock(), job_id, f, write)
    if found is None:
        g.journal = {"kind": "poll", "jobId": job_id}
        raise ArcgisError(404, "Job not found.", [f"Job '{job_id}' does not exist."])
    body, note = found
    g.journal = note if request.method in ("GET", "POST") else {**note, "kind": "other"}
    return formats.wrap(body, f)


_CATALOG_PAGE = 100  # the documented example's num


def _whole(name: str, default: int, low: int) -> int:
    """A whole-number parameter of the catalog (start, num), at least low."""
    raw = request.values.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) < low:
        raise ArcgisError(400, "Invalid parameter.", [f"{name} must be a whole number >= {low}, not {raw!r}."])
    return int(raw)


@bp.route("/rest/services", methods=["GET", "POST"], strict_slashes=False)
def services() -> Response:
    """Mission Server's services catalog: the listed entries of live resources (SPEC section 11)."""
    g.journal = {"kind": "catalog"}
    doc = resources.catalog(mock(), _whole("start", 1, 1), min(_whole("num", _CATALOG_PAGE, 1), 10_000))
    return answer(doc, "services.html")


def _pretty(value: Any) -> str:
    """A value as indented JSON text, keys in their order (for html pages)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def _resource(rest: str) -> Response | None:
    """A scenario resource, its child or operation at this path; None if no job declares one there."""
    m = mock()
    found = resources.find(m, "/" + rest)
    if found is None:
        return None
    res, name = found
    g.journal = {"kind": "resource", "jobId": res.job.job_id, "resource": res.path, "state": res.state}
    if name:
        g.journal["child" if name in res.spec.children else "operation"] = name
    if res.state != resources.LIVE:
        raise ArcgisError(404, "Not Found", [f"No resource at {request.path}."])
    if request.method not in _resource_methods(res, name):
        raise method_refused()
    if name in res.spec.operations:
        op = res.spec.operations[name]
        if op.removes and not m.store.remove_resource(res.key, m.now()):
            raise ArcgisError(404, "Not Found", [f"No resource at {request.path}."])  # removed meanwhile
        return answer(res.response(name), "resource.html", title=name, base=None, spec=None, pretty=_pretty)
    if name:
        return answer(res.child(name), "resource.html", title=name, base=None, spec=None, pretty=_pretty)
    return answer(
        res.document(),
        "resource.html",
        title=res.path.rsplit("/", 1)[-1],
        base=request.path.rstrip("/"),
        spec=res.spec,
        pretty=_pretty,
    )


def _resource_methods(res: resources.Resource, name: str) -> frozenset[str]:
    """The methods a live resource takes at name: POST for an operation, GET and POST otherwise."""
    return _OPERATION_METHODS if name in res.spec.operations else _RESOURCE_METHODS


def allowed_methods() -> list[str]:
    """The methods this request's path under the context takes (its routes, triggers, resources), sorted; [] if none.

    OPTIONS is among them whenever another method is. The one source of every Allow header under the context.
    """
    m = mock()
    path = _relative_path()
    adapter = current_app.url_map.bind_to_environ(request.environ)
    found = resources.find(m, path)
    live = found if found is not None and found[0].state == resources.LIVE else None
    allowed = set()
    for method in _ANSWERED:
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint == "arcgis.generate_token":
            takes = bool(current_app.config["AUTH"]) and method == "POST"  # a 404 without token security
        elif endpoint == "arcgis.other":
            takes = m.registry.trigger(method, path) is not None or (
                live is not None and method in _resource_methods(*live)
            )
        else:
            takes = True
        if takes:
            allowed.add(method)
    return sorted(allowed | {"OPTIONS"}) if allowed else []


def unrouted_method() -> ArcgisError:
    """The answer to a method no route names (e.g. TRACE): the token check as for any method, then method_refused."""
    try:
        _check_token()
    except ArcgisError as exc:  # the 498/499 envelope
        return exc
    return method_refused()


def method_refused() -> ArcgisError:
    """The answer to a method this path does not take: a 405 naming the ones it does (with Allow), or its 404."""
    g.journal = g.get("journal") or {"kind": "other"}
    allowed = allowed_methods()
    if not allowed:
        return ArcgisError(404, "Not Found", [f"No resource at {request.path}."])
    return WrongMethod(request.method, request.path, allowed)


@bp.route("/", defaults={"rest": ""}, methods=list(_METHODS), strict_slashes=False)
@bp.route("/<path:rest>", methods=list(_METHODS))
def other(rest: str) -> Response:
    """A scenario's trigger, ArcGIS's 405 for a known path with another method, or its 404."""
    m = mock()
    sc = m.registry.trigger(request.method, "/" + rest)
    if sc is None:
        found = _resource(rest)
        if found is not None:
            return found
        g.journal = {"kind": "other"}
        raise method_refused()
    params = {k: v for k, v in request.values.items() if k not in _RESERVED_PARAMS}
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        params.update({k: v for k, v in body.items() if k not in _RESERVED_PARAMS})
    try:
        job = m.create(sc, params=sc.trigger.resolve_params(params))
    except (BadRequest, NotFound, Conflict) as exc:
        raise ArcgisError(400, "Unable to start the job.", [str(exc)]) from None
    g.journal = {"kind": "trigger", "jobId": job.job_id, "seq": job.seq}
    doc = timeline.render_response(sc, job)
    return answer(doc, "trigger.html", job=job, scenario=sc, job_url=url_for("arcgis.job", job_id=job.job_id))
