"""The README's resources example, run as written: a mission left behind by create-mission."""

from __future__ import annotations

import requests


# README: "Resources: what a finished job leaves behind"
def test_client_reads_the_mission_the_job_left(mockjobs):
    job = mockjobs.start("create-mission", params={"title": "Harbour"})
    (mission,) = job.resources
    assert not mission.live  # its paths answer the 404 envelope until the job completes
    job.advance(to="end")
    doc = requests.get(mission.url, params={"f": "json"}, timeout=10).json()
    assert doc["missionId"] == job.vars["missionId"]
    catalog = requests.get(f"{mockjobs.rest_url}/services", params={"f": "json"}, timeout=10).json()
    assert catalog["services"][0]["title"] == "Harbour"
    requests.post(f"{mission.url}/delete", data={"f": "json"}, timeout=10)
    assert mission.state == "removed"


# README end
