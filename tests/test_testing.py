"""mockjobs.testing on its own: the server class and the test API without the pytest plugin."""

from __future__ import annotations

from pathlib import Path

import requests

from mockjobs.testing import MockJobs, MockjobsServer


def test_the_server_class_serves_the_test_api_without_pytest_fixtures(tmp_path: Path) -> None:
    server = MockjobsServer(tmp_path)
    try:
        jobs = MockJobs(server, server.activate())
        job = jobs.start("add-mission", missionId="abc")
        doc = requests.get(job.url, params={"f": "json"}, timeout=10).json()
        assert doc["customAttributes"]["missionId"] == "abc"
        assert job.polls.count == 1
        assert job.polls.entries[0]["jobId"] == job.id

        jobs = MockJobs(server, server.activate())  # activating again resets
        assert jobs.jobs() == [] and jobs.requests == []
    finally:
        server.stop()
    try:
        requests.get(server.url + "/__mock/health", timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")
