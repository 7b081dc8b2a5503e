"""The control API's resources: ``GET /__mock/resources`` (SPEC section 11), its shapes in marshmallow."""

from __future__ import annotations

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
    """Every resource the jobs' scenarios declare, with its state now (?jobId=, ?state= filter).
    ---
    get:
      summary: Every resource the jobs' scenarios declare, with its state now
      operationId: listResources
      parameters:
        - {name: jobId, in: query, required: false, schema: {type: string}}
        - {name: state, in: query, required: false, schema: {enum: [pending, live, removed]}}
      responses:
        200: {description: Resources, in job creation order., content: {application/json: {schema: ResourceListSchema}}}
    """
    m = mock()
    job_id = request.args.get("jobId") or None
    jobs = None if job_id is None else [j for j in [m.store.get_job(job_id)] if j is not None]
    found = resources.every(m, jobs=jobs)
    state = request.args.get("state")
    out = [{**r.summary(), "url": resource_url(r.path)} for r in found if not state or r.state == state]
    return jsonify(ResourceListSchema().dump({"count": len(out), "resources": out}))
