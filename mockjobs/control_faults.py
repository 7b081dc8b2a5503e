"""The control API's faults: ``/__mock/faults`` (shapes in mockjobs.fault_schemas)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from . import control_schemas as cs
from .errors import BadRequest
from .fault_schemas import FaultListSchema, FaultResponseSchema
from .service import MockService

bp = Blueprint("faults", __name__, url_prefix="/__mock")


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


@bp.post("/faults")
def add_fault() -> tuple[Response, int]:
    """Add a fault for one job (jobId), one scenario's jobs (scenario) or every job: 201 with its id.
    ---
    post:
      summary: Add a fault on the polls of one job, one scenario's jobs, or every job
      operationId: addFault
      requestBody: {required: true, content: {application/json: {schema: FaultRequestSchema}}}
      responses:
        201: {description: The fault, with its id., content: {application/json: {schema: FaultResponseSchema}}}
        400: BadRequest
    """
    data = request.get_json(silent=True) if request.get_data() else None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object: {jobId? | scenario?, when, do}")
    fault = mock().rules.add(data)
    return jsonify(FaultResponseSchema().dump(fault.to_doc())), 201


@bp.get("/faults")
def list_faults() -> Response:
    """Every fault: those added through the API (creation order), then those of scenario files.
    ---
    get:
      summary: Every fault, the API's then the scenario files'
      operationId: listFaults
      responses:
        200: {description: The faults., content: {application/json: {schema: FaultListSchema}}}
    """
    docs = [f.to_doc() for f in mock().rules.listed()]
    return jsonify(FaultListSchema().dump({"faults": docs}))


@bp.delete("/faults/<fault_id>")
def delete_fault(fault_id: str) -> Response:
    """Remove one fault added through the API; 404 if there is none.
    ---
    delete:
      summary: Remove one fault added through the API
      operationId: deleteFault
      responses:
        200: {description: Removed., content: {application/json: {schema: Deleted}}}
        404: NotFound
    """
    mock().rules.delete(fault_id)
    return jsonify(cs.Deleted().dump({"deleted": fault_id}))


@bp.delete("/faults")
def delete_faults() -> Response:
    """Remove every fault added through the API (a scenario's faults stay with its file).
    ---
    delete:
      summary: Remove every fault added through the API
      operationId: deleteFaults
      responses:
        200: {description: The ids removed., content: {application/json: {schema: DeletedFaults}}}
    """
    rules = mock().rules
    gone = [f.id for f in rules.api_faults()]
    for fault_id in gone:
        rules.store.delete_fault(fault_id)
    return jsonify(cs.DeletedFaults().dump({"deleted": gone}))
