"""A real HTTP client (requests) against the live mock: the createMission workflow, no waiting.

The client polls every 2 seconds; the test hands it ``mockjobs.clock.advance`` as its sleep, so
each pause moves the frozen mock clock by exactly 2 s and the 58.4 s job completes in
milliseconds of real time.
"""

from __future__ import annotations

import re

import pytest

from .mission_client import MissionClient, MissionError


@pytest.fixture
def client(mockjobs):
    """The client under test, pointed at the mock, pausing on the mock clock."""
    mockjobs.clock.freeze()
    client = MissionClient(mockjobs.rest_url, interval=2.0, sleep=mockjobs.clock.advance)
    yield client
    client.close()


def test_create_mission_returns_the_new_mission_id(mockjobs, client):
    mission = client.create_and_wait("Harbour patrol", snippet="Night shift")

    [job] = mockjobs.jobs("create-mission")  # the job the client's POST started
    assert mission.job_id == job.id
    assert mission.mission_id == job.vars["missionId"]
    assert re.fullmatch(r"[0-9a-f]{32}", mission.mission_id)
    assert mission.job["type"] == "createNewMissionService"
    assert mission.job["customAttributes"]["stepsCompleted"] == 7
    assert 'Creating mission group for "Harbour patrol".' in mission.job["messages"]
    assert mission.job["messages"][-1] == f"Finished creating mission {mission.mission_id}."


def test_client_polls_every_two_seconds_and_stops_at_completed(mockjobs, client):
    mission = client.create_and_wait("Harbour patrol")

    polls = mockjobs.job(mission.job_id).polls
    assert polls.count == 31  # at 0, 2, ..., 60 s; the job completes at 58.4 s
    assert set(polls.clock_intervals) == {2.0}
    assert polls.terminal_seen
    assert polls.after_terminal == 0
    assert polls.formats == ("json",)
    trigger = mockjobs.requests[0]
    assert (trigger["method"], trigger["path"], trigger["kind"]) == (
        "POST",
        "/arcgis/rest/services/createMission",
        "trigger",
    )


def test_client_reports_a_mission_cancelled_by_an_operator(mockjobs):
    mockjobs.clock.freeze()
    pauses: list[float] = []

    def sleep_then_cancel_at_10s(seconds: float) -> None:
        mockjobs.clock.advance(seconds)
        pauses.append(seconds)
        if sum(pauses) == 10:
            mockjobs.jobs()[0].cancel()  # an operator cancels 10 s into the job

    client = MissionClient(mockjobs.rest_url, interval=2.0, sleep=sleep_then_cancel_at_10s)
    with pytest.raises(MissionError, match="ended CANCELLED: Cancelled mission creation."):
        client.create_and_wait("Harbour patrol")
    client.close()

    [job] = mockjobs.jobs()
    assert job.state()["customAttributes"]["isCancelled"] is True
    seen = [p["status"] for p in job.polls.entries]  # polls at 0, 2, ..., 16 s
    assert seen == ["EXECUTING"] * 5 + ["CANCELLING"] * 3 + ["CANCELLED"]
    assert job.polls.after_terminal == 0


def test_client_gives_up_on_a_job_that_never_finishes(mockjobs, client):
    job = mockjobs.start("never-finishes")
    client.timeout = 120

    with pytest.raises(TimeoutError, match="still EXECUTING after 120s"):
        client.wait(job.id)
    assert job.polls.count == 61  # at 0, 2, ..., 120 s


def test_client_reads_a_failed_job(mockjobs, client):
    job = mockjobs.start("add-mission-fails", missionId="0123456789abcdef0123456789abcdef")

    doc = client.wait(job.id)

    assert doc["status"] == "FAILED"
    assert doc["messages"][-1] == "Failed to create mission 0123456789abcdef0123456789abcdef."
    assert doc["endTime"] == doc["startTime"] + 42_000
