"""The OpenAPI document is generated from the control routes and their marshmallow schemas."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from marshmallow import Schema, fields

from mockjobs import apidoc
from mockjobs.limits import MAX_EPOCH_MS, MAX_SPEED, MIN_SPEED


def spec_of(client) -> dict:
    return client.get("/__mock/openapi.json").json


def test_the_document_states_the_limits(client) -> None:
    schemas = spec_of(client)["components"]["schemas"]
    job = schemas["CreateJobRequest"]
    assert (job["properties"]["speed"]["minimum"], job["properties"]["speed"]["maximum"]) == (MIN_SPEED, MAX_SPEED)
    assert job["properties"]["startTime"]["maximum"] == MAX_EPOCH_MS
    assert job["additionalProperties"] is False and job["required"] == ["scenario"]
    assert schemas["AdvanceRequest"]["oneOf"] == [{"required": ["by"]}, {"required": ["to"]}]
    assert "At most 100 years" in schemas["AdvanceRequest"]["properties"]["by"]["description"]
    assert schemas["ClockRequest"]["minProperties"] == 1


def test_a_scenario_trigger_is_documented_as_it_is_answered(client) -> None:
    spec = spec_of(client)
    trigger = spec["components"]["schemas"]["ScenarioDetail"]["properties"]["trigger"]
    assert "TriggerDetail" in str(trigger)
    answer = client.get("/__mock/scenarios/create-mission").json["trigger"]
    assert set(answer) <= set(spec["components"]["schemas"]["TriggerDetail"]["properties"])


def test_every_operation_documents_its_errors(client) -> None:
    for path, item in spec_of(client)["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert {"401", "403", "500"} <= set(operation["responses"]), (method, path)
            if method == "post":
                assert {"413", "415", "507"} <= set(operation["responses"]), (method, path)


def test_a_405_says_which_methods_the_path_takes(client) -> None:
    r = client.put("/__mock/jobs", json={})
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "Method Not Allowed" in r.json["error"]
    assert client.delete("/__mock/clock").headers["Allow"]


def test_another_blueprint_joins_the_document_with_its_own_schemas(app: Flask) -> None:
    class WidgetAnswer(Schema):
        widget = fields.String(required=True)

    extra = Blueprint("widgets", __name__, url_prefix="/__mock/widgets")

    @extra.get("/<widget_id>")
    def widget(widget_id: str):
        """One widget.
        ---
        get:
          summary: One widget
          operationId: getWidget
          responses:
            200: {description: The widget., content: {application/json: {schema: WidgetAnswer}}}
        """
        return jsonify(WidgetAnswer().dump({"widget": widget_id}))

    app.register_blueprint(extra)
    doc = apidoc.document(app)
    item = doc["paths"]["/__mock/widgets/{widget_id}"]
    assert item["get"]["operationId"] == "getWidget"
    assert item["parameters"] == [{"name": "widget_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert doc["components"]["schemas"]["WidgetAnswer"]["required"] == ["widget"]
