"""The fixture's faults, pace and strict mode: through the fixture itself, and from outside with pytester."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from mockjobs.errors import BadRequest
from mockjobs.testing import MockFault, MockJobs

pytest_plugins = ["pytester"]


def test_job_fault_fires_on_that_job_only_and_polls_show_it(mockjobs: MockJobs) -> None:
    job, other = mockjobs.start("add-mission"), mockjobs.start("add-mission")
    fault = job.fault(when={"poll": 2}, do={"http": 503, "retry_after": dt.timedelta(seconds=3)})
    assert isinstance(fault, MockFault) and fault.doc["jobId"] == job.id and fault.doc["do"]["retry_after"] == 3

    answers = [requests.get(job.url, params={"f": "json"}, timeout=10) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 503, 200]
    assert answers[1].headers["Retry-After"] == "3"
    assert requests.get(other.url, params={"f": "json"}, timeout=10).status_code == 200

    assert job.polls.faults == ({"poll": 2, "id": fault.id, "effect": "http"},)
    assert other.polls.faults == ()
    assert [e["jobId"] for e in fault.firings] == [job.id]
    assert [f.id for f in mockjobs.faults] == [fault.id]
    fault.remove()
    assert mockjobs.faults == []


def test_mockjobs_fault_covers_every_job_or_one_scenarios(mockjobs: MockJobs) -> None:
    everywhere = mockjobs.fault(when={"every": 2}, do={"error": {"code": 500, "message": "Busy."}})
    scoped = mockjobs.fault(do={"stale": True}, scenario="no-such-scenario-yet")
    assert "scenario" not in everywhere.doc and scoped.doc["scenario"] == "no-such-scenario-yet"
    job = mockjobs.start("add-mission")
    docs = [requests.get(job.url, params={"f": "pjson"}, timeout=10).json() for _ in range(2)]
    assert "status" in docs[0] and docs[1] == {"error": {"code": 500, "message": "Busy.", "details": []}}


def test_a_bad_fault_raises_bad_request_naming_the_field(mockjobs: MockJobs) -> None:
    job = mockjobs.start("add-mission")
    with pytest.raises(BadRequest, match=r"when\.probability: must be between 0 and 1"):
        job.fault(when={"probability": 2}, do={"drop": True})
    with pytest.raises(BadRequest, match=r"do\.boom: unknown key"):
        mockjobs.fault(do={"boom": True})
    assert mockjobs.faults == []


def test_start_with_pace_poll_moves_one_event_per_poll(mockjobs: MockJobs) -> None:
    mockjobs.clock.freeze()
    job = mockjobs.start("add-mission", pace="poll")
    docs = [requests.get(job.url, params={"f": "json"}, timeout=10).json() for _ in range(11)]  # 11 events
    assert [len(d["messages"]) for d in docs] == list(range(1, 12))
    assert docs[9]["status"] == "EXECUTING" and docs[10]["status"] == "COMPLETED"
    assert job.status == "COMPLETED"  # between polls, the job shows what its last poll showed
    with pytest.raises(BadRequest, match="paced by its polls"):
        job.advance(to="end")


def test_pace_with_pytester(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, urllib.request

        def get(url):
            with urllib.request.urlopen(url + "?f=json") as r:
                return json.load(r)

        SCENARIO = '''
        name: three-steps
        job: {type: stepJob, pace: poll}
        timeline:
          - {at: 0, status: EXECUTING, steps: 0}
          - {at: 10m, steps: 1}
          - {at: 20m, steps: 2}
          - {at: 30m, status: COMPLETED, steps: 3}
        '''

        def test_scenario_pace(mockjobs):
            mockjobs.add_scenario(SCENARIO)
            job = mockjobs.start("three-steps")
            seen = [get(job.url) for _ in range(5)]
            assert [d["customAttributes"]["stepsCompleted"] for d in seen] == [0, 1, 2, 3, 3]
            assert seen[3]["status"] == "COMPLETED"

        def test_start_pace(mockjobs):
            job = mockjobs.start("add-mission", pace="poll")
            first = get(job.url)
            assert first["status"] == "EXECUTING" and len(first["messages"]) == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2)


STRICT_TESTS = """
    import requests

    def test_unknown_job_and_bad_f(mockjobs):
        {strict}
        requests.get(mockjobs.rest_url + "/jobs/jnope?f=json", timeout=10)
        job = mockjobs.start("add-mission")
        requests.get(job.url + "?f=xml", timeout=10)

    def test_only_scripted_errors(mockjobs):
        {strict}
        job = mockjobs.start("add-mission")
        job.fault(when={{"poll": 1}}, do={{"error": {{"code": 500, "message": "Scripted."}}}})
        job.fault(when={{"poll": 2}}, do={{"http": 503}})
        assert requests.get(job.url + "?f=json", timeout=10).json()["error"]["code"] == 500
        assert requests.get(job.url + "?f=json", timeout=10).status_code == 503

    def test_fails_anyway(mockjobs):
        {strict}
        requests.get(mockjobs.url + "/arcgis/rest/nowhere?f=json", timeout=10)
        assert False, "my own failure"
"""


def test_strict_mode_fails_a_test_listing_every_unscripted_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(STRICT_TESTS.format(strict="mockjobs.strict = True"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-rA")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*mockjobs (strict): the mock answered 2 request(s) with an error no fault scripted:",
            "*GET /arcgis/rest/jobs/jnope?f=json -> HTTP 200, error 404",
            "*GET /arcgis/rest/jobs/j*?f=xml -> HTTP 200, error 400",
        ]
    )
    result.stdout.fnmatch_lines(["*my own failure*", "*mockjobs unscripted errors*", "*/arcgis/rest/nowhere*"])


def test_strict_mode_from_the_ini_option_and_off_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(STRICT_TESTS.format(strict="pass"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2, failed=1)  # only the test's own failure

    pytester.makeini("[pytest]\nmockjobs_strict = true\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*jnope?f=json -> HTTP 200, error 404*"])
