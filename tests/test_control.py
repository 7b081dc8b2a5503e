"""The control API under /__mock, through HTTP (test client, manual clock)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockjobs.clock import ManualTime
from tests.conftest import START_MS, scenario_folder

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"

STEPS = """\
name: steps
description: Three steps in 30 seconds.
job:
  type: stepJob
  customAttributes: {n: "{n}"}
vars:
  n: {generate: hex32}
timeline:
  - {at: 0, message: One., code: 1, status: EXECUTING, steps: 1}
  - {at: 10s, message: Two., code: 2, steps: "+1"}
  - {at: 30s, message: Three., code: 3, steps: 3, status: COMPLETED}
"""

ADDED = """\
name: added
description: "<script>window.pwned = 1</script>"
job: {type: addedJob}
trigger: {method: POST, path: /rest/services/added}
timeline:
  - {at: 0, message: Hello., status: EXECUTING}
  - {at: 5s, message: Bye., status: COMPLETED}
jobs:
  - jobId: jadded-static
"""


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A scenario folder: add-mission (with the reference job) and the steps scenario."""
    return scenario_folder(tmp_path / "scenarios", {"steps.yaml": STEPS}, bundled=["add-mission.yaml"])


@pytest.fixture
def app(make_app: Callable[..., Flask], scenario_dir: Path) -> Flask:
    """The app serving the scenario folder."""
    return make_app(SCENARIOS=[str(scenario_dir)])


def start(client: FlaskClient, scenario: str = "steps", **extra: Any) -> str:
    """Start a job through the control API; its id."""
    r = client.post("/__mock/jobs", json={"scenario": scenario, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["jobId"]


def doc(client: FlaskClient, job_id: str) -> dict[str, Any]:
    """The job's ArcGIS document now."""
    return client.get(f"/arcgis/rest/jobs/{job_id}?f=json").get_json()


def error(r: Any, status: int) -> str:
    """The error message of a JSON error answer with this status."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# --------------------------------------------------------------------------- health, scenarios


def test_health(client: FlaskClient) -> None:
    health = client.get("/__mock/health").get_json()
    assert health["status"] == "ok"
    assert (health["scenarios"], health["scenarioFiles"], health["jobs"]) == (2, 2, 1)
    assert health["errors"] == []
    assert health["clock"]["real"] is True


def test_health_reports_scenario_errors(make_app: Callable[..., Flask], scenario_dir: Path) -> None:
    (scenario_dir / "broken.yaml").write_text("job: {type: x}\ntimeline:\n  - {at: -1s, message: x}\n")
    health = make_app(SCENARIOS=[str(scenario_dir)]).test_client().get("/__mock/health").get_json()
    assert health["status"] == "degraded"
    assert health["scenarios"] == 2
    assert len(health["errors"]) == 1
    assert re.match(r"^\S*broken\.yaml:3: timeline\[0\]\.at: ", health["errors"][0])


def test_scenarios_list(client: FlaskClient) -> None:
    listed = client.get("/__mock/scenarios").get_json()["scenarios"]
    by_name = {s["name"]: s for s in listed}
    assert set(by_name) == {"add-mission", "steps"}
    assert by_name["steps"]["events"] == 3
    assert by_name["steps"]["duration"] == 30
    assert by_name["add-mission"]["staticJobs"] == [REFERENCE_JOB]


def test_scenario_detail_is_normalised(client: FlaskClient) -> None:
    sc = client.get("/__mock/scenarios/steps").get_json()
    assert sc["job"] == {
        "type": "stepJob",
        "username": "admin",
        "totalSteps": 3,
        "status": "SUBMITTED",
        "customAttributes": {"n": "{n}"},
        "pendingEndTime": 0,
        "pace": "clock",
    }
    assert sc["vars"] == {"n": {"generate": "hex32"}}
    assert sc["trigger"] is None
    assert [e["at"] for e in sc["timeline"]] == [0, 10, 30]
    assert sc["timeline"][1]["steps"] == "+1"
    assert [(e["at"], e.get("status")) for e in sc["on_cancel"]] == [(0, "CANCELLING"), (1, "CANCELLED")]
    assert sc["jobs"] == []
    assert sc["faults"] == []


def test_scenario_detail_unknown_is_404(client: FlaskClient) -> None:
    assert "nope" in error(client.get("/__mock/scenarios/nope"), 404)


# --------------------------------------------------------------------------- adding scenarios


def test_add_scenario_as_yaml_then_use_it(client: FlaskClient) -> None:
    r = client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml")
    assert r.status_code == 201
    assert r.get_json()["name"] == "added"
    assert "added" in [s["name"] for s in client.get("/__mock/scenarios").get_json()["scenarios"]]
    job_id = client.post("/arcgis/rest/services/added?f=json").get_json()["jobId"]
    assert doc(client, job_id)["type"] == "addedJob"
    assert doc(client, "jadded-static")["messages"] == ["Hello."]  # its static job started


def test_add_scenario_as_json(client: FlaskClient) -> None:
    body = {"name": "from-json", "job": {"type": "j"}, "timeline": [{"at": 0, "message": "x", "status": "COMPLETED"}]}
    r = client.post("/__mock/scenarios", json=body)
    assert r.status_code == 201
    assert doc(client, start(client, "from-json"))["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: bad\njob: {type: x}\n", r"<api>:1: timeline: "),
        ("job: {type: x}\ntimeline:\n  - {at: -1, message: x}\n", r"<api>:3: timeline\[0\]\.at: "),
        ("job: {type: x}\nbogus: 1\ntimeline: [{at: 0}]\n", r"<api>:2: bogus: "),
        ("!!python/object:os.system\njob: {}\n", r"<api>:1: "),
    ],
)
def test_add_scenario_invalid_is_400_with_located_errors(client: FlaskClient, text: str, expected: str) -> None:
    r = client.post("/__mock/scenarios", data=text, content_type="application/yaml")
    error(r, 400)
    errors = r.get_json()["errors"]
    assert errors
    assert any(re.match(expected, e) for e in errors), errors


@pytest.mark.parametrize(
    ("data", "content_type"), [("", "application/yaml"), ("  \n", "application/yaml"), ("{}", "application/json")]
)
def test_add_scenario_empty_is_400(client: FlaskClient, data: str, content_type: str) -> None:
    assert "YAML" in error(client.post("/__mock/scenarios", data=data, content_type=content_type), 400)


def test_add_scenario_bad_json_is_400(client: FlaskClient) -> None:
    error(client.post("/__mock/scenarios", data="[1, 2]", content_type="application/json"), 400)


@pytest.mark.parametrize(
    "text",
    [
        "name: steps\njob: {type: x}\ntimeline: [{at: 0}]\n",  # name of a file scenario
        "name: other\njob: {type: x}\ntrigger: {method: POST, path: /rest/services/added}\ntimeline: [{at: 0}]\n",
        f"name: other\njob: {{type: x}}\ntimeline: [{{at: 0}}]\njobs: [{{jobId: {REFERENCE_JOB}}}]\n",
    ],
)
def test_add_scenario_clash_is_409(client: FlaskClient, text: str) -> None:
    assert client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml").status_code == 201
    names = [s["name"] for s in client.get("/__mock/scenarios").get_json()["scenarios"]]
    error(client.post("/__mock/scenarios", data=text, content_type="application/yaml"), 409)
    assert [s["name"] for s in client.get("/__mock/scenarios").get_json()["scenarios"]] == names


def test_add_scenario_twice_is_409(client: FlaskClient) -> None:
    assert client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml").status_code == 201
    assert "already exists" in error(client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml"), 409)


# --------------------------------------------------------------------------- jobs


def test_create_job_answers_201_with_its_coordinates(client: FlaskClient) -> None:
    r = client.post("/__mock/jobs", json={"scenario": "steps"})
    assert r.status_code == 201
    out = r.get_json()
    assert list(out) == ["jobId", "url", "scenario", "startTime", "speed"]
    assert re.fullmatch(r"j[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out["jobId"])
    assert out["url"] == f"http://localhost/arcgis/rest/jobs/{out['jobId']}"
    assert (out["scenario"], out["startTime"], out["speed"]) == ("steps", START_MS, 1.0)
    assert client.get(out["url"] + "?f=json").get_json()["status"] == "EXECUTING"


def test_create_job_with_every_option(client: FlaskClient) -> None:
    r = client.post(
        "/__mock/jobs",
        json={
            "scenario": "steps",
            "jobId": "jmine",
            "vars": {"n": "abc"},
            "params": {"title": "T"},
            "speed": 10,
            "startTime": START_MS - 1000,
        },
    )
    assert r.status_code == 201
    assert (r.get_json()["jobId"], r.get_json()["speed"]) == ("jmine", 10.0)
    d = doc(client, "jmine")
    assert d["customAttributes"]["n"] == "abc"
    assert d["startTime"] == START_MS - 1000
    assert d["customAttributes"]["stepsCompleted"] == 2  # 1 s at speed 10 is 10 s of scenario
    assert client.get("/__mock/jobs/jmine").get_json()["params"] == {"title": "T"}


def test_create_job_unknown_scenario_is_404(client: FlaskClient) -> None:
    assert "nope" in error(client.post("/__mock/jobs", json={"scenario": "nope"}), 404)


def test_create_job_duplicate_id_is_409(client: FlaskClient) -> None:
    start(client, jobId="jdup")
    assert "jdup" in error(client.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jdup"}), 409)
    error(client.post("/__mock/jobs", json={"scenario": "steps", "jobId": REFERENCE_JOB}), 409)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json", "JSON object"),
        ("[1]", "JSON object"),
        ("{}", "scenario"),
        ('{"scenario": 3}', "scenario"),
        ('{"scenario": "steps", "vars": [1]}', "vars"),
        ('{"scenario": "steps", "params": "x"}', "params"),
        ('{"scenario": "steps", "jobId": 5}', "jobId"),
        ('{"scenario": "steps", "jobId": "a b"}', "jobId"),
        ('{"scenario": "steps", "speed": "fast"}', "speed"),
        ('{"scenario": "steps", "speed": 0}', "speed"),
        ('{"scenario": "steps", "speed": true}', "speed"),
        ('{"scenario": "steps", "startTime": 1.5}', "startTime"),
        ('{"scenario": "steps", "vars": {"undeclared": 1}}', "undeclared"),
        ('{"scenario": "steps", "color": "red"}', "color"),
    ],
)
def test_create_job_bad_body_is_400(client: FlaskClient, body: str, fragment: str) -> None:
    r = client.post("/__mock/jobs", data=body, content_type="application/json")
    assert fragment in error(r, 400)


def test_list_jobs_with_state_next_event_and_polls(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    clock.advance(5000)
    jobs = client.get("/__mock/jobs").get_json()["jobs"]
    assert [j["jobId"] for j in jobs] == [REFERENCE_JOB, job_id]
    mine = jobs[1]
    assert (mine["status"], mine["stepsCompleted"], mine["elapsed"]) == ("EXECUTING", 1, 5)
    assert (mine["nextEventAt"], mine["nextEventTime"]) == (10, START_MS + 10_000)
    assert mine["polls"]["count"] == 0
    assert mine["url"].endswith(f"/arcgis/rest/jobs/{job_id}")
    assert jobs[0]["nextEventAt"] is None
    assert "polls" not in client.get("/__mock/jobs?polls=false").get_json()["jobs"][0]


def test_the_list_shows_each_job_as_its_own_resource_does(client: FlaskClient, clock: ManualTime) -> None:
    start(client, jobId="a.b-c_1", speed=3)
    start(client, scenario="add-mission")
    clock.advance(4000)
    listed = client.get("/__mock/jobs").get_json()["jobs"]
    assert len(listed) == 3
    for entry in listed:  # one clock reading and one URL pattern for the list: the same as one by one
        assert entry == client.get(f"/__mock/jobs/{entry['jobId']}").get_json()
    assert listed[1]["url"] == "http://localhost/arcgis/rest/jobs/a.b-c_1"
    assert listed[1]["nextEventTime"] == START_MS + 30_000 // 3 and listed[1]["elapsed"] == 12


def test_get_job(client: FlaskClient) -> None:
    job_id = start(client, vars={"n": "v"})
    out = client.get(f"/__mock/jobs/{job_id}").get_json()
    assert (out["jobId"], out["scenario"], out["status"], out["static"]) == (job_id, "steps", "EXECUTING", False)
    assert out["vars"] == {"n": "v"}
    assert out["polls"]["count"] == 0


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("DELETE", "", None),
        ("GET", "/at?t=1s", None),
        ("POST", "/advance", {"by": "1s"}),
        ("POST", "/cancel", {}),
        ("GET", "/polls", None),
    ],
)
def test_unknown_job_is_404_everywhere(client: FlaskClient, method: str, suffix: str, body: Any) -> None:
    r = client.open(f"/__mock/jobs/jnope{suffix}", method=method, json=body)
    assert "jnope" in error(r, 404)


def test_delete_job(client: FlaskClient) -> None:
    job_id = start(client)
    r = client.delete(f"/__mock/jobs/{job_id}")
    assert (r.status_code, r.get_json()) == (200, {"deleted": job_id})
    assert doc(client, job_id)["error"]["code"] == 404
    assert job_id not in client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]
    error(client.delete(f"/__mock/jobs/{job_id}"), 404)


# --------------------------------------------------------------------------- scrubbing, advancing, cancelling


@pytest.mark.parametrize(
    ("t", "status", "steps", "messages"),
    [("0", "EXECUTING", 1, 1), ("9.999", "EXECUTING", 1, 1), ("10s", "EXECUTING", 2, 2), ("1m", "COMPLETED", 3, 3)],
)
def test_at_shows_the_document_at_an_elapsed_time(
    client: FlaskClient, t: str, status: str, steps: int, messages: int
) -> None:
    job_id = start(client)
    d = client.get(f"/__mock/jobs/{job_id}/at", query_string={"t": t}).get_json()
    assert (d["status"], d["customAttributes"]["stepsCompleted"], len(d["messages"])) == (status, steps, messages)
    assert doc(client, job_id)["status"] == "EXECUTING"  # scrubbing moves nothing
    assert client.get(f"/__mock/jobs/{job_id}/polls").get_json()["count"] == 1  # only the doc() above


@pytest.mark.parametrize("query", ["", "?t=", "?t=abc", "?t=-1s", "?t=1x"])
def test_at_needs_a_valid_t(client: FlaskClient, query: str) -> None:
    assert "t" in error(client.get(f"/__mock/jobs/{REFERENCE_JOB}/at{query}"), 400)


def test_advance_by_moves_only_that_job(client: FlaskClient) -> None:
    a, b = start(client), start(client)
    r = client.post(f"/__mock/jobs/{a}/advance", json={"by": "10s"})
    assert r.status_code == 200
    assert (r.get_json()["elapsed"], r.get_json()["stepsCompleted"]) == (10, 2)
    assert doc(client, a)["startTime"] == START_MS - 10_000
    assert doc(client, b)["customAttributes"]["stepsCompleted"] == 1


@pytest.mark.parametrize(
    ("to", "elapsed", "status"), [("next", 10, "EXECUTING"), ("end", 30, "COMPLETED"), ("12s", 12, "EXECUTING")]
)
def test_advance_to(client: FlaskClient, to: str, elapsed: float, status: str) -> None:
    job_id = start(client)
    out = client.post(f"/__mock/jobs/{job_id}/advance", json={"to": to}).get_json()
    assert (out["elapsed"], out["status"]) == (elapsed, status)
    assert doc(client, job_id)["status"] == status


def test_advance_to_end_sets_an_end_time_not_in_the_future(client: FlaskClient) -> None:
    job_id = start(client)
    client.post(f"/__mock/jobs/{job_id}/advance", json={"to": "end"})
    d = doc(client, job_id)
    assert d["endTime"] == START_MS
    assert client.get("/__mock/clock").get_json()["now"] == START_MS


def test_advance_next_walks_event_by_event(client: FlaskClient) -> None:
    job_id = start(client)
    seen = [client.post(f"/__mock/jobs/{job_id}/advance", json={"to": "next"}).get_json()["elapsed"] for _ in range(3)]
    assert seen == [10, 30, 30]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "exactly one"),
        ({"by": "1s", "to": "end"}, "exactly one"),
        ({"by": "soon"}, "by"),
        ({"by": -1}, "by"),
        ({"to": "later"}, "to"),
        ({"to": True}, "to"),
        ({"to": "1s", "speed": 2}, "speed"),
    ],
)
def test_advance_bad_body_is_400(client: FlaskClient, body: dict[str, Any], fragment: str) -> None:
    job_id = start(client)
    assert fragment in error(client.post(f"/__mock/jobs/{job_id}/advance", json=body), 400)


def test_advance_to_a_point_behind_is_400(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    clock.advance(20_000)
    assert "already" in error(client.post(f"/__mock/jobs/{job_id}/advance", json={"to": "5s"}), 400)


def test_cancel_replays_on_cancel(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    clock.advance(12_000)
    r = client.post(f"/__mock/jobs/{job_id}/cancel", json={})
    assert r.status_code == 200
    assert (r.get_json()["status"], r.get_json()["isCancelled"]) == ("CANCELLING", True)
    d = doc(client, job_id)
    assert (d["status"], d["customAttributes"]["isCancelled"], d["endTime"]) == ("CANCELLING", True, 0)
    clock.advance(1000)
    d = doc(client, job_id)
    assert (d["status"], d["customAttributes"]["stepsCompleted"]) == ("CANCELLED", 2)
    assert d["endTime"] == START_MS + 13_000


def test_cancel_twice_is_409(client: FlaskClient) -> None:
    job_id = start(client)
    client.post(f"/__mock/jobs/{job_id}/cancel", json={})
    error(client.post(f"/__mock/jobs/{job_id}/cancel", json={}), 409)


def test_cancel_a_terminal_job_is_409_and_changes_nothing(client: FlaskClient) -> None:
    before = doc(client, REFERENCE_JOB)
    assert "COMPLETED" in error(client.post(f"/__mock/jobs/{REFERENCE_JOB}/cancel", json={}), 409)
    assert doc(client, REFERENCE_JOB) == before


# --------------------------------------------------------------------------- polls


def test_polls_cadence_in_real_seconds(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    url = f"/arcgis/rest/jobs/{job_id}"
    clock.advance(1500)
    client.get(url)  # html counts
    for step, f in ((2000, "json"), (3000, "pjson"), (10_000, "json")):
        clock.advance(step)
        client.post(url, data={"f": f})  # POST counts, any f
    client.get(f"/__mock/jobs/{job_id}")  # the control API does not count
    client.get(f"/__mock/jobs/{job_id}/at?t=1s")
    polls = client.get(f"/__mock/jobs/{job_id}/polls").get_json()
    assert polls["count"] == 4
    assert polls["intervals"] == {"min": 2.0, "median": 3.0, "max": 10.0}
    assert polls["firstDelay"] == 1.5
    assert polls["afterTerminal"] == 0
    assert polls["formats"] == ["html", "json", "pjson"]


def test_polls_after_terminal(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    client.post(f"/__mock/jobs/{job_id}/advance", json={"to": "end"})
    for _ in range(3):
        client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
        clock.advance(1000)
    polls = client.get(f"/__mock/jobs/{job_id}/polls").get_json()
    assert (polls["count"], polls["afterTerminal"], polls["terminalSeen"]) == (3, 2, True)


def test_polls_without_any(client: FlaskClient) -> None:
    polls = client.get(f"/__mock/jobs/{start(client)}/polls").get_json()
    assert polls["count"] == 0
    assert polls["intervals"] == {"min": None, "median": None, "max": None}
    assert polls["firstDelay"] is None


def test_polls_of_a_new_job_with_a_reused_id_start_afresh(client: FlaskClient) -> None:
    start(client, jobId="jreused")
    client.get("/arcgis/rest/jobs/jreused?f=json")
    client.delete("/__mock/jobs/jreused")
    start(client, jobId="jreused")
    assert client.get("/__mock/jobs/jreused/polls").get_json()["count"] == 0


# --------------------------------------------------------------------------- clock


def clock_now(client: FlaskClient) -> int:
    """The mock clock's now."""
    return client.get("/__mock/clock").get_json()["now"]


def test_clock_follows_real_time_by_default(client: FlaskClient, clock: ManualTime) -> None:
    assert client.get("/__mock/clock").get_json() == {"now": START_MS, "real": True, "frozen": False, "offsetMs": 0}
    clock.advance(5000)
    assert clock_now(client) == START_MS + 5000


def test_clock_freeze_advance_unfreeze(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    out = client.post("/__mock/clock", json={"freeze": True}).get_json()
    assert (out["frozen"], out["now"]) == (True, START_MS)
    clock.advance(60_000)
    assert clock_now(client) == START_MS
    assert doc(client, job_id)["status"] == "EXECUTING"  # frozen: the job stands still
    out = client.post("/__mock/clock", json={"advance": "10s"}).get_json()
    assert (out["now"], out["frozen"]) == (START_MS + 10_000, True)
    assert doc(client, job_id)["customAttributes"]["stepsCompleted"] == 2
    out = client.post("/__mock/clock", json={"freeze": False}).get_json()
    assert (out["now"], out["frozen"], out["real"]) == (START_MS + 10_000, False, False)
    clock.advance(1000)
    assert clock_now(client) == START_MS + 11_000  # runs on from where it stood


def test_clock_set_and_back_to_real(client: FlaskClient, clock: ManualTime) -> None:
    out = client.post("/__mock/clock", json={"set": START_MS + 3_600_000}).get_json()
    assert (out["now"], out["offsetMs"]) == (START_MS + 3_600_000, 3_600_000)
    clock.advance(1000)
    assert clock_now(client) == START_MS + 3_601_000
    client.post("/__mock/clock", json={"advance": -1})  # a number is seconds
    assert clock_now(client) == START_MS + 3_600_000
    out = client.post("/__mock/clock", json={"real": True}).get_json()
    assert (out["now"], out["real"]) == (START_MS + 1000, True)


def test_clock_freeze_and_set_together(client: FlaskClient, clock: ManualTime) -> None:
    out = client.post("/__mock/clock", json={"freeze": True, "set": 1_000}).get_json()
    clock.advance(1000)
    assert (out["now"], clock_now(client)) == (1_000, 1_000)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "freeze"),
        ({"freeze": "yes"}, "freeze"),
        ({"set": "noon"}, "set"),
        ({"set": 1.5}, "set"),
        ({"advance": "soon"}, "advance"),
        ({"real": 1}, "real"),
        ({"rewind": 1}, "rewind"),
    ],
)
def test_clock_bad_body_is_400(client: FlaskClient, body: dict[str, Any], fragment: str) -> None:
    assert fragment in error(client.post("/__mock/clock", json=body), 400)
    assert client.get("/__mock/clock").get_json()["real"] is True


def test_clock_non_object_body_is_400(client: FlaskClient) -> None:
    error(client.post("/__mock/clock", data="true", content_type="application/json"), 400)


# --------------------------------------------------------------------------- journal


def test_requests_journal_and_filters(client: FlaskClient) -> None:
    job_id = start(client)
    client.get("/arcgis/rest?f=json")
    client.get("/arcgis/rest/jobs")
    client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
    client.post(f"/arcgis/rest/jobs/{job_id}", data={"f": "pjson"})
    client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json")
    client.get("/arcgis/nothing?f=json")
    all_ = client.get("/__mock/requests").get_json()
    assert all_["count"] == len(all_["requests"]) == 6
    assert [e["kind"] for e in all_["requests"]] == ["root", "jobs", "poll", "poll", "poll", "other"]
    assert all(not e["path"].startswith("/__mock") for e in all_["requests"])

    def count(query: str) -> int:
        return client.get(f"/__mock/requests?{query}").get_json()["count"]

    assert count(f"jobId={job_id}") == 2
    assert count("method=post") == 1
    assert count("kind=poll") == 3
    assert count("f=json") == 4
    assert count("f=html") == 1
    assert count("path=/rest/jobs/") == 3
    assert count(f"jobId={job_id}&f=pjson") == 1
    entry = client.get(f"/__mock/requests?jobId={job_id}").get_json()["requests"][0]
    assert entry["status"] == "EXECUTING"
    assert (entry["time"], entry["query"], entry["http"]) == (START_MS, "f=json", 200)


def test_requests_record_error_codes(client: FlaskClient) -> None:
    client.get("/arcgis/rest/jobs/jnope?f=json")
    client.get("/arcgis/rest/jobs?f=xml")
    entries = client.get("/__mock/requests").get_json()["requests"]
    assert [(e.get("jobId"), e["error"]) for e in entries] == [("jnope", 404), (None, 400)]


def test_delete_requests_empties_the_journal(client: FlaskClient) -> None:
    client.get("/arcgis/rest?f=json")
    assert client.delete("/__mock/requests").get_json() == {"cleared": True}
    assert client.get("/__mock/requests").get_json() == {"count": 0, "requests": []}


def test_journal_can_be_switched_off(make_app: Callable[..., Flask], scenario_dir: Path) -> None:
    client = make_app(SCENARIOS=[str(scenario_dir)], JOURNAL=False).test_client()
    client.get("/arcgis/rest?f=json")
    assert client.get("/__mock/requests").get_json()["count"] == 0


# --------------------------------------------------------------------------- reset


def test_reset_restores_the_start(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml")
    client.delete(f"/__mock/jobs/{REFERENCE_JOB}")
    client.post("/__mock/clock", json={"freeze": True, "advance": "1h"})
    client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
    assert client.post("/__mock/reset", json={}).get_json() == {"reset": True}
    assert client.get("/__mock/requests").get_json()["count"] == 0
    assert client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"] == [REFERENCE_JOB]
    assert doc(client, REFERENCE_JOB)["status"] == "COMPLETED"
    assert [s["name"] for s in client.get("/__mock/scenarios").get_json()["scenarios"]] == ["add-mission", "steps"]
    assert client.get("/__mock/clock").get_json()["real"] is True


# --------------------------------------------------------------------------- errors of the API itself


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/__mock/nothing", 404), ("PUT", "/__mock/jobs", 405), ("DELETE", "/__mock/clock", 405)],
)
def test_unknown_routes_and_methods_are_json_errors(client: FlaskClient, method: str, path: str, status: int) -> None:
    error(client.open(path, method=method), status)


# --------------------------------------------------------------------------- OpenAPI


def _resolve(root: dict[str, Any], ref: str) -> Any:
    """The object a local $ref points at."""
    assert ref.startswith("#/"), ref
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    """Every $ref inside node."""
    if isinstance(node, dict):
        return [node["$ref"]] if "$ref" in node else [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_document_is_openapi_3_1(client: FlaskClient) -> None:
    r = client.get("/__mock/openapi.json")
    assert (r.status_code, r.mimetype) == (200, "application/json")
    spec = r.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["servers"] == [{"url": "http://localhost"}]
    for ref in _refs(spec):
        assert _resolve(spec, ref) is not None
    ids = [op["operationId"] for item in spec["paths"].values() for k, op in item.items() if k != "parameters"]
    assert len(ids) == len(set(ids))


def test_openapi_describes_every_control_route(app: Flask) -> None:
    spec = app.test_client().get("/__mock/openapi.json").get_json()
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__mock"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes
    for path, methods in routes.items():
        assert path in spec["paths"], f"{path} is not in the OpenAPI document"
        assert methods <= set(spec["paths"][path]), f"{path}: {methods - set(spec['paths'][path])} undocumented"
        for method in methods:
            operation = spec["paths"][path][method]
            assert operation["summary"] and operation["responses"]
            params = re.findall(r"{(\w+)}", path)
            given = operation.get("parameters", []) + spec["paths"][path].get("parameters", [])
            declared = {p["name"] for p in given if p["in"] == "path"}
            assert declared == set(params), path


def test_openapi_has_no_route_that_does_not_exist(app: Flask) -> None:
    spec = app.test_client().get("/__mock/openapi.json").get_json()
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()}
    assert set(spec["paths"]) <= rules


# --------------------------------------------------------------------------- dashboard


def test_dashboard_shows_health_scenarios_and_jobs(client: FlaskClient) -> None:
    job_id = start(client)
    r = client.get("/")
    assert (r.status_code, r.mimetype) == (200, "text/html")
    html = r.get_data(as_text=True)
    assert '<span class="status status-COMPLETED" id="health">ok</span>' in html
    assert 'href="/__mock/scenarios/steps"' in html
    assert "Three steps in 30 seconds." in html
    assert f'href="/arcgis/rest/jobs/{job_id}"' in html
    assert f'href="/arcgis/rest/jobs/{REFERENCE_JOB}"' in html
    assert "Scenario errors" not in html
    assert '<meta http-equiv="refresh"' not in html


def test_dashboard_shows_scenario_errors(make_app: Callable[..., Flask], scenario_dir: Path) -> None:
    (scenario_dir / "broken.yaml").write_text("job: {type: x}\n")
    html = make_app(SCENARIOS=[str(scenario_dir)]).test_client().get("/").get_data(as_text=True)
    assert "Scenario errors (1)" in html
    assert "broken.yaml:1: timeline: " in html
    assert ">degraded<" in html


def test_dashboard_escapes_scenario_text(client: FlaskClient) -> None:
    client.post("/__mock/scenarios", data=ADDED, content_type="application/yaml")
    html = client.get("/").get_data(as_text=True)
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "<script>window.pwned" not in html


@pytest.mark.parametrize(("query", "meta"), [("?refresh=2", 'content="2"'), ("?refresh=0", None), ("?refresh=x", None)])
def test_dashboard_refresh(client: FlaskClient, query: str, meta: str | None) -> None:
    html = client.get("/" + query).get_data(as_text=True)
    if meta:
        assert f'<meta http-equiv="refresh" {meta}>' in html
    else:
        assert "http-equiv" not in html


def test_jobs_list_pages_and_counts_every_job(client) -> None:
    ids = [client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"] for _ in range(5)]
    everything = client.get("/__mock/jobs").json
    assert everything["total"] == len(everything["jobs"]) == 5 + 1  # and the static reference job
    page = client.get("/__mock/jobs", query_string={"offset": 2, "limit": 2, "polls": "false"}).json
    assert page["total"] == 6
    assert [j["jobId"] for j in page["jobs"]] == ids[1:3]
    assert all("polls" not in j for j in page["jobs"])
    for bad in ({"limit": "-1"}, {"offset": "x"}):
        r = client.get("/__mock/jobs", query_string=bad)
        assert r.status_code == 400 and "whole number" in r.json["error"]


def test_jobs_list_poll_summaries_match_each_jobs_own(client, clock) -> None:
    a, b = (client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"] for _ in range(2))
    for _ in range(3):
        client.get(f"/arcgis/rest/jobs/{a}?f=json")
        clock.advance(1500)
    client.get(f"/arcgis/rest/jobs/{b}?f=pjson")
    listed = {j["jobId"]: j["polls"] for j in client.get("/__mock/jobs").json["jobs"]}
    assert listed[a] == client.get(f"/__mock/jobs/{a}/polls").json
    assert listed[a]["count"] == 3 and listed[a]["intervals"]["median"] == 1.5
    assert listed[b]["count"] == 1 and listed[b]["formats"] == ["pjson"]
