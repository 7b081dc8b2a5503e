"""Hostile input: nothing a file or a request holds may crash the server or answer a 500."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import scenario_folder

NESTED = "job: {type: x, customAttributes: {deep: " + "[" * 700 + "]" * 700 + "}}\ntimeline: [{at: 0}]\n"
STATIC = """\
name: fixed
job: {type: fixedJob}
timeline:
  - {at: 0, message: "{word}", status: EXECUTING}
  - {at: 10s, status: COMPLETED}
vars: {word: one}
jobs: [{jobId: jfixed}]
"""


@pytest.mark.parametrize(
    ("text", "field", "phrase"),
    [
        (NESTED, "", "nested too deeply"),
        ("job: {type: x}\ntimeline: [{at: 1e999}]\n", "timeline[0].at", "at most 100 years"),
        ("job: {type: x}\ntimeline: [{at: '1e999999999999999999'}]\n", "timeline[0].at", "at most 100 years"),
    ],
)
def test_pathological_files_are_reported_not_raised(make_app, tmp_path: Path, text: str, field: str, phrase: str):
    folder = scenario_folder(tmp_path / "scn", {"bad.yaml": text, "fixed.yaml": STATIC})
    app = make_app(SCENARIOS=[str(folder)])
    health = app.test_client().get("/__mock/health").json
    assert health["status"] == "degraded"
    [error] = health["errors"]
    assert error.startswith(f"{folder / 'bad.yaml'}:") and field in error and phrase in error
    assert health["scenarios"] == 1  # the good file still serves
    checked = subprocess.run(
        [sys.executable, "-m", "mockjobs.cli", "check", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 1
    assert "Traceback" not in checked.stdout + checked.stderr and phrase in checked.stdout


@pytest.mark.parametrize(
    ("path", "body", "phrase"),
    [
        ("/__mock/jobs", '{"scenario": "add-mission", "speed": Infinity}', "speed: must be a finite number"),
        ("/__mock/jobs", '{"scenario": "add-mission", "speed": 1e300}', "speed: must be between 0.001 and 1e+06"),
        ("/__mock/jobs", '{"scenario": "add-mission", "startTime": 1152921504606846976}', "startTime"),
        ("/__mock/clock", '{"set": 1152921504606846976}', "set: must be epoch ms"),
        ("/__mock/clock", '{"advance": "1e999"}', "at most 100 years"),
    ],
)
def test_out_of_range_numbers_are_400s(client, path: str, body: str, phrase: str) -> None:
    r = client.post(path, data=body, content_type="application/json")
    assert r.status_code == 400
    assert phrase in r.json["error"]


def test_advance_by_an_absurd_duration_is_a_400(client) -> None:
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    r = client.post(f"/__mock/jobs/{job}/advance", json={"by": "1e999"})
    assert r.status_code == 400 and "at most 100 years" in r.json["error"]


def test_generate_token_with_nan_expiration_is_an_arcgis_400(make_app) -> None:
    client = make_app(AUTH=True).test_client()
    r = client.post(
        "/arcgis/tokens/generateToken",
        data={"username": "admin", "password": "admin", "expiration": "nan", "f": "json"},
    )
    assert r.status_code == 200 and r.json["error"]["code"] == 400


def test_a_non_ascii_token_is_invalid_not_a_crash(make_app) -> None:
    client = make_app(AUTH=True).test_client()
    r = client.get("/arcgis/rest/jobs", query_string={"f": "json", "token": "a.ü"})
    assert r.json["error"]["code"] == 498


def test_reset_after_an_edit_keeps_static_jobs_replayable_by_every_worker(make_app, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"fixed.yaml": STATIC})
    first = make_app(SCENARIOS=[str(folder)])
    (folder / "fixed.yaml").write_text(STATIC.replace("word: one", "word: two"))
    first.test_client().post("/__mock/reset", json={})  # rescans: the static job is bound to the new version
    second = make_app(SCENARIOS=[str(folder)])  # another worker on the same state...
    second.extensions["mockjobs"].registry._versions.clear()  # ...that never loaded that version itself
    doc = second.test_client().get("/arcgis/rest/jobs/jfixed?f=json").json
    assert doc["messages"] == ["two"]


def test_json_scenarios_keep_their_numbers(client) -> None:
    scenario = {
        "name": "numbers",
        "job": {"type": "n", "customAttributes": {"small": 1e-05, "big": 1e16}},
        "timeline": [{"at": 0, "status": "EXECUTING"}],
    }
    assert client.post("/__mock/scenarios", json=scenario).status_code == 201
    job = client.post("/__mock/jobs", json={"scenario": "numbers"}).json["jobId"]
    extras = client.get(f"/arcgis/rest/jobs/{job}?f=json").json["customAttributes"]
    assert extras["small"] == 1e-05 and extras["big"] == 1e16


@pytest.mark.parametrize("callback", ["cb\n", "cb\u00e9", "cb;alert(1)", "1cb"])
def test_jsonp_callback_names_are_plain_ascii_javascript_names(client, callback: str) -> None:
    r = client.get("/arcgis/rest/jobs", query_string={"f": "json", "callback": callback})
    assert r.mimetype == "application/json"  # refused: an error envelope, not JSONP
    assert r.json["error"]["code"] == 400


def test_secrets_never_reach_the_journal(make_app) -> None:
    client = make_app(AUTH=True).test_client()
    client.get("/arcgis/tokens/generateToken", query_string={"username": "admin", "password": "admin", "f": "json"})
    for _ in range(2):  # plain queries are remembered as plain; a secret never is
        client.get("/arcgis/rest/jobs", query_string={"f": "json", "token": "s3cret.1.sig"})
        client.get("/arcgis/rest/jobs", query_string={"f": "json"})
    queries = [e["query"] for e in client.get("/__mock/requests").json["requests"]]
    assert queries == ["username=admin&password=***&f=json", *["f=json&token=***", "f=json"] * 2]


def test_only_the_context_is_journaled(client) -> None:
    client.get("/arcgisX/rest/jobs?f=json")
    client.get("/__mock/health")
    client.get("/arcgis/rest?f=json")
    assert [e["path"] for e in client.get("/__mock/requests").json["requests"]] == ["/arcgis/rest"]
