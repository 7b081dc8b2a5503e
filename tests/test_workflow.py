"""A client's whole createMission workflow against the real server (gunicorn, 4 workers)."""

from __future__ import annotations

import re

import pytest

from tests.servers import Launcher

pytestmark = pytest.mark.slow

INTERVAL = "2s"


def test_create_mission_poll_until_completed_with_the_clock_advanced(launch: Launcher) -> None:
    srv = launch.serve("--workers", "4")
    assert srv.post("/__mock/clock", json={"freeze": True}).json()["frozen"] is True

    # What Esri's client does: POST services/createMission with async=true, f=json and form fields.
    started = srv.post("/arcgis/rest/services/createMission", data={"async": "true", "f": "json", "title": "Harbour"})
    assert started.status_code == 200
    job_id = started.json()["jobId"]
    assert re.fullmatch(r"j[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", job_id)

    statuses = []
    for _ in range(100):
        doc = srv.get(f"/arcgis/rest/jobs/{job_id}", params={"f": "json"}).json()
        statuses.append(doc["status"])
        if doc["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            break
        srv.post("/__mock/clock", json={"advance": INTERVAL})  # the client's sleep, on the mock clock
    assert doc["status"] == "COMPLETED", statuses
    assert doc["type"] == "createNewMissionService"
    assert any("Harbour" in m for m in doc["messages"])
    mission_id = doc["customAttributes"]["missionId"]
    assert re.fullmatch(r"[0-9a-f]{32}", mission_id)
    assert doc["endTime"] <= srv.get("/__mock/clock").json()["now"]

    polls = srv.get(f"/__mock/jobs/{job_id}/polls").json()
    assert polls["count"] == len(statuses)  # every poll counted, whichever worker answered it
    assert polls["afterTerminal"] == 0
    assert polls["terminalSeen"] is True
    assert polls["intervals"]["min"] is not None and polls["intervals"]["min"] >= 0
    detail = srv.get(f"/__mock/jobs/{job_id}").json()
    assert detail["status"] == "COMPLETED" and detail["vars"]["missionId"] == mission_id
    assert detail["params"]["title"] == "Harbour"
