"""The bundled scenarios, replayed through HTTP on a manual clock (tests never sleep)."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockjobs.clock import ManualTime
from mockjobs.scenarios import TERMINAL, load_file, scenario_files
from tests.conftest import REPO, START_MS

SCENARIOS = REPO / "scenarios"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
JOB_ID = re.compile(r"^j[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FAILED_JOB = "j505bc938-f22a-4b59-80d5-83b647d0c1d2"
CANCELLED_JOB = "jf46e3595-bf1d-4a3e-95d8-f39b6c30fed4"
STUCK_JOB = "j397b6507-2706-4320-a62f-fe01da0f78a6"


def start(client: FlaskClient, scenario: str, **body: Any) -> str:
    """Start a job of scenario through the control API; its id."""
    r = client.post("/__mock/jobs", json={"scenario": scenario, **body})
    assert r.status_code == 201, r.json
    return r.json["jobId"]


def doc(client: FlaskClient, job_id: str) -> dict[str, Any]:
    """The job resource's JSON document now."""
    r = client.get(f"/arcgis/rest/jobs/{job_id}", query_string={"f": "json"})
    assert r.status_code == 200
    return r.json


def advance(client: FlaskClient, job_id: str, **body: Any) -> dict[str, Any]:
    """Move one job through the control API; its summary."""
    r = client.post(f"/__mock/jobs/{job_id}/advance", json=body)
    assert r.status_code == 200, r.json
    return r.json


# --------------------------------------------------------------------------- the files


def test_bundled_files_load_and_each_starts_with_a_story_comment() -> None:
    files = scenario_files(SCENARIOS)
    names = {load_file(f).name for f in files}
    assert {
        "add-mission",
        "create-mission",
        "add-mission-fails",
        "add-mission-cancelled",
        "demo-long",
        "never-finishes",
    } <= names
    for f in files:
        assert f.read_text().startswith("# "), f"{f.name} should open with a comment telling its story"


def test_bundled_stories_look_like_mission_server() -> None:
    static_ids: list[str] = []
    for f in scenario_files(SCENARIOS):
        sc = load_file(f)
        static_ids += [j.job_id for j in sc.jobs]
        assert sc.job.type in ("addMission", "createNewMissionService")
        assert [v.generate for v in sc.vars if v.name == "missionId"] == ["hex32"]
        for ev in (*sc.timeline, *sc.on_cancel):
            if ev.message is not None:
                assert ev.code is not None and 1500 <= ev.code <= 1599, f"{f.name}: {ev.message.source}"
        for j in sc.jobs:
            assert JOB_ID.match(j.job_id)
            assert HEX32.match(j.vars["missionId"])
    assert len(static_ids) == len(set(static_ids))


def test_bundled_stories_end_as_their_names_say() -> None:
    def last_status(name: str) -> str | None:
        statuses = [e.status for e in load_file(SCENARIOS / f"{name}.yaml").timeline if e.status]
        return statuses[-1] if statuses else None

    assert last_status("add-mission") == "COMPLETED"
    assert last_status("create-mission") == "COMPLETED"
    assert last_status("add-mission-fails") == "FAILED"
    assert last_status("add-mission-cancelled") == "CANCELLED"
    assert last_status("demo-long") == "COMPLETED"
    assert last_status("never-finishes") not in TERMINAL


def test_demo_long_runs_minutes_with_hundreds_of_messages() -> None:
    sc = load_file(SCENARIOS / "demo-long.yaml")
    messages = [e for e in sc.timeline if e.message is not None]
    assert len(messages) >= 200
    assert sc.compiled.main.end >= 5 * 60_000
    gaps = [b.at_ms - a.at_ms for a, b in pairwise(sc.timeline)]
    assert max(gaps) <= 15_000  # something happens at least every 15 s


# --------------------------------------------------------------------------- replay over HTTP


def test_add_mission_document_at_several_instants(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "add-mission", vars={"missionId": "d942d2bdb70c4104bcd1a76d4cf8a6b7"})
    first = doc(client, job_id)
    assert (first["status"], first["messages"], first["endTime"]) == ("EXECUTING", ["Started mission creation."], 0)
    assert first["startTime"] == START_MS
    clock.advance(21_499)
    assert doc(client, job_id)["customAttributes"]["stepsCompleted"] == 0
    clock.advance(1)  # exactly at 21.5 s
    d = doc(client, job_id)
    assert d["customAttributes"]["stepsCompleted"] == 1
    assert d["customAttributes"]["messageCodes"] == [1500, 1501, 1503, 1505, 1502]
    assert d["endTime"] == 0
    clock.advance(66_311 - 21_500)
    done = doc(client, job_id)
    assert done["status"] == "COMPLETED"
    assert done["endTime"] == START_MS + 66_311
    assert done["messages"][-1] == "Finished creating mission d942d2bdb70c4104bcd1a76d4cf8a6b7."
    clock.advance(3_600_000)
    assert doc(client, job_id) == done


def test_speed_factor_of_a_job_created_through_the_control_api(client: FlaskClient, clock: ManualTime) -> None:
    r = client.post("/__mock/jobs", json={"scenario": "add-mission", "speed": 10})
    assert r.json["speed"] == 10
    job_id = r.json["jobId"]
    clock.advance(2_150)  # 21.5 s of scenario time
    assert doc(client, job_id)["customAttributes"]["stepsCompleted"] == 1
    clock.advance(6_632 - 2_150)
    done = doc(client, job_id)
    assert done["status"] == "COMPLETED"
    assert done["endTime"] == START_MS + 6_631  # 66.311 s / 10, rounded down


def test_document_at_a_scenario_time(client: FlaskClient) -> None:
    job_id = start(client, "add-mission-fails")
    before = client.get(f"/__mock/jobs/{job_id}/at", query_string={"t": "33.1s"}).json
    assert before["status"] == "EXECUTING"
    assert before["customAttributes"]["stepsCompleted"] == 2
    at = client.get(f"/__mock/jobs/{job_id}/at", query_string={"t": "33.2s"}).json
    assert at["messages"][-2] == "Failed to create events layers for mission logs."
    assert at["messages"][-1].startswith("Error: Unable to create service 'events_")
    assert at["customAttributes"]["messageCodes"][-2:] == [1550, 1551]  # same offset, file order
    assert doc(client, job_id)["messages"] == ["Started mission creation."]  # scrubbing moves nothing


def test_add_mission_fails_half_way(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "add-mission-fails")
    clock.advance(41_999)
    assert doc(client, job_id)["status"] == "EXECUTING"
    clock.advance(1)
    d = doc(client, job_id)
    assert d["status"] == "FAILED"
    assert d["endTime"] == START_MS + 42_000
    assert d["customAttributes"]["stepsCompleted"] == 2
    assert d["customAttributes"]["totalSteps"] == 5
    assert d["customAttributes"]["isCancelled"] is False
    mission = d["customAttributes"]["missionId"]
    assert d["messages"][-1] == f"Failed to create mission {mission}."
    assert len(d["messages"]) == len(d["customAttributes"]["messageCodes"])


def test_static_failed_and_cancelled_jobs_are_terminal_from_server_start(client: FlaskClient) -> None:
    failed = doc(client, FAILED_JOB)
    assert (failed["status"], failed["username"], failed["type"]) == ("FAILED", "jdoe_ops", "addMission")
    assert failed["endTime"] == failed["startTime"] + 42_000
    cancelled = doc(client, CANCELLED_JOB)
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["customAttributes"]["isCancelled"] is True
    assert cancelled["customAttributes"]["stepsCompleted"] == 1
    assert cancelled["endTime"] == cancelled["startTime"] + 31_700
    assert client.post(f"/__mock/jobs/{CANCELLED_JOB}/cancel", json={}).status_code == 409


def test_cancelled_scenario_cancels_itself_mid_way(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "add-mission-cancelled")
    clock.advance(25_999)
    assert doc(client, job_id)["customAttributes"]["isCancelled"] is False
    clock.advance(1)
    d = doc(client, job_id)
    assert (d["status"], d["customAttributes"]["isCancelled"], d["endTime"]) == ("CANCELLING", True, 0)
    assert client.post(f"/__mock/jobs/{job_id}/cancel", json={}).status_code == 409  # already being cancelled
    clock.advance(5_700)
    d = doc(client, job_id)
    assert d["status"] == "CANCELLED"
    assert d["endTime"] == START_MS + 31_700
    assert client.get(f"/__mock/jobs/{job_id}").json["isCancelled"] is True


def test_cancel_replays_the_custom_on_cancel_story(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "add-mission-cancelled")
    clock.advance(22_000)  # tracks layers created: 1 step
    r = client.post(f"/__mock/jobs/{job_id}/cancel", json={})
    assert r.status_code == 200
    assert r.json["isCancelled"] is True
    d = doc(client, job_id)
    assert (d["status"], d["customAttributes"]["isCancelled"]) == ("CANCELLING", True)
    assert d["messages"][-2:] == ["Created tracks layers for location awareness.", "Cancelling mission creation."]
    assert d["customAttributes"]["stepsCompleted"] == 1
    clock.advance(5_699)
    assert doc(client, job_id)["status"] == "CANCELLING"
    clock.advance(1)
    done = doc(client, job_id)
    assert done["status"] == "CANCELLED"
    assert done["endTime"] == START_MS + 22_000 + 5_700
    assert done["customAttributes"]["messageCodes"][-3:] == [1530, 1531, 1532]
    assert done["customAttributes"]["stepsCompleted"] == 1
    assert client.post(f"/__mock/jobs/{job_id}/cancel", json={}).status_code == 409


def test_cancel_at_speed_runs_the_cancel_story_at_that_speed(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "create-mission", speed=10, params={"title": "Harbor"})
    clock.advance(3_000)  # 30 s: 3 steps
    client.post(f"/__mock/jobs/{job_id}/cancel", json={})
    clock.advance(180)
    d = doc(client, job_id)
    assert d["messages"][-1] == 'Removing items created for mission "Harbor".'
    assert d["customAttributes"]["stepsCompleted"] == 3
    clock.advance(240)
    done = doc(client, job_id)
    assert done["status"] == "CANCELLED"
    assert done["endTime"] == START_MS + 3_000 + 420


def test_advance_moves_only_that_job(client: FlaskClient) -> None:
    moved, still = start(client, "add-mission"), start(client, "add-mission")
    s = advance(client, moved, by="10s")
    assert s["elapsed"] == 10.0
    assert doc(client, moved)["customAttributes"]["messageCodes"] == [1500, 1501, 1503]
    s = advance(client, moved, to="next")
    assert s["elapsed"] == 14.2
    assert doc(client, moved)["messages"][-1] == "Creating events layers for mission logs."
    advance(client, moved, to="21.5s")
    assert doc(client, moved)["customAttributes"]["stepsCompleted"] == 1
    s = advance(client, moved, to="end")
    assert (s["status"], s["nextEventAt"]) == ("COMPLETED", None)
    done = doc(client, moved)
    assert done["status"] == "COMPLETED"
    assert done["startTime"] == START_MS - 66_311
    assert done["endTime"] == START_MS  # never after now
    other = doc(client, still)
    assert (other["status"], other["startTime"], len(other["messages"])) == ("EXECUTING", START_MS, 1)


def test_advance_to_next_follows_a_cancel_story(client: FlaskClient) -> None:
    job_id = start(client, "add-mission-cancelled")
    advance(client, job_id, by="5s")
    client.post(f"/__mock/jobs/{job_id}/cancel", json={})
    assert advance(client, job_id, to="next")["elapsed"] == 7.1
    assert doc(client, job_id)["customAttributes"]["messageCodes"][-1] == 1531
    s = advance(client, job_id, to="end")
    assert (s["status"], s["elapsed"]) == ("CANCELLED", 10.7)


def test_never_finishes_stays_executing(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "never-finishes")
    s = advance(client, job_id, to="end")
    assert s["status"] == "EXECUTING"
    assert s["nextEventAt"] is None
    d = doc(client, job_id)
    assert (d["status"], d["endTime"]) == ("EXECUTING", 0)
    assert d["customAttributes"]["stepsCompleted"] == 3
    assert d["messages"][-1].startswith("Still waiting for the hosting server")
    clock.advance(7 * 24 * 3_600_000)
    assert doc(client, job_id)["status"] == "EXECUTING"
    stuck = doc(client, STUCK_JOB)
    assert (stuck["status"], stuck["endTime"]) == ("EXECUTING", 0)


def test_never_finishes_sends_periodic_messages(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "never-finishes")
    counts = []
    for _ in range(4):
        clock.advance(10 * 60_000)
        counts.append(len(doc(client, job_id)["messages"]))
    assert counts[0] < counts[1] < counts[2] < counts[3]


def test_demo_long_at_speed_ten(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, "demo-long", speed=10, vars={"title": "Bay Drill"})
    clock.advance(6_100)  # 61 s
    assert doc(client, job_id)["messages"][-1] == 'Created mission group for "Bay Drill".'
    counts = []
    for _ in range(6):
        clock.advance(5_000)
        d = doc(client, job_id)
        counts.append(len(d["messages"]))
    assert counts == sorted(counts) and counts[-1] - counts[0] > 100
    assert d["status"] == "COMPLETED"
    assert d["customAttributes"]["stepsCompleted"] == d["customAttributes"]["totalSteps"] == 10
    assert d["messages"][-1] == f"Finished creating mission {d['customAttributes']['missionId']}."


# --------------------------------------------------------------------------- createMission


def test_create_mission_trigger_answers_a_job_id_and_completes_with_the_mission(
    client: FlaskClient, clock: ManualTime
) -> None:
    r = client.post(
        "/arcgis/rest/services/createMission",
        data={"title": "Harbor Patrol", "snippet": "Night shift", "tags": "patrol", "async": "true", "f": "json"},
    )
    assert r.status_code == 200
    assert list(r.json) == ["jobId"]
    job_id = r.json["jobId"]
    assert JOB_ID.match(job_id)
    assert job_id in client.get("/arcgis/rest/jobs", query_string={"f": "json"}).json["asyncJobs"]
    d = doc(client, job_id)
    assert (d["type"], d["status"], d["endTime"]) == ("createNewMissionService", "EXECUTING", 0)
    clock.advance(3_900)
    assert doc(client, job_id)["messages"][-1] == 'Created mission group for "Harbor Patrol".'
    clock.advance(58_400 - 3_900)
    done = doc(client, job_id)
    assert done["status"] == "COMPLETED"
    assert done["endTime"] == START_MS + 58_400
    mission_id = done["customAttributes"]["missionId"]
    assert HEX32.match(mission_id)
    assert done["messages"][-1] == f"Finished creating mission {mission_id}."
    assert done["customAttributes"]["stepsCompleted"] == done["customAttributes"]["totalSteps"]
    assert client.get(f"/__mock/jobs/{job_id}").json["params"]["title"] == "Harbor Patrol"


def test_each_created_mission_gets_its_own_mission_id(client: FlaskClient) -> None:
    missions = set()
    for title in ("Alpha", "Bravo"):
        job_id = client.post("/arcgis/rest/services/createMission", data={"title": title, "f": "json"}).json["jobId"]
        advance(client, job_id, to="end")
        missions.add(doc(client, job_id)["customAttributes"]["missionId"])
    assert len(missions) == 2


@pytest.mark.parametrize("name", ["create-mission", "add-mission-fails", "add-mission-cancelled", "demo-long"])
def test_every_bundled_story_reaches_its_end_with_parallel_messages_and_codes(client: FlaskClient, name: str) -> None:
    job_id = start(client, name)
    advance(client, job_id, to="end")
    d = doc(client, job_id)
    assert d["status"] in TERMINAL
    assert d["endTime"] >= d["startTime"] > 0
    assert len(d["messages"]) == len(d["customAttributes"]["messageCodes"])
    assert "{" not in "".join(d["messages"])  # every placeholder rendered
