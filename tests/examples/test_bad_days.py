"""A client with retry logic completes createMission through a bad day, and the journal proves it.

The bundled scenario ``create-mission-bad-days`` is create-mission paced by polls, with a
fault on most polls. The test asserts what the client made of it and, from the journal
(``job.polls.faults``), exactly which faults it met on the way.
"""

from __future__ import annotations

import pytest

from .resilient_client import ResilientMissionClient


@pytest.fixture
def client(mockjobs):
    """The client under test, pointed at the mock; it never waits between polls."""
    client = ResilientMissionClient(mockjobs.rest_url, interval=0)
    yield client
    client.close()


# README: "Testing a client's bad days"
def test_a_retrying_client_completes_create_mission_through_a_bad_day(mockjobs, client):
    mockjobs.strict = True  # and the client asked nothing the mock did not expect
    job = mockjobs.start("create-mission-bad-days", params={"title": "Harbour patrol"})

    mission = client.wait(job.id)

    assert mission.mission_id == job.vars["missionId"]
    assert mission.job["status"] == "COMPLETED" and mission.job["customAttributes"]["stepsCompleted"] == 7
    assert [(f["poll"], f["effect"]) for f in job.polls.faults] == [
        (2, "http"),  # 503: urllib3 retried at once (Retry-After: 0)
        (4, "drop"),  # connection closed: urllib3 retried the GET
        (6, "error"),  # error envelope in an HTTP 200: the client polled again
        (8, "truncate"),  # half a body: the client polled again
        (10, "delay"),  # slow, then right
        (12, "stale"),  # the previous event's document again: no progress, no harm
        (13, "http"),  # 429 once past 50 s of the job's time (its 13th event): urllib3 retried
    ]
    assert client.setbacks == ["error 500", "invalid JSON"]  # the rest never reached the client's code


# README end


def test_the_client_gives_up_when_every_answer_is_unusable(mockjobs, client):
    job = mockjobs.start("create-mission")
    job.fault(do={"error": {"code": 500, "message": "Unable to complete operation."}})
    with pytest.raises(Exception, match="5 unusable answers in a row"):
        client.wait(job.id)
    assert job.polls.count == 5 and len(job.polls.faults) == 5


def test_the_client_keeps_the_newer_document_over_a_stale_one(mockjobs):
    mockjobs.clock.freeze()
    job = mockjobs.start("create-mission", params={"title": "Harbour patrol"})
    job.fault(when={"poll": 3}, do={"stale": True})  # at 1 s: the document before the job started
    client = ResilientMissionClient(mockjobs.rest_url, interval=0.5, sleep=mockjobs.clock.advance)
    try:
        mission = client.wait(job.id)
    finally:
        client.close()
    assert mission.job["status"] == "COMPLETED"
    assert client.setbacks == ["stale document"]
    stale = job.polls.entries[2]
    assert stale["fault"]["effect"] == "stale" and stale["status"] == "SUBMITTED"
