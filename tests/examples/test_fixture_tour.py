"""A tour of the ``mockjobs`` fixture: one short test per feature, no sleeping anywhere."""

from __future__ import annotations

import datetime as dt

import pytest
import requests


def test_a_job_moves_only_when_told(mockjobs):
    mockjobs.clock.freeze()
    job = mockjobs.start("add-mission", missionId="abc")

    assert job.status == "EXECUTING"  # state() and status are not polls
    assert job.advance("21.5s")["customAttributes"]["stepsCompleted"] == 1
    assert job.advance(to="next")["messages"][-1] == "Created communications layers for collaboration."
    done = job.advance_to("COMPLETED")
    assert done["messages"][-1] == "Finished creating mission abc."
    assert done["endTime"] == done["startTime"] + 66_311
    assert job.polls.count == 0


def test_the_clock_moves_every_job(mockjobs):
    mockjobs.clock.freeze(dt.datetime(2024, 6, 1, 8, 0, tzinfo=dt.timezone.utc))
    first, second = mockjobs.start("add-mission"), mockjobs.start("add-mission-fails")

    mockjobs.clock.advance(dt.timedelta(minutes=2))

    assert (first.status, second.status) == ("COMPLETED", "FAILED")
    assert first.state()["startTime"] == 1_717_228_800_000


def test_a_scenario_written_in_the_test(mockjobs):
    mockjobs.add_scenario(
        """
        name: export-mission
        job: {type: exportMission, totalSteps: 2}
        trigger: {method: POST, path: /rest/services/exportMission}
        timeline:
          - {at: 0, message: "Exporting {params.missionId}.", status: EXECUTING}
          - {at: 3s, message: Packaged., steps: 1}
          - {at: 8s, message: Exported., steps: 2, status: COMPLETED}
        """
    )
    answer = requests.post(
        f"{mockjobs.rest_url}/services/exportMission", data={"f": "json", "missionId": "m-1"}, timeout=10
    ).json()

    job = mockjobs.job(answer["jobId"])
    assert job.state()["messages"] == ["Exporting m-1."]
    assert job.advance(to="end")["status"] == "COMPLETED"


def test_a_client_that_keeps_polling_after_the_end_is_caught(mockjobs):
    job = mockjobs.start("add-mission")
    job.advance(to="end")

    for _ in range(3):  # a careless client
        requests.get(job.url, params={"f": "json"}, timeout=10)

    assert job.polls.terminal_seen
    assert job.polls.after_terminal == 2


def test_cancelling(mockjobs):
    job = mockjobs.start("create-mission", params={"title": "Harbour patrol"})
    job.advance("10s")

    assert job.cancel()["status"] == "CANCELLING"
    doc = job.advance_to("CANCELLED")
    assert 'Removing items created for mission "Harbour patrol".' in doc["messages"]


def test_the_flask_app_for_in_process_requests(mockjobs_app):
    client = mockjobs_app.test_client()

    info = client.get("/arcgis/rest/info?f=json").json
    jobs = client.get("/arcgis/rest/jobs?f=json").json["asyncJobs"]

    assert info["currentVersion"] == 11.3
    assert "j522676d9-983a-48e2-a51c-5066966160f0" in jobs  # the reference example's static job


def test_the_request_journal(mockjobs):
    requests.get(f"{mockjobs.rest_url}/info", params={"f": "pjson"}, timeout=10)

    [entry] = mockjobs.requests
    assert (entry["method"], entry["path"], entry["f"]) == ("GET", "/arcgis/rest/info", "pjson")


@pytest.mark.mockjobs_scenarios("scenarios")
def test_scenario_folders_chosen_by_marker(mockjobs):
    job = mockjobs.start("archive-mission", missionId="m-2")

    assert job.advance_to("COMPLETED")["messages"][-1] == "Archived mission m-2."
