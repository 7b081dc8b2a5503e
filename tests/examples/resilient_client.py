"""A Mission Server client with retry logic: the kind of code that must survive a bad day.

Transport trouble is left to urllib3: a ``Retry`` mounted on the requests session retries
GETs on 429/502/503/504 (respecting ``Retry-After``) and on dropped connections. What urllib3
cannot see is handled here: an ArcGIS error envelope in an HTTP 200, a body that is not JSON,
and a document older than one already seen (a stale answer from another node).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from .mission_client import TERMINAL, Mission, MissionError


def retrying_session(retries: int = 5) -> requests.Session:
    """A session whose GETs urllib3 retries on throttling, gateway errors and dropped connections."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),  # createMission's POST is not idempotent
        respect_retry_after_header=True,
        backoff_factor=0,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ResilientMissionClient:
    """Polls a mission job to its end through whatever the server throws at it.

    ``attempts`` bounds the polls that come back unusable in a row (an error envelope, a cut
    body); ``interval`` is the pause between polls (injectable ``sleep``).
    """

    def __init__(
        self,
        rest_url: str,
        *,
        interval: float = 1.0,
        attempts: int = 5,
        max_polls: int = 200,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.interval = interval
        self.attempts = attempts
        self.max_polls = max_polls
        self.session = session or retrying_session()
        self.sleep = sleep
        self.setbacks: list[str] = []  # what the client met and got over, in order

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def poll(self, job_id: str) -> dict[str, Any] | None:
        """One poll (urllib3 retrying underneath): the document, or None when the answer is unusable."""
        r = self.session.get(f"{self.rest_url}/jobs/{job_id}", params={"f": "json"}, timeout=30)
        r.raise_for_status()
        try:
            doc = r.json()
        except ValueError:
            self.setbacks.append("invalid JSON")
            return None
        if "error" in doc:
            self.setbacks.append(f"error {doc['error'].get('code')}")
            return None
        return doc

    def wait(self, job_id: str) -> Mission:
        """Poll until the job ends; the mission, or MissionError when it fails or never settles."""
        newest: dict[str, Any] | None = None
        unusable = 0
        for _ in range(self.max_polls):
            doc = self.poll(job_id)
            if doc is None:
                unusable += 1
                if unusable >= self.attempts:
                    raise MissionError(f"job {job_id}: {unusable} unusable answers in a row: {self.setbacks}")
            else:
                unusable = 0
                if newest is not None and len(doc["messages"]) < len(newest["messages"]):
                    self.setbacks.append("stale document")  # older than one already seen: keep the newer
                else:
                    newest = doc
                if newest["status"] in TERMINAL:
                    break
            self.sleep(self.interval)
        else:
            raise MissionError(f"job {job_id} did not end within {self.max_polls} polls")
        if newest["status"] != "COMPLETED":
            raise MissionError(f"job {job_id} ended {newest['status']}")
        return Mission(newest["customAttributes"]["missionId"], job_id, newest)
