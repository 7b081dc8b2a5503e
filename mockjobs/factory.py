"""The application factory."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import control, control_faults, control_resources, exposure, formats, pages, views
from .catalog import Registry
from .clock import RealTime
from .config import (
    bundled_scenarios,
    refuse_unshared_state,
    scenario_folders,
    settings,
    templates_dir,
    temporary_state,
)
from .cors import Cors, parse_origins
from .errors import ArcgisError, BadRequest, Conflict, MockjobsError, NotFound, StoreUnavailable
from .fastpath import DocumentCache, FastPath
from .formats import FormatError
from .heartbeat import Heartbeat
from .limits import MAX_BODY_BYTES
from .service import MockService
from .store import OneMomentPerRequest, open_store, store_url

log = logging.getLogger("mockjobs")

_STATUS = {BadRequest: 400, NotFound: 404, Conflict: 409, StoreUnavailable: 503}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the mockjobs Flask app.

    Settings come from defaults, then ``MOCKJOBS_*`` environment variables, then ``config``
    (keys as in :data:`mockjobs.config.DEFAULTS`, case-insensitive), e.g.::

        create_app({"SCENARIOS": ["my-scenarios"], "CONTEXT": "/arcgis", "SPEED": 10})

    ``STATE`` names the SQLite file shared by every worker of the server (kept across
    restarts); without it each server gets a temporary one. Under gunicorn that takes
    mockjobs' gunicorn settings (``-c python:mockjobs.gunicorn_conf``), whose master makes one
    for every worker; without them and without STATE or STORE this raises MockjobsError.
    ``TIME_SOURCE`` injects the real-time source (anything with ``now_ms()``), so tests can
    move time without sleeping.
    The app's state lives in ``app.extensions["mockjobs"]`` (a :class:`MockService`).
    """
    cfg = settings(config)
    if not cfg["CONTEXT"]:
        raise MockjobsError("the context path may not be empty (e.g. /arcgis)")
    exposure.check_settings(cfg)
    if str(cfg["AUTH_UNKNOWN_PATHS"]) not in ("499", "404"):
        raise MockjobsError(f"AUTH_UNKNOWN_PATHS must be 499 or 404, not {cfg['AUTH_UNKNOWN_PATHS']!r}")
    app = Flask("mockjobs", template_folder=str(templates_dir()), static_folder=None)  # pages.asset serves /static
    app.config.update(cfg)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # a larger body is refused (413) before it is read
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    url = store_url(cfg["STORE"], cfg["STATE"])
    if not url:
        refuse_unshared_state()
        url = f"sqlite:///{temporary_state()}"
    store = open_store(url, journal_max=int(cfg["JOURNAL_MAX"]))
    bundled = bundled_scenarios()
    registry = Registry(scenario_folders(cfg), store, labels={str(bundled): "scenarios"})
    service = MockService(cfg, store, registry, store.journal, cfg["TIME_SOURCE"] or RealTime())
    app.extensions["mockjobs"] = service
    heartbeat = app.extensions["mockjobs.heartbeat"] = Heartbeat(store)

    exposure.install(app)  # first: a refused request touches nothing
    app.register_blueprint(views.bp, url_prefix=cfg["CONTEXT"])
    app.register_blueprint(control.bp)
    app.register_blueprint(control_faults.bp)
    app.register_blueprint(control_resources.bp)
    app.register_blueprint(control.dashboard_bp)
    app.register_blueprint(pages.bp)
    _install_hooks(app, service, heartbeat)
    _install_error_handlers(app)
    docs = app.extensions["mockjobs.docs"] = DocumentCache()
    tokens = service.tokens if cfg["AUTH"] else None  # with tokens on, the fast path checks them too
    fast = FastPath(app.wsgi_app, service, docs, cfg["CONTEXT"], int(cfg["PJSON_INDENT"]), heartbeat, tokens)
    cors = Cors(fast, cfg["CONTEXT"], parse_origins(cfg["CORS_ORIGINS"]))
    app.wsgi_app = OneMomentPerRequest(cors, store)  # type: ignore[method-assign]
    return app


def _install_hooks(app: Flask, service: MockService, heartbeat: Heartbeat) -> None:
    context = app.config["CONTEXT"]
    interval = float(app.config["RELOAD_INTERVAL"])

    def on_change() -> None:
        service.seed_static()

    @app.before_request
    def start_watcher() -> None:
        service.registry.watch(interval, on_change)  # once per process, after any fork
        heartbeat.ensure(request.environ)

    @app.after_request
    def worker_header(response: Response) -> Response:
        response.headers["X-Mockjobs-Worker"] = str(os.getpid())  # which worker process answered
        return response

    @app.after_request
    def journal(response: Response) -> Response:
        path = request.path
        if not (path == context or path.startswith(context + "/")) or g.get("unjournaled"):
            return response  # only the ArcGIS surface is journaled, not a job page refreshing itself
        fmt = g.get("fmt")
        f = fmt.name if fmt is not None else request.values.get("f", "html")
        query = request.query_string.decode("latin-1")
        service.record(request.method, path, query, f, response.status_code, g.get("journal") or {})
        return response


def disk_full(exc: BaseException) -> bool:
    """Whether exc says the disk (or a quota, or a file size limit) is full."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _install_error_handlers(app: Flask) -> None:
    context = app.config["CONTEXT"]

    def under_context() -> bool:
        return request.path == context or request.path.startswith(context + "/")

    def arcgis(code: int, message: str, details: list[str] | None = None) -> Response:
        fmt = g.get("fmt") or formats.negotiate_or_json(request)
        g.journal = {**(g.get("journal") or {}), "error": code}
        status = code if app.config["HTTP_ERRORS"] and 400 <= code < 600 else 200
        if code in (498, 499) and app.config["HTTP_ERRORS"]:
            status = 401 if code == 499 else 403
        return formats.error_response(
            code, message, fmt, details, http_status=status, indent=int(app.config["PJSON_INDENT"])
        )

    @app.errorhandler(ArcgisError)
    def arcgis_error(exc: ArcgisError) -> Response:
        response = arcgis(exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)  # e.g. a 405's Allow
        return response

    @app.errorhandler(FormatError)
    def format_error(exc: FormatError) -> Response:
        g.fmt = formats.JSON  # an unsupported f is answered in JSON
        return arcgis(400, exc.message, exc.details)

    @app.errorhandler(MockjobsError)
    def mock_error(exc: MockjobsError) -> Response | tuple[Response, int]:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
        if under_context():
            return arcgis(status, str(exc))
        return jsonify({"error": str(exc)}), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[Response, int] | HTTPException:
        if exc.code == 413:
            exc.description = f"the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB), the limit"
        if under_context():
            if exc.code == 405:  # a method no route takes (e.g. TRACE): the same token check and 405 (or 404)
                return arcgis_error(views.unrouted_method())
            return arcgis(exc.code or 500, exc.name, [exc.description] if exc.description else [])
        if request.path.startswith("/__mock") or request.path in exposure.DASHBOARD_PATHS:
            response = jsonify({"error": f"{exc.name}: {exc.description}"})
            allow = dict(exc.get_headers()).get("Allow")
            if allow:  # a 405 says which methods the path takes
                response.headers["Allow"] = allow
            return response, exc.code or 500
        return exc

    @app.errorhandler(sqlite3.Error)
    @app.errorhandler(OSError)
    def storage_error(exc: Exception) -> Response | tuple[Response, int]:
        if not disk_full(exc):
            return unexpected(exc)
        log.error("cannot write the state on %s %s: %s", request.method, request.path, exc)
        message = (
            f"the disk holding the mock's state is full ({exc}); nothing was changed."
            " Free some space: the mock goes on by itself"
        )
        if under_context():
            return arcgis(507, "Insufficient storage.", [message])
        return jsonify({"error": message}), 507

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response | tuple[Response, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        collected = app.extensions.get("mockjobs.errors")  # the pytest plugin's list, if it listens
        if collected is not None and len(collected) < 100:
            collected.append(exc)
        if under_context():
            return arcgis(500, "Internal server error.", [type(exc).__name__])
        return jsonify({"error": f"internal error: {type(exc).__name__}: {exc}"}), 500
