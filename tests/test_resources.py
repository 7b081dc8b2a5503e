"""Scenario key `resources` (SPEC section 11): validation, the ArcGIS surface, the control API, reset."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockjobs.errors import ScenarioErrors
from mockjobs.scenarios import load_text
from mockjobs.service import MockService
from tests.test_auth import token

MISSION_KEYS = [  # Esri's documented mission service example, in its order
    "summary",
    "owner",
    "thumbnail",
    "missionId",
    "capabilities",
    "groupId",
    "description",
    "licenseInfo",
    "type",
    "currentVersion",
    "folderId",
    "tags",
    "channels",
]

SHELF_YAML = """\
name: shelf
job: {type: makeShelf}
vars:
  shelfId: {generate: hex32}
  fixed: f1
timeline:
  - {at: 0, status: EXECUTING}
  - {at: 10s, status: COMPLETED}
jobs:
  - jobId: static-shelf
    vars: {shelfId: s0}
resources:
  - path: /rest/shelves/{shelfId}
    appears: start
    listed: {name: "{shelfId}", type: Shelf, title: "{params.title}"}
    document: {id: "{shelfId}", job: "{jobId}"}
  - path: /rest/later/{shelfId}
    appears: 5s
    document: {later: true}
    operations:
      ping: {response: {pong: {generate: uuid}}}
      drop: {response: {dropped: "{shelfId}"}, removes: true}
"""


@pytest.fixture
def m(app: Flask) -> MockService:
    return app.extensions["mockjobs"]


def mission(client: FlaskClient, m: MockService, title: str = "Harbour") -> tuple[str, str]:
    """(jobId, missionId) of a createMission started over HTTP."""
    job_id = client.post("/arcgis/rest/services/createMission", data={"f": "json", "title": title}).json["jobId"]
    return job_id, m.get(job_id).vars["missionId"]


def mission_paths(mid: str) -> list[str]:
    return [
        f"/arcgis/rest/services/{mid}/MissionServer",
        f"/arcgis/rest/services/{mid}",
        f"/arcgis/rest/missions/{mid}",
    ]


def not_found(r) -> bool:
    return r.status_code == 200 and r.json["error"]["code"] == 404


# --------------------------------------------------------------------------- validation


BASE = "name: x\njob: {type: t}\nvars: {id: {generate: hex32}}\ntrigger: {path: /rest/go}\ntimeline: [{at: 0}]\n"


@pytest.mark.parametrize(
    ("tail", "line", "field", "message"),
    [
        ("resources:\n  - path: /rest/jobs/{id}\n", 7, "resources[0].path", "clashes with the job resource"),
        ("resources:\n  - path: /__mock/x\n", 7, "resources[0].path", "is the control API's"),
        ("resources:\n  - path: /rest/services\n", 7, "resources[0].path", "is a built-in ArcGIS route"),
        ("resources:\n  - path: /rest/go\n", 7, "resources[0].path", "is this scenario's trigger"),
        ("resources:\n  - path: /rest/a/{nope}\n", 7, "resources[0].path", "undeclared placeholder {nope}"),
        (
            "resources:\n  - path: /rest/a\n    document: {x: '{missing}'}\n",
            8,
            "resources[0].document.x",
            "undeclared placeholder {missing}",
        ),
        (
            "resources:\n  - path: /rest/a\n    operations:\n      go: {removes: true}\n",
            9,
            "resources[0].operations.go.response",
            "required: what the operation answers",
        ),
        (
            "resources:\n  - path: /rest/a\n    aliases: [/rest/a]\n",
            8,
            "resources[0].aliases[0]",
            "is already the path of resources[0].path",
        ),
        ("resources:\n  - path: /rest/a\n    appears: soon\n", 8, "resources[0].appears", "or use completed or start"),
        ("resources:\n  - path: /rest/a\n    listed: {name: a}\n", 8, "resources[0].listed", "needs type"),
        (
            "resources:\n  - path: /rest/a\n    children: {go: {}}\n    operations: {go: {response: {}}}\n",
            9,
            "resources[0].operations.go",
            "also a child",
        ),
        (
            "resources:\n  - path: /rest/a\n    operations: {go: {response: {id: {generate: nope}}}}\n",
            8,
            "resources[0].operations.go.response.id",
            "unknown generator 'nope'",
        ),
        ("resources:\n  - path: rest/a\n", 7, "resources[0].path", "is not a path"),
        ("resources:\n  - path: /rest/a\n    colour: red\n", 8, "resources[0].colour", "unknown key; allowed here"),
    ],
)
def test_a_bad_resource_is_one_error_at_file_line_field(tail: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ScenarioErrors) as info:
        load_text(BASE + tail, "x.yaml")
    assert len(info.value.errors) == 1, str(info.value)
    err = info.value.errors[0]
    assert (err.file, err.line, err.field) == ("x.yaml", line, field), str(err)
    assert message in err.message
    assert str(err).startswith(f"x.yaml:{line}: {field}: ")


def test_the_bundled_create_mission_declares_its_mission_service() -> None:
    from mockjobs.config import bundled_scenarios

    sc = load_text((bundled_scenarios() / "create-mission.yaml").read_text(), "create-mission.yaml")
    (res,) = sc.resources
    assert res.path.source == "/rest/services/{missionId}/MissionServer"
    assert [a.source for a in res.aliases] == ["/rest/services/{missionId}", "/rest/missions/{missionId}"]
    assert list(res.document) == MISSION_KEYS
    assert set(res.children) == {"connectionInfo", "reports"}
    assert {n: op.removes for n, op in res.operations.items()} == {"addReport": False, "delete": True}


# --------------------------------------------------------------------------- the ArcGIS surface


def test_the_mission_answers_404_until_completed_then_at_every_path(client: FlaskClient, m: MockService) -> None:
    job_id, mid = mission(client, m)
    for path in mission_paths(mid):
        assert not_found(client.get(path, query_string={"f": "json"})), path
    assert client.get("/arcgis/rest/services", query_string={"f": "json"}).json["services"] == []

    m.advance(job_id, to="end")
    docs = [client.get(path, query_string={"f": "json"}).json for path in mission_paths(mid)]
    assert docs[0] == docs[1] == docs[2]
    doc = docs[0]
    assert list(doc) == MISSION_KEYS
    assert doc["missionId"] == mid and doc["type"] == "MissionServer" and doc["owner"] == "admin"
    assert doc["tags"] == ["Mission"] and isinstance(doc["currentVersion"], str)
    assert [c["name"] for c in doc["channels"]] == ["TRACK", "LOGS"]
    assert all("/FeatureServer/" not in v for v in doc.values() if isinstance(v, str))  # the Python client's rule
    # POST answers like GET (Esri's client falls back to POST)
    assert client.post(mission_paths(mid)[2], data={"f": "json"}).json == doc


def test_catalog_has_the_documented_keys_and_pages(client: FlaskClient, m: MockService) -> None:
    ids = []
    for title in ("A", "B", "C"):
        job_id, mid = mission(client, m, title)
        m.advance(job_id, to="end")
        ids.append(mid)
    cat = client.get("/arcgis/rest/services", query_string={"f": "json"}).json
    assert list(cat) == ["total", "folders", "num", "start", "nextStart", "services"]
    assert cat["total"] == 3 and cat["folders"] == [] and cat["num"] == 100 and cat["nextStart"] == -1
    assert cat["services"] == [
        {"name": i, "type": "MissionServer", "title": t} for i, t in zip(ids, "ABC", strict=True)
    ]
    page = client.get("/arcgis/rest/services", query_string={"f": "json", "start": 2, "num": 1}).json
    assert (page["start"], page["num"], page["nextStart"], page["total"]) == (2, 1, 3, 3)
    assert [s["title"] for s in page["services"]] == ["B"]
    bad = client.get("/arcgis/rest/services", query_string={"f": "json", "start": 0}).json
    assert bad["error"]["code"] == 400


def test_children_operations_and_removal(client: FlaskClient, m: MockService) -> None:
    job_id, mid = mission(client, m)
    m.advance(job_id, to="end")
    info = client.get(f"/arcgis/rest/services/{mid}/connectionInfo", query_string={"f": "json"}).json
    assert list(info) == ["url", "missionId", "token"] and info["missionId"] == mid
    reports = client.get(f"/arcgis/rest/missions/{mid}/reports", query_string={"f": "json"}).json
    assert reports == {"name": "REPORT", "msgId": "REPORT", "items": []}

    first = client.post(f"/arcgis/rest/missions/{mid}/addReport", data={"f": "json", "title": "R"}).json
    second = client.post(f"/arcgis/rest/services/{mid}/MissionServer/addReport", data={"f": "json"}).json
    assert first["success"] is True and len(first["reportId"]) == 32
    assert second["reportId"] != first["reportId"]  # {generate: hex32} in a response: made on every call
    assert client.get(f"/arcgis/rest/missions/{mid}/addReport", query_string={"f": "json"}).json["error"]["code"] == 405

    assert client.post(f"/arcgis/rest/services/{mid}/delete", data={"f": "json"}).json == {"success": True}
    for path in mission_paths(mid) + [f"/arcgis/rest/missions/{mid}/connectionInfo"]:
        assert not_found(client.get(path, query_string={"f": "json"})), path
    assert not_found(client.post(f"/arcgis/rest/missions/{mid}/delete", data={"f": "json"}))  # once only
    assert client.get("/arcgis/rest/services", query_string={"f": "json"}).json["total"] == 0
    kinds = [(e["kind"], e.get("operation"), e.get("error")) for e in m.journal.entries() if e["kind"] == "resource"]
    assert ("resource", "delete", None) in kinds and ("resource", "delete", 404) in kinds


@pytest.mark.parametrize("http_errors", [False, True])
def test_a_wrong_method_names_what_the_resource_takes_in_allow(make_app, http_errors: bool) -> None:
    app = make_app(HTTP_ERRORS=http_errors)
    client, m = app.test_client(), app.extensions["mockjobs"]
    job_id, mid = mission(client, m)
    m.advance(job_id, to="end")
    read, operation = {"GET", "POST", "OPTIONS"}, {"POST", "OPTIONS"}
    cases = [(method, path, read) for path in mission_paths(mid) for method in ("DELETE", "PUT", "HEAD")]
    cases += [
        ("PATCH", f"/arcgis/rest/services/{mid}/connectionInfo", read),  # a child
        ("GET", f"/arcgis/rest/missions/{mid}/addReport", operation),
        ("DELETE", f"/arcgis/rest/services/{mid}/delete", operation),
        ("TRACE", f"/arcgis/rest/services/{mid}/delete", operation),
    ]
    for method, path, allowed in cases:
        r = client.open(path, method=method, query_string={"f": "json"})
        assert r.status_code == (405 if http_errors else 200), (method, path)
        assert set(r.headers["Allow"].split(", ")) == allowed, (method, path)
        if method != "HEAD":
            assert r.json["error"]["code"] == 405, (method, path)
        options = client.options(path)
        assert (options.status_code, set(options.headers["Allow"].split(", "))) == (200, allowed), path
    assert (
        client.get(f"/arcgis/rest/missions/{mid}", query_string={"f": "json"}).json["missionId"] == mid
    )  # still there

    assert client.post(f"/arcgis/rest/services/{mid}/delete", data={"f": "json"}).json == {"success": True}
    gone = client.delete(f"/arcgis/rest/missions/{mid}", query_string={"f": "json"})  # removed: 404, no Allow
    assert gone.json["error"]["code"] == 404 and "Allow" not in gone.headers


def test_formats_jsonp_html_and_cors_as_the_job_resource(client: FlaskClient, m: MockService) -> None:
    job_id, mid = mission(client, m)
    m.advance(job_id, to="end")
    path = f"/arcgis/rest/missions/{mid}"
    compact = client.get(path, query_string={"f": "json"}).data
    pretty = client.get(path, query_string={"f": "pjson"}).data
    assert json.loads(compact) == json.loads(pretty) and b"\n  " in pretty and b"\n" not in compact
    jsonp = client.get(path, query_string={"f": "json", "callback": "take"})
    assert jsonp.data.startswith(b"take(") and json.loads(jsonp.data[5:].rstrip(b");")) == json.loads(compact)
    page = client.get(f"/arcgis/rest/services/{mid}/MissionServer")
    assert page.mimetype == "text/html"
    html = page.data.decode()
    assert f'href="/arcgis/rest/services/{mid}/MissionServer/connectionInfo"' in html
    assert "addReport" in html and "delete" in html and mid in html
    cors = client.get(path, query_string={"f": "json"}, headers={"Origin": "https://app.example"})
    assert cors.headers["Access-Control-Allow-Origin"] == "https://app.example"
    catalog_page = client.get("/arcgis/rest/services").data.decode()
    assert "Harbour" in catalog_page and f"/arcgis/rest/services/{mid}/MissionServer" in catalog_page
    bad = client.get(path, query_string={"f": "xml"}).json
    assert bad["error"]["code"] == 400


def test_tokens_are_checked_as_for_the_job_resource(make_app) -> None:
    client = make_app(AUTH=True, USER="alice:s3cret").test_client()
    m = client.application.extensions["mockjobs"]
    t = token(client)["token"]
    job_id = client.post("/arcgis/rest/services/createMission", data={"f": "json", "token": t}).json["jobId"]
    mid = m.get(job_id).vars["missionId"]
    m.advance(job_id, to="end")
    path = f"/arcgis/rest/missions/{mid}"
    assert client.get(path, query_string={"f": "json"}).json["error"]["code"] == 499
    assert client.get(path, query_string={"f": "json", "token": "nope"}).json["error"]["code"] == 498
    assert client.get("/arcgis/rest/services", query_string={"f": "json"}).json["error"]["code"] == 499
    doc = client.get(path, query_string={"f": "json"}, headers={"X-Esri-Authorization": f"Bearer {t}"}).json
    assert doc["missionId"] == mid
    assert client.post(f"{path}/delete", data={"f": "json"}).json["error"]["code"] == 499
    assert client.get(path, query_string={"f": "json", "token": t}).json["missionId"] == mid  # not removed


def test_appears_at_start_at_an_offset_and_static_ones_return_after_reset(client: FlaskClient, m: MockService) -> None:
    m.add_scenario(SHELF_YAML)
    static_path = "/arcgis/rest/shelves/s0"
    assert client.get(static_path, query_string={"f": "json"}).json == {"id": "s0", "job": "static-shelf"}
    job = m.create("shelf", params={"title": "Mine"})
    sid = job.vars["shelfId"]
    assert client.get(f"/arcgis/rest/shelves/{sid}", query_string={"f": "json"}).json["id"] == sid
    later = f"/arcgis/rest/later/{sid}"
    assert not_found(client.get(later, query_string={"f": "json"}))
    m.advance(job.job_id, by_ms=5000)
    assert client.get(later, query_string={"f": "json"}).json == {"later": True}
    pongs = {client.post(f"{later}/ping", data={"f": "json"}).json["pong"] for _ in range(2)}
    assert len(pongs) == 2
    catalog = client.get("/arcgis/rest/services", query_string={"f": "json"}).json["services"]
    assert {"name": sid, "type": "Shelf", "title": "Mine"} in catalog and {
        "name": "s0",
        "type": "Shelf",
        "title": "",
    } in catalog

    # the static job's resource removed, then reset: the static one returns, the dynamic job's are gone
    key = next(r["key"] for r in client.get("/__mock/resources").json["resources"] if r["jobId"] == "static-shelf")
    m.store.remove_resource(key, m.now())
    listed = client.get("/__mock/resources").json["resources"]
    assert [r["state"] for r in listed if r["jobId"] == "static-shelf"] == ["removed", "pending"]
    assert not_found(client.get(static_path, query_string={"f": "json"}))
    client.post("/__mock/reset", json={})
    m.add_scenario(SHELF_YAML)
    assert client.get(static_path, query_string={"f": "json"}).json["id"] == "s0"
    assert not_found(client.get(f"/arcgis/rest/shelves/{sid}", query_string={"f": "json"}))


# --------------------------------------------------------------------------- control API, dashboard


def test_control_api_lists_resources_with_state(client: FlaskClient, m: MockService) -> None:
    job_id, mid = mission(client, m)
    r = client.get("/__mock/resources", query_string={"jobId": job_id})
    assert r.status_code == 200
    (res,) = r.json["resources"]
    assert res["state"] == "pending" and res["appears"] == "completed" and res["static"] is False
    assert res["path"] == f"/rest/services/{mid}/MissionServer"
    assert res["aliases"] == [f"/rest/services/{mid}", f"/rest/missions/{mid}"]
    assert res["url"].endswith(f"/arcgis/rest/services/{mid}/MissionServer")
    assert res["operations"] == [{"name": "addReport", "removes": False}, {"name": "delete", "removes": True}]
    assert res["listed"] == {"name": mid, "type": "MissionServer", "title": "Harbour"}
    m.advance(job_id, to="end")
    assert client.get("/__mock/resources", query_string={"state": "live"}).json["count"] == 1
    client.post(f"/arcgis/rest/missions/{mid}/delete", data={"f": "json"})
    (gone,) = client.get("/__mock/resources", query_string={"jobId": job_id}).json["resources"]
    assert gone["state"] == "removed" and gone["removedAt"] == m.now()
    spec = client.get("/__mock/openapi.json").json
    item = spec["paths"]["/__mock/resources"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert item == {"$ref": "#/components/schemas/ResourceList"}  # generated from control_resources' schemas
    summary = spec["components"]["schemas"]["ResourceSummary"]
    assert summary["properties"]["state"]["enum"] == ["pending", "live", "removed"]
    detail = client.get("/__mock/scenarios/create-mission").json
    assert detail["resources"][0]["path"] == "/rest/services/{missionId}/MissionServer"


def test_dashboard_lists_resources(client: FlaskClient, m: MockService) -> None:
    job_id, mid = mission(client, m)
    m.advance(job_id, to="end")
    html = client.get("/").data.decode()
    assert 'id="resources"' in html and f'href="/arcgis/rest/services/{mid}/MissionServer"' in html
    assert "operations: addReport, delete (removes)" in html


def test_mockjobs_check_prints_a_resource_error_as_one_line(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + "resources:\n  - path: /rest/a\n    operations:\n      go: {removes: true}\n")
    run = subprocess.run(
        [sys.executable, "-m", "mockjobs.cli", "check", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert run.stdout == (
        f"{bad}:9: resources[0].operations.go.response: required: what the operation answers,"
        " e.g. response: {success: true}\n"
    )


def test_scenario_page_lists_its_resources(client: FlaskClient) -> None:
    html = client.get("/scenarios/create-mission").data.decode()
    assert 'id="scenario-resources"' in html
    assert "/rest/services/{missionId}/MissionServer" in html and "/rest/missions/{missionId}" in html
    assert "connectionInfo, reports" in html and "addReport, delete (removes)" in html
