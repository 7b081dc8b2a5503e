"""A small ArcGIS Mission Server client: the kind of code a team tests with the mockjobs fixture.

It creates a mission the way Esri's clients do (``POST <rest>/services/createMission`` with
``f=json``, answered ``{"jobId": ...}``), then polls ``<rest>/jobs/<jobId>?f=json`` every
``interval`` seconds until the job is terminal, and reads ``customAttributes.missionId``.

Like any client that polls, it waits between polls; the wait is injectable (``sleep=``), which
is what lets a test replace real waiting by moving the mock server's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


class MissionError(Exception):
    """The server answered with an ArcGIS error, or the job did not complete."""


@dataclass(frozen=True)
class Mission:
    """A created mission: its id and the job that created it."""

    mission_id: str
    job_id: str
    job: dict[str, Any]


class MissionClient:
    """Creates missions and waits for their jobs.

    ``interval`` is the pause between polls and ``timeout`` the longest total wait (both in
    seconds, counted as the sum of the pauses, so a slow network does not shorten it).
    """

    def __init__(
        self,
        rest_url: str,
        *,
        interval: float = 2.0,
        timeout: float = 600.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.interval = interval
        self.timeout = timeout
        self.session = session or requests.Session()
        self.sleep = sleep

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def _call(self, method: str, path: str, **fields: Any) -> dict[str, Any]:
        """One ArcGIS REST call with f=json; ArcGIS errors (HTTP 200 + error) raise."""
        fields["f"] = "json"
        if method == "GET":
            r = self.session.get(f"{self.rest_url}/{path}", params=fields, timeout=30)
        else:
            r = self.session.post(f"{self.rest_url}/{path}", data=fields, timeout=30)
        r.raise_for_status()
        doc = r.json()
        if "error" in doc:
            err = doc["error"]
            raise MissionError(f"{path}: error {err.get('code')}: {err.get('message')} {err.get('details', [])}")
        return doc

    def create_mission(self, title: str, **fields: Any) -> str:
        """Start creating a mission; returns the job id."""
        return str(self._call("POST", "services/createMission", title=title, **fields)["jobId"])

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's document, polled once."""
        return self._call("GET", f"jobs/{job_id}")

    def wait(self, job_id: str) -> dict[str, Any]:
        """Poll until the job is terminal; its last document. TimeoutError after ``timeout``."""
        waited = 0.0
        while True:
            doc = self.job(job_id)
            if doc["status"] in TERMINAL:
                return doc
            if waited + self.interval > self.timeout:
                raise TimeoutError(f"job {job_id} still {doc['status']} after {waited:g}s")
            self.sleep(self.interval)
            waited += self.interval

    def create_and_wait(self, title: str, **fields: Any) -> Mission:
        """Create a mission and wait for it; MissionError unless the job COMPLETED."""
        job_id = self.create_mission(title, **fields)
        doc = self.wait(job_id)
        if doc["status"] != "COMPLETED":
            last = doc["messages"][-1] if doc["messages"] else ""
            raise MissionError(f"job {job_id} ended {doc['status']}: {last}")
        return Mission(doc["customAttributes"]["missionId"], job_id, doc)
