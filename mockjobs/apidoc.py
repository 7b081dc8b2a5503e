"""The OpenAPI 3.1 document of the control API, generated from its routes and marshmallow schemas.

Each control view's docstring holds its operations in YAML after a ``---`` line (apispec's
Flask plugin reads them); request and answer shapes name classes of
:mod:`mockjobs.control_schemas` (or of any module: the marshmallow plugin finds a schema by
its class name). :func:`document` walks every route of the app under ``/__mock``, so a new
blueprint's routes join the document by being registered on the app; path parameters are
added from the rules themselves.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from marshmallow import class_registry, fields
from marshmallow.exceptions import RegistryError

from . import __version__, control_schemas
from .exposure import CONTROL_PREFIX
from .limits import MAX_BODY_BYTES

_ERRORS = {
    "BadRequest": "A body or parameter that cannot be used (the message names the field and the limit).",
    "Unauthorized": "The control token is needed: send Authorization: Bearer <token> (tokenRequired: true).",
    "Forbidden": "The Host header is not this server's name (a guard against DNS rebinding).",
    "NotFound": "No such job or scenario.",
    "MethodNotAllowed": "The path takes other methods: see the Allow header.",
    "Conflict": "A duplicate, or an operation the job's state refuses.",
    "PayloadTooLarge": f"The body is larger than {MAX_BODY_BYTES} bytes.",
    "UnsupportedMediaType": "A write that is not JSON (a scenario may also be YAML).",
    "InsufficientStorage": "The disk holding the state is full; nothing was changed.",
    "InternalError": "A bug: the message names the exception (please report it).",
}
# Answered by any control route, whatever its own docstring lists.
_EVERY_ROUTE = {"401": "Unauthorized", "403": "Forbidden", "500": "InternalError"}
_EVERY_WRITE = {"413": "PayloadTooLarge", "415": "UnsupportedMediaType", "507": "InsufficientStorage"}


# Durations as text, each form at most ~95 years (the server refuses more than 100): 90, 1.5, 250ms, 1h30m.
_FORMS = [
    r"\d{1,9}(\.\d{1,3})?",
    r"\d{1,5}h(\d{1,7}m)?(\d{1,9}(\.\d{1,3})?s)?(\d{1,12}ms)?",
    r"\d{1,7}m(\d{1,9}(\.\d{1,3})?s)?(\d{1,12}ms)?",
    r"\d{1,9}(\.\d{1,3})?s(\d{1,12}ms)?",
    r"\d{1,12}ms",
]
_TEXT = "|".join(f"^{form}$" for form in _FORMS)
_SIGNED_TEXT = "|".join(f"^-?{form}$" for form in _FORMS)


def _duration(converter: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """How a Duration field looks in the document."""
    if not isinstance(field, control_schemas.Duration):
        return {}
    forms: list[dict[str, Any]] = [
        {"type": "number", **({} if field.allow_negative else {"minimum": 0}), "maximum": 3_155_760_000},
        {"type": "string", "pattern": _SIGNED_TEXT if field.allow_negative else _TEXT},
    ]
    if isinstance(field, control_schemas.AdvanceTarget):
        forms.insert(0, {"type": "string", "enum": ["next", "end"]})
    return {"anyOf": forms, "description": field.metadata.get("description", "") + " At most 100 years."}


def document(app: Flask, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of app's control API."""
    context = app.config.get("CONTEXT", "/arcgis")
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="mockjobs control API",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[FlaskPlugin(), CommonAnswers(), marshmallow],
        info={
            "description": (
                "Mock-only endpoints of mockjobs, a mock of ArcGIS Mission Server's Job resource. "
                f"The ArcGIS surface itself lives under {context or '/'} and is not described here. "
                'JSON in and out, ordinary HTTP statuses, errors as {"error": "<message>"}. '
                "Writes are JSON (Content-Type: application/json; {} where nothing else is needed)."
            )
        },
        servers=[{"url": server_url}] if server_url else None,
    )
    marshmallow.converter.add_attribute_function(_duration)  # type: ignore[union-attr]
    for name, text in _ERRORS.items():
        spec.components.response(
            name, {"description": text, "content": {"application/json": {"schema": "ErrorAnswer"}}}
        )
    spec.components.security_scheme("controlToken", {"type": "http", "scheme": "bearer"})
    register_routes(spec, app)
    doc = spec.to_dict()
    for name, shape in doc["components"]["schemas"].items():  # rules a schema checks beyond its fields
        shape.update(getattr(_schema_class(name), "OPENAPI_EXTRA", {}))
    return doc


def _schema_class(component: str) -> type | None:
    """The schema class a component is named after (apispec drops a "Schema" suffix: WhenSchema is When)."""
    for name in (component, component + "Schema"):
        try:
            return class_registry.get_class(name, all=False)  # type: ignore[return-value]
        except RegistryError:
            continue
    return None


def register_routes(spec: APISpec, app: Flask, prefix: str = CONTROL_PREFIX) -> None:
    """Add every route of app under prefix whose view documents its operations (a --- block).

    Another blueprint's routes (with their own schemas) join by being registered on app.
    """
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        if "---" not in (view.__doc__ or ""):
            continue
        parameters = [
            {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
            for arg in sorted(rule.arguments)
        ]
        spec.path(view=view, app=app, parameters=parameters or None)


class CommonAnswers(BasePlugin):
    """Adds the answers every control route (or write) may give, unless the view lists them itself."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            answers = operation.setdefault("responses", {})
            extra = dict(_EVERY_ROUTE)
            if method in ("post", "put", "patch"):
                extra.update(_EVERY_WRITE)
            for status, name in extra.items():
                answers.setdefault(status, name)
