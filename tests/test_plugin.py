"""The pytest plugin: its API through the fixture itself, and from outside with pytester."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from mockjobs.errors import BadRequest, Conflict, NotFound, ScenarioErrors
from mockjobs.pytest_plugin import MockJob, MockJobs, MockjobsServer, MockjobsServerError

pytest_plugins = ["pytester"]

EXPORT_YAML = """\
name: export-data
description: A small job with a trigger of its own.
job: {type: exportData, totalSteps: 2}
vars:
  format: {generate: hex32}
  speed: slow
trigger: {method: POST, path: /rest/services/exportData}
timeline:
  - {at: 0, message: "Exporting as {format}.", status: EXECUTING}
  - {at: 5s, message: Half way., steps: 1}
  - {at: 10s, message: "Exported {params.title} ({speed}).", status: COMPLETED, steps: 2}
"""


def test_start_returns_a_job_whose_url_answers_over_http(mockjobs: MockJobs) -> None:
    job = mockjobs.start("add-mission", missionId="abc")

    assert isinstance(job, MockJob)
    assert mockjobs.url.startswith("http://127.0.0.1:") and not mockjobs.url.endswith("/")
    assert mockjobs.rest_url == mockjobs.url + "/arcgis/rest"
    assert job.url == f"{mockjobs.rest_url}/jobs/{job.id}"
    assert job.vars == {"missionId": "abc"}
    doc = requests.get(job.url, params={"f": "json"}, timeout=10).json()
    assert doc == job.state()
    assert doc["status"] == "EXECUTING"
    assert doc["customAttributes"]["missionId"] == "abc"


def test_state_is_not_a_poll_but_http_gets_are(mockjobs: MockJobs) -> None:
    job = mockjobs.start("add-mission")
    job.state()
    assert job.status == "EXECUTING"
    assert job.polls.count == 0

    requests.get(job.url + "?f=json", timeout=10)
    job.advance(to="end")
    requests.post(job.url, data={"f": "pjson"}, timeout=10)
    requests.get(job.url, timeout=10)

    polls = job.polls
    assert polls.count == 3
    assert polls.terminal_seen and polls.after_terminal == 1
    assert polls.formats == ("html", "json", "pjson")
    assert len(polls.intervals) == len(polls.clock_intervals) == 2
    assert polls.max_interval is not None and polls.max_interval >= polls.min_interval >= 0  # type: ignore[operator]
    assert [e["path"] for e in job.requests] == [f"/arcgis/rest/jobs/{job.id}"] * 3


def test_start_takes_reserved_keywords_and_vars_that_clash_with_them(mockjobs: MockJobs) -> None:
    name = mockjobs.add_scenario(EXPORT_YAML)
    start = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)

    job = mockjobs.start(
        name,
        job_id="export-1",
        speed=2,
        params={"title": "Ops"},
        start_time=start,
        vars={"speed": "fast"},
        format="csv",
    )

    assert job.id == "export-1"
    assert job.vars == {"format": "csv", "speed": "fast"}
    doc = job.advance(to="end")
    assert doc["startTime"] == 1_714_564_800_000
    assert doc["endTime"] == doc["startTime"] + 5_000  # 10 s of scenario time at speed 2
    assert doc["messages"] == ["Exporting as csv.", "Half way.", "Exported Ops (fast)."]


def test_start_refuses_unknown_scenarios_vars_and_taken_ids(mockjobs: MockJobs) -> None:
    with pytest.raises(NotFound, match="no scenario 'nope'"):
        mockjobs.start("nope")
    with pytest.raises(BadRequest, match="unknown var 'missionID'"):
        mockjobs.start("add-mission", missionID="x")
    mockjobs.start("add-mission", job_id="j1")
    with pytest.raises(Conflict):
        mockjobs.start("add-mission", job_id="j1")


@pytest.mark.parametrize(
    ("how", "elapsed_s"),
    [
        ({"by": 10}, 10),
        ({"by": "1m6.311s"}, 66.311),
        ({"by": dt.timedelta(seconds=21.5)}, 21.5),
        ({"to": "next"}, 4.8),
        ({"to": "end"}, 66.311),
        ({"to": "30s"}, 30),
    ],
)
def test_advance_takes_durations_and_targets(mockjobs: MockJobs, how: dict, elapsed_s: float) -> None:
    mockjobs.clock.freeze()
    job = mockjobs.start("add-mission")

    job.advance(**how)

    summary = mockjobs.service.summary(mockjobs.service.get(job.id), polls=False)
    assert summary["elapsed"] == pytest.approx(elapsed_s, abs=0.001)


def test_advance_by_positional_duration_and_its_misuses(mockjobs: MockJobs) -> None:
    mockjobs.clock.freeze()
    job = mockjobs.start("add-mission")
    assert job.advance("21.5s")["customAttributes"]["stepsCompleted"] == 1
    with pytest.raises(TypeError, match="exactly one"):
        job.advance()
    with pytest.raises(TypeError, match="exactly one"):
        job.advance("1s", to="end")
    with pytest.raises(BadRequest, match="already at"):
        job.advance(to="10s")


def test_advance_moves_only_that_job(mockjobs: MockJobs) -> None:
    mockjobs.clock.freeze()
    moved, other = mockjobs.start("add-mission"), mockjobs.start("add-mission")
    moved.advance(to="end")
    assert (moved.status, other.status) == ("COMPLETED", "EXECUTING")
    assert moved.state()["endTime"] <= mockjobs.clock.now


def test_advance_to_a_status_and_failing_to_reach_one(mockjobs: MockJobs) -> None:
    job = mockjobs.start("add-mission", missionId="m1")
    doc = job.advance_to("completed")
    assert doc["messages"][-1] == "Finished creating mission m1."

    failing = mockjobs.start("add-mission-fails")
    with pytest.raises(AssertionError, match="stopped at FAILED without reaching COMPLETED"):
        failing.advance_to("COMPLETED")
    cancelled = mockjobs.start("add-mission")
    cancelled.cancel()
    assert cancelled.advance_to("CANCELLED", "FAILED")["status"] == "CANCELLED"


def test_wait_for_a_status_in_real_time(mockjobs: MockJobs) -> None:
    fast = mockjobs.start("add-mission", speed=2000)  # 66 s of scenario in 33 ms
    assert fast.wait_for("COMPLETED", timeout=10)["status"] == "COMPLETED"

    stuck = mockjobs.start("never-finishes")
    with pytest.raises(TimeoutError, match="still EXECUTING"):
        stuck.wait_for("COMPLETED", timeout="20ms")
    failed = mockjobs.start("add-mission-fails")
    failed.advance(to="end")
    with pytest.raises(AssertionError, match="ended FAILED"):
        failed.wait_for("COMPLETED")


def test_cancel_replays_the_cancel_story(mockjobs: MockJobs) -> None:
    mockjobs.clock.freeze()
    job = mockjobs.start("create-mission")
    job.advance("10s")

    doc = job.cancel()

    assert doc["status"] == "CANCELLING"
    assert doc["customAttributes"]["isCancelled"] is True
    assert job.advance(to="end")["status"] == "CANCELLED"
    with pytest.raises(Conflict):
        job.cancel()


def test_clock_freeze_set_advance_and_real(mockjobs: MockJobs) -> None:
    clock = mockjobs.clock
    at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert not clock.frozen

    assert clock.freeze(at) == 1_704_164_645_000
    assert clock.frozen and clock.now == 1_704_164_645_000
    assert clock.advance("1m30s") == 1_704_164_735_000
    assert clock.advance(dt.timedelta(milliseconds=-500)) == 1_704_164_734_500
    assert clock.set(1_600_000_000_000) == clock.now == 1_600_000_000_000
    job = mockjobs.start("add-mission")
    assert job.state()["startTime"] == 1_600_000_000_000
    clock.advance(66.311)
    assert job.status == "COMPLETED"
    assert clock.unfreeze() >= 1_600_000_066_311 and not clock.frozen
    assert abs(clock.real() - dt.datetime.now().timestamp() * 1000) < 60_000
    with pytest.raises(TypeError):
        clock.set("tomorrow")  # type: ignore[arg-type]


def test_add_scenario_from_text_or_dict_serves_its_trigger(mockjobs: MockJobs) -> None:
    assert mockjobs.add_scenario(EXPORT_YAML) == "export-data"
    assert mockjobs.add_scenario(EXPORT_YAML) == "export-data"  # the same text again: fine
    name = mockjobs.add_scenario(
        {
            "job": {"type": "quick"},
            "jobs": [{"jobId": "fixed-id"}],
            "timeline": [{"at": 0, "status": "COMPLETED", "message": "Done."}],
        }
    )
    assert name == "scenario"
    assert mockjobs.job("fixed-id").status == "COMPLETED"

    answer = requests.post(f"{mockjobs.rest_url}/services/exportData", data={"f": "json", "title": "T"}, timeout=10)

    [job] = mockjobs.jobs("export-data")
    assert answer.json() == {"jobId": job.id}
    assert job.advance(to="end")["messages"][-1] == "Exported T (slow)."


def test_add_scenario_refuses_invalid_and_clashing_scenarios(mockjobs: MockJobs) -> None:
    with pytest.raises(ScenarioErrors, match=r"<add_scenario>:\d+: timeline"):
        mockjobs.add_scenario("name: broken\njob: {type: x}\ntimeline: []\n")
    with pytest.raises(Conflict, match="'add-mission' already exists"):
        mockjobs.add_scenario({"name": "add-mission", "job": {"type": "x"}, "timeline": [{"at": 0}]})
    clash = EXPORT_YAML.replace("export-data", "other").replace("/exportData", "/createMission")
    with pytest.raises(Conflict, match="already starts scenario 'create-mission'"):
        mockjobs.add_scenario(clash)


def test_requests_is_the_journal_and_reset_empties_everything(mockjobs: MockJobs) -> None:
    mockjobs.add_scenario(EXPORT_YAML)
    job = mockjobs.start("add-mission")
    requests.get(f"{mockjobs.rest_url}/jobs/{job.id}", params={"f": "json"}, timeout=10)
    mockjobs.clock.freeze()
    mockjobs.speed = 5

    assert [(e["method"], e["kind"], e["jobId"]) for e in mockjobs.requests] == [("GET", "poll", job.id)]
    mockjobs.reset()

    assert mockjobs.requests == [] and mockjobs.jobs() == []
    assert not mockjobs.clock.frozen and mockjobs.speed == 1.0
    assert {j.id for j in mockjobs.jobs(static=True)} == {j.job_id for j in mockjobs.service.static_jobs()}
    with pytest.raises(NotFound):
        mockjobs.start("export-data")


def test_speed_applies_to_trigger_started_jobs(mockjobs: MockJobs) -> None:
    mockjobs.clock.freeze()
    mockjobs.speed = 10
    requests.post(f"{mockjobs.rest_url}/services/createMission", data={"f": "json", "title": "x"}, timeout=10)
    [job] = mockjobs.jobs()
    mockjobs.clock.advance(6)  # 60 s of scenario time
    assert job.status == "COMPLETED"
    with pytest.raises(ValueError):
        mockjobs.speed = 0


def test_mockjobs_app_is_the_same_server_state(mockjobs: MockJobs, mockjobs_app, mockjobs_server) -> None:
    job = mockjobs.start("add-mission")
    r = mockjobs_app.test_client().get(f"/arcgis/rest/jobs/{job.id}?f=json")
    assert r.json == job.state()
    assert mockjobs_app is mockjobs.app
    assert isinstance(mockjobs_server, MockjobsServer) and mockjobs_server.url == mockjobs.url


def test_check_raises_what_the_server_raised(mockjobs: MockJobs, monkeypatch: pytest.MonkeyPatch) -> None:
    job = mockjobs.start("add-mission")
    mockjobs.check()  # nothing yet

    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(mockjobs.service, "scenario_of", boom)
    answer = requests.get(job.url, params={"f": "json"}, timeout=10)

    assert answer.json()["error"]["code"] == 500
    with pytest.raises(MockjobsServerError, match="RuntimeError: boom") as info:
        mockjobs.check()
    assert isinstance(info.value.__cause__, RuntimeError)
    mockjobs.check()  # reported once


# --------------------------------------------------------------------------- from outside


@pytest.fixture
def export_folder(pytester: pytest.Pytester):
    """A scenario folder scen/ with the export-data scenario, in pytester's directory."""
    folder = pytester.mkdir("scen")
    (folder / "export.yaml").write_text(EXPORT_YAML)
    return folder


def test_a_fresh_test_file_using_only_the_fixture_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, urllib.request

        def test_client_waits_for_mission(mockjobs):
            job = mockjobs.start("add-mission", missionId="abc")
            with urllib.request.urlopen(job.url + "?f=json") as r:
                assert json.load(r)["status"] == "EXECUTING"
            job.advance(to="end")
            with urllib.request.urlopen(job.url + "?f=json") as r:
                assert json.load(r)["customAttributes"]["missionId"] == "abc"
            assert job.polls.count == 2

        def test_next_test_starts_clean(mockjobs):
            assert mockjobs.jobs() == [] and mockjobs.requests == []
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_failing_assertion_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_wrong_expectation(mockjobs):
            job = mockjobs.start("add-mission-fails")
            assert job.advance(to="end")["status"] == "COMPLETED"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: assert 'FAILED' == 'COMPLETED'"])


def test_a_server_side_exception_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import urllib.request
        import pytest

        def explode(*args):
            raise ZeroDivisionError("inside the server")

        def test_passes_its_own_asserts_but_broke_the_server(mockjobs, monkeypatch):
            job = mockjobs.start("add-mission")
            monkeypatch.setattr(mockjobs.service, "scenario_of", explode)
            with urllib.request.urlopen(job.url + "?f=json") as r:
                assert r.status == 200  # ArcGIS errors are HTTP 200

        def test_fails_anyway_and_shows_the_server_traceback(mockjobs, monkeypatch):
            job = mockjobs.start("add-mission")
            monkeypatch.setattr(mockjobs.service, "scenario_of", explode)
            urllib.request.urlopen(job.url + "?f=json").close()
            assert False, "my own assertion"

        def test_the_next_test_is_not_blamed(mockjobs):
            assert mockjobs.start("add-mission").status == "EXECUTING"

        @pytest.fixture
        def polls_while_tearing_down(mockjobs):
            job = mockjobs.start("add-mission")
            yield
            mockjobs.service.scenario_of = explode  # the instance attribute goes with the reset
            urllib.request.urlopen(job.url + "?f=json").close()
            del mockjobs.service.scenario_of

        def test_broken_by_a_fixture_teardown(polls_while_tearing_down):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_broken_by_a_fixture_teardown*",
            "mockjobs: the mock server raised ZeroDivisionError while serving this test:",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_passes_its_own_asserts_but_broke_the_server _*",
            "mockjobs: the mock server raised ZeroDivisionError while serving this test:",
            "*in job",
            "*in explode",
            "ZeroDivisionError: inside the server",
            "*_ test_fails_anyway_and_shows_the_server_traceback _*",
            "E * my own assertion",
            "*- Captured mockjobs server errors call -*",
            "ZeroDivisionError: inside the server",
        ]
    )
    result.stdout.fnmatch_lines(["PASSED *test_the_next_test_is_not_blamed"])


def test_mockjobs_config_overrides_settings_and_the_environment_does_not(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKJOBS_SPEED", "50")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mockjobs_config():
            return {"context": "/portal", "HTTP_ERRORS": True}
        """
    )
    pytester.makepyfile(
        """
        import urllib.error, urllib.request
        import pytest

        def test_configured(mockjobs):
            assert mockjobs.rest_url == mockjobs.url + "/portal/rest"
            assert mockjobs.speed == 1.0
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(mockjobs.rest_url + "/jobs/nope?f=json")
            info.value.close()
            assert info.value.code == 404
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_ini_option_adds_scenario_folders(pytester: pytest.Pytester, export_folder) -> None:
    pytester.makeini("[pytest]\nmockjobs_scenarios = scen\n")
    pytester.makepyfile(
        """
        def test_both(mockjobs):
            assert mockjobs.start("export-data").advance(to="end")["status"] == "COMPLETED"
            assert mockjobs.start("add-mission").status == "EXECUTING"  # bundled: always there
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_command_line_option_adds_scenario_folders(pytester: pytest.Pytester, export_folder) -> None:
    pytester.makepyfile(
        """
        def test_export(mockjobs):
            assert mockjobs.start("export-data").status == "EXECUTING"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--mockjobs-scenarios", "scen").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(failed=1)


def test_a_broken_scenario_folder_errors_with_its_problems(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scen")
    (pytester.path / "scen" / "bad.yaml").write_text("name: bad\njob: {type: x}\ntimeline:\n  - {at: -1}\n")
    pytester.makepyfile("def test_x(mockjobs):\n    assert mockjobs.url\n")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--mockjobs-scenarios", "scen", "--mockjobs-scenarios", "gone"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*scenario folders have errors*",
            "*/gone:0: no such file or folder",
            "*/scen/bad.yaml:4: timeline[[]0[]].at: *",
        ]
    )


def test_marker_picks_folders_per_module(pytester: pytest.Pytester, export_folder) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest

        pytestmark = pytest.mark.mockjobs_scenarios("scen")

        def test_sees_export(mockjobs):
            assert mockjobs.start("export-data").status == "EXECUTING"
        """,
        test_plain="""
        import pytest
        from mockjobs.errors import NotFound

        def test_does_not(mockjobs):
            with pytest.raises(NotFound):
                mockjobs.start("export-data")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)


def test_plugin_is_registered_and_imports_nothing_heavy_at_start_up(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_start_up_is_light(request):
            assert request.config.pluginmanager.has_plugin("mockjobs")
            assert "mockjobs.pytest_plugin" in sys.modules
            heavy = ["flask", "werkzeug", "yaml", "marshmallow", "mockjobs.factory", "mockjobs.service"]
            assert [m for m in heavy if m in sys.modules] == []

        def test_fixture_still_works(mockjobs):
            assert mockjobs.start("add-mission").status == "EXECUTING"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2)


def test_xdist_gives_each_worker_its_own_isolated_server(pytester: pytest.Pytester, export_folder) -> None:
    pytester.makepyfile(
        """
        import json, os, urllib.request
        import pytest

        @pytest.mark.parametrize("n", range(12))
        def test_sees_only_its_own_jobs(mockjobs, n):
            mine = {mockjobs.start("export-data").id for _ in range(3)}
            with urllib.request.urlopen(mockjobs.rest_url + "/jobs?f=json") as r:
                ids = set(json.load(r)["asyncJobs"])
            static = {j.id for j in mockjobs.jobs(static=True)} - mine
            assert ids == mine | static
            assert {j.id for j in mockjobs.jobs()} == mine
            with open(f"seen-{n}.txt", "w") as out:
                out.write(f"{os.environ['PYTEST_XDIST_WORKER']} {mockjobs.url}")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--mockjobs-scenarios", "scen")
    result.assert_outcomes(passed=12)
    seen = {tuple((pytester.path / f"seen-{n}.txt").read_text().split()) for n in range(12)}
    workers = {worker: url for worker, url in seen}
    assert len(workers) == 2 and len(set(workers.values())) == 2 == len(seen)
