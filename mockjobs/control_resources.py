"""The control API's resources: ``GET /__mock/resources`` (SPEC section 11), its shapes in marshmallow."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import Schema, fields, validate

from . import resources
from .service import MockService

bp = Blueprint("resources", __name__, url_prefix="/__mock")


class OperationSummarySchema(Schema):
    """An operation of a resource (POST <path>/<name>)."""

    name = fields.String(required=True)
    removes = fields.Boolean(required=True, metadata={"description": "Whether calling it removes the resource."})


class ResourceSummarySchema(Schema):
    """One resource of one job, as it stands now."""

    class Meta:
        ordered = True

    key = fields.String(required=True, metadata={"description": "jobId#seq/index: this resource of this very job."})
    path = fields.String(required=True, metadata={"description": "Its path under the context, rendered."})
    url = fields.String(required=True, metadata={"description": "Its absolute URL."})
    aliases = fields.List(fields.String(), required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf([resources.PENDING, resources.LIVE, resources.REMOVED]),
        metadata={"description": "pending (not appeared yet), live, or removed (by an operation)."},
    )
    appears = fields.String(required=True, metadata={"description": "completed, start, or an offset such as 30s."})
    jobId = fields.String(required=True)
    scenario = fields.String(required=True)
    static = fields.Boolean(required=True, metadata={"description": "Of a static job: reset brings it back."})
    listed = fields.Raw(allow_none=True, metadata={"description": "Its entry in CTX/rest/services, or null."})
    children = fields.List(fields.String(), required=True)
    operations = fields.List(fields.Nested(OperationSummarySchema), required=True)
    removedAt = fields.Integer(allow_none=True, metadata={"description": "Mock time of removal, epoch ms."})


class ResourceListSchema(Schema):
    """The answer of GET /__mock/resources."""

    count = fields.Integer(required=True)
    resources = fields.List(fields.Nested(ResourceSummarySchema), required=True)


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


def resource_url(path: str) -> str:
    """The absolute URL of a path under the context."""
    return request.host_url.rstrip("/") + current_app.config["CONTEXT"] + path


@bp.get("/resources")
def list_resources() -> Response:
    """Every resource the jobs' scenarios declare, with its state now (?jobId=, ?state= filter)."""
    m = mock()
    job_id = request.args.get("jobId") or None
    jobs = None if job_id is None else [j for j in [m.store.get_job(job_id)] if j is not None]
    found = resources.every(m, jobs=jobs)
    state = request.args.get("state")
    out = [{**r.summary(), "url": resource_url(r.path)} for r in found if not state or r.state == state]
    return jsonify(ResourceListSchema().dump({"count": len(out), "resources": out}))


# --------------------------------------------------------------------------- OpenAPI, from the schemas

_TYPES = {
    fields.String: "string",
    fields.Integer: "integer",
    fields.Boolean: "boolean",
    fields.Float: "number",
}


def json_schema(field: fields.Field | Schema) -> dict[str, Any]:
    """The JSON Schema of a marshmallow schema or field (the kinds these schemas use)."""
    if isinstance(field, Schema):
        props = {name: json_schema(f) for name, f in field.fields.items()}
        required = [name for name, f in field.fields.items() if f.required]
        out: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            out["required"] = required
        if field.__doc__:
            out["description"] = field.__doc__.strip()
        return out
    if isinstance(field, fields.Nested):
        return json_schema(field.schema)
    if isinstance(field, fields.List):
        out = {"type": "array", "items": json_schema(field.inner)}
    else:
        kind = next((t for cls, t in _TYPES.items() if isinstance(field, cls)), None)
        out = {} if kind is None else {"type": [kind, "null"] if field.allow_none else kind}
    for v in field.validators:
        if isinstance(v, validate.OneOf):
            out["enum"] = list(v.choices)
    if field.metadata.get("description"):
        out["description"] = field.metadata["description"]
    return out


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI path items of this module's routes."""
    return {
        "/__mock/resources": {
            "get": {
                "summary": "Every resource the jobs' scenarios declare, with its state now",
                "operationId": "listResources",
                "parameters": [
                    {"name": "jobId", "in": "query", "required": False, "schema": {"type": "string"}},
                    {
                        "name": "state",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": [resources.PENDING, resources.LIVE, resources.REMOVED]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Resources, in job creation order.",
                        "content": {"application/json": {"schema": json_schema(ResourceListSchema())}},
                    }
                },
            }
        }
    }
