"""`mockjobs record` and `mockjobs import`: scenarios from real jobs that replay what was seen.

The pure functions and the polling loop run on injected fetch, sleep and clocks (no network,
no sleeping); the commands run against the reference page, JSON files and a real
`mockjobs serve`, and what they write is replayed through the app.
"""

from __future__ import annotations

import io
import json
import re
import signal
import socket
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from mockjobs.cli import main
from mockjobs.recorder import (
    HttpFetcher,
    JobRecorder,
    RecordError,
    RecordTimeout,
    extract_document,
    import_command,
    literal,
    name_from_type,
    record_command,
    safe_name,
    scenario_from_document,
    scenario_from_observations,
)
from mockjobs.scenarios import load_text
from mockjobs.timeline import Job, document
from tests import servers
from tests.conftest import REPO, scenario_folder
from tests.test_smoke import REFERENCE_JOB, reference_document

REFERENCE_PAGE = REPO / "tests" / "data" / "reference-job-page.txt"

SHORT_RUN = textwrap.dedent(
    """\
    name: short-run
    description: Four seconds, with codes, steps, an attribute change and literal braces.
    job:
      type: shortRun
      username: tester
      totalSteps: 3
      customAttributes: {missionId: "{missionId}", phase: setup}
    vars:
      missionId: {generate: hex32}
    timeline:
      - {at: 0, message: Started., code: 10, status: EXECUTING}
      - {at: 1s, message: 'Created layers of {missionId}.', code: 11, steps: 1, attributes: {phase: layers}}
      - {at: 2s, message: 'A {{literal}} brace.', code: 12, steps: 2}
      - {at: 3s, status: PROCESSING}
      - {at: 4s, message: Done., code: 13, steps: 3, status: COMPLETED}
    """
)
STUCK = textwrap.dedent(
    """\
    name: stuck
    job: {type: stuckJob, totalSteps: 2}
    timeline:
      - {at: 0, message: Started., code: 1, status: EXECUTING}
      - {at: 100ms, message: Waiting., code: 2, steps: 1}
      - {at: 1h, message: Done., steps: 2, status: COMPLETED}
    """
)


# --------------------------------------------------------------------------- helpers


def replay(text: str, job_id: str = "jreplayed-1", start_ms: int = 1_000_000, at_ms: float = 1e12) -> dict[str, Any]:
    """The document of a job of the scenario in text, started at start_ms, at mock time start_ms + at_ms."""
    scenario = load_text(text, "<test>")
    job = Job(job_id, scenario.name, scenario.source.version, {}, {}, start_ms)
    return document(scenario, job, int(start_ms + at_ms))


def doc(
    status: str,
    messages: list[str],
    codes: list[int] | None = None,
    steps: int = 0,
    start: int = 1_600_000_000_000,
    end: int = 0,
    **extras: Any,
) -> dict[str, Any]:
    """A job document shaped like the real server's."""
    return {
        "jobId": "j0b5e0c1a-1111-4222-8333-444455556666",
        "messages": messages,
        "startTime": start,
        "endTime": end,
        "type": "addMission",
        "status": status,
        "username": "alice",
        "customAttributes": {
            "stepsCompleted": steps,
            "isCancelled": False,
            **extras,
            "messageCodes": codes if codes is not None else [],
            "totalSteps": 4,
        },
    }


class FakeTime:
    """Wall and monotonic clocks that move only when the recorder sleeps (or a fetch says so)."""

    def __init__(self, wall_ms: float) -> None:
        self.wall = wall_ms
        self.mono = 50_000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.pass_ms(seconds * 1000)

    def pass_ms(self, ms: float) -> None:
        self.wall += ms
        self.mono += ms


def recorder(answers: list[Any], clock: FakeTime, **kwargs: Any) -> JobRecorder:
    """A JobRecorder whose polls answer answers in turn (exceptions are raised)."""
    feed: Iterator[Any] = iter(answers)

    def fetch() -> Any:
        answer = next(feed)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return JobRecorder(fetch, sleep=clock.sleep, wall_ms=lambda: clock.wall, monotonic_ms=lambda: clock.mono, **kwargs)


# --------------------------------------------------------------------------- import: pure


def test_reference_document_spreads_its_messages_evenly() -> None:
    draft = scenario_from_document(reference_document(), source="reference.txt")
    timeline = draft.scenario["timeline"]
    assert draft.name == "reference"
    assert [ev["at"] for ev in timeline[:3]] == ["0s", "6.631s", "13.262s"]
    assert timeline[0]["status"] == "EXECUTING"
    assert timeline[-1] == {
        "at": "1m6.311s",
        "message": "Finished creating mission d942d2bdb70c4104bcd1a76d4cf8a6b7.",
        "code": 1510,
        "steps": 5,
        "status": "COMPLETED",
    }
    assert [ev["code"] for ev in timeline] == reference_document()["customAttributes"]["messageCodes"]
    assert [ev["steps"] for ev in timeline if "steps" in ev] == [1, 2, 3, 4, 5]
    assert draft.scenario["job"] == {
        "type": "addMission",
        "username": "admin",
        "totalSteps": 5,
        "status": "SUBMITTED",
        "customAttributes": {"missionId": "d942d2bdb70c4104bcd1a76d4cf8a6b7"},
    }
    assert draft.scenario["jobs"] == [{"jobId": REFERENCE_JOB, "startTime": 1590523221196}]
    text = draft.to_yaml()
    assert "  - {at: 0s, message: Started mission creation., code: 1500, status: EXECUTING}\n" in text
    ref = reference_document()
    assert replay(text, REFERENCE_JOB, ref["startTime"]) == ref


def test_braces_newlines_and_nested_extras_come_back_as_they_were() -> None:
    original = doc(
        "FAILED",
        ["Reading {layer}: ok", "Line one\nline two: {{x}}", "Failed: 'quote' & }"],
        [7, 8, 9],
        steps=2,
        end=1_600_000_000_900,
        filter={"where": "{a} = 1", "ids": [1, "{b}"]},
        note=None,
    )
    draft = scenario_from_document(original)
    text = draft.to_yaml()
    assert replay(text, original["jobId"], original["startTime"]) == original
    assert draft.scenario["job"]["customAttributes"]["filter"] == {"where": "{{a}} = 1", "ids": [1, "{{b}}"]}


@pytest.mark.parametrize(
    ("messages", "end_offset", "expected"),
    [
        ([], 5000, [{"at": "0s", "status": "EXECUTING"}, {"at": "5s", "steps": 3, "status": "CANCELLED"}]),
        ([], 0, [{"at": "0s", "steps": 3, "status": "CANCELLED"}]),
        (
            ["Only."],
            2500,
            [
                {"at": "0s", "message": "Only.", "code": 4, "status": "EXECUTING"},
                {"at": "2.5s", "steps": 3, "status": "CANCELLED"},
            ],
        ),
        (["Only."], 0, [{"at": "0s", "message": "Only.", "code": 4, "steps": 3, "status": "CANCELLED"}]),
    ],
)
def test_few_messages_still_end_at_end_time(
    messages: list[str], end_offset: int, expected: list[dict[str, Any]]
) -> None:
    original = doc("CANCELLED", messages, [4] if messages else [], steps=3, end=1_600_000_000_000 + end_offset)
    original["customAttributes"]["isCancelled"] = True
    draft = scenario_from_document(original)
    assert draft.scenario["timeline"] == expected
    assert replay(draft.to_yaml(), original["jobId"], original["startTime"]) == original


def test_what_a_scenario_cannot_show_is_noted() -> None:
    original = doc("COMPLETED", ["One.", "Two."], [1, 2, 3, "x"], steps=1, start=0, end=0)
    original["jobId"] = "not a usable id!"
    draft = scenario_from_document(original, name="odd")
    assert [ev["at"] for ev in draft.scenario["timeline"]] == ["0s", "0s"]
    assert "jobs" not in draft.scenario
    joined = " | ".join(draft.notes)
    assert "not whole numbers" in joined
    assert "1 message code(s) without a message" in joined
    assert "give no duration" in joined
    assert "cannot be a static job's id" in joined
    text = draft.to_yaml()
    assert "# Note: 1 message code(s) without a message were left out." in text
    assert replay(text)["customAttributes"]["messageCodes"] == [1, 2]


@pytest.mark.parametrize(
    ("document_", "message"),
    [
        (doc("EXECUTING", ["Started."]), "the job is EXECUTING, not finished"),
        ({"error": {"code": 404, "message": "Job not found.", "details": []}}, "ArcGIS error 404: Job not found."),
        (
            {"error": {"code": 498, "message": "Invalid token.", "details": ["Token has expired."]}},
            "(Token has expired.)",
        ),
        ({"jobId": "j1", "messages": []}, "not a job document: it has no status"),
        ([1, 2], "expected a JSON object, got a list"),
    ],
)
def test_unusable_documents_are_refused(document_: Any, message: str) -> None:
    with pytest.raises(RecordError, match=re.escape(message)):
        scenario_from_document(document_)


def test_extract_document_finds_the_job_in_json_pjson_jsonp_and_pages() -> None:
    original = doc("COMPLETED", ["Done."], [1], end=1_600_000_001_000)
    assert extract_document(json.dumps(original)) == original
    assert extract_document(json.dumps(original, indent=2)) == original
    assert extract_document(f"/**/ cb({json.dumps(original)});") == original
    assert extract_document(REFERENCE_PAGE.read_text()) == reference_document()
    with pytest.raises(RecordError, match="no job document found"):
        extract_document("<html>{ not json }</html>")
    with pytest.raises(RecordError, match="ArcGIS error 499: Token Required"):
        extract_document('answer: {"error": {"code": 499, "message": "Token Required", "details": []}}')


def test_names() -> None:
    assert name_from_type("addMission") == "add-mission"
    assert name_from_type("createNewMissionService", "recorded") == "create-new-mission-service-recorded"
    assert name_from_type("esri_Job 2", "imported") == "esri_job-2-imported"
    assert safe_name("Job 1 (copy)") == "job-1-copy"
    assert safe_name("__") == ""
    assert literal({"a": ["{x}", 1, None]}) == {"a": ["{{x}}", 1, None]}


# --------------------------------------------------------------------------- record: pure


def test_recorder_places_each_change_at_the_job_time_it_was_first_seen() -> None:
    start = 1_600_000_000_000
    clock = FakeTime(start + 500)  # the first poll happens 0.5 s into the job
    polls = [
        doc("EXECUTING", ["Started."], [1], start=start, missionId="m1", phase="setup"),
        doc("EXECUTING", ["Started."], [1], start=start, missionId="m1", phase="setup"),
        doc("EXECUTING", ["Started.", "Layers {x}."], [1, 2], 1, start=start, missionId="m1", phase="layers"),
        doc("PROCESSING", ["Started.", "Layers {x}."], [1, 2], 1, start=start, missionId="m1", phase="layers"),
        # endTime says it finished 3.2 s in, before the poll (at 4.5 s) that saw it
        doc(
            "COMPLETED",
            ["Started.", "Layers {x}.", "Done."],
            [1, 2, 3],
            4,
            start,
            start + 3200,
            missionId="m1",
            phase="x",
        ),
    ]
    seen: list[tuple[str, float]] = []
    rec = recorder(polls, clock, interval_ms=1000, progress=lambda d, e: seen.append((d["status"], e)))
    observations = rec.run()
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]  # no real sleeping
    assert rec.polls == 5 and len(observations) == 4  # the repeated document is kept once
    assert [e for _, e in seen] == [500, 1500, 2500, 3500, 4500]
    draft = scenario_from_observations(observations, source="http://h/arcgis/rest/jobs/j1")
    assert draft.name == "add-mission-recorded"
    assert draft.scenario["job"]["customAttributes"] == {"missionId": "m1", "phase": "setup"}
    assert draft.scenario["timeline"] == [
        {"at": "0.5s", "message": "Started.", "code": 1, "status": "EXECUTING"},
        {"at": "2.5s", "message": "Layers {{x}}.", "code": 2, "steps": 1, "attributes": {"phase": "layers"}},
        {"at": "3.2s", "status": "PROCESSING"},  # seen at 3.5 s, but the job ended at 3.2 s
        {"at": "3.2s", "message": "Done.", "code": 3, "steps": 4, "status": "COMPLETED", "attributes": {"phase": "x"}},
    ]
    text = draft.to_yaml()
    assert "from http://h/arcgis/rest/jobs/j1" in text
    replayed = replay(text, polls[-1]["jobId"], start)
    assert replayed == {**polls[-1], "username": "alice"}


def test_without_start_time_job_time_counts_from_the_first_poll() -> None:
    clock = FakeTime(1_600_000_000_000)
    polls = [
        doc("SUBMITTED", [], start=0),
        doc("EXECUTING", ["Go.", "Set."], [5, 6], 1, start=0),
        doc("COMPLETED", ["Go.", "Set."], [5, 6], 4, 0, 0),
    ]
    observations = recorder(polls, clock, interval_ms=250).run()
    timeline = scenario_from_observations(observations).scenario["timeline"]
    assert timeline == [  # a running status comes with the first new message, steps with the last
        {"at": "0.25s", "message": "Go.", "code": 5, "status": "EXECUTING"},
        {"at": "0.25s", "message": "Set.", "code": 6, "steps": 1},
        {"at": "0.5s", "steps": 4, "status": "COMPLETED"},
    ]


def test_ctrl_c_keeps_what_was_seen_and_the_scenario_has_no_terminal_event() -> None:
    start = 1_600_000_000_000
    clock = FakeTime(start)
    polls = [
        doc("EXECUTING", ["Started."], [1], start=start),
        doc("EXECUTING", ["Started.", "More."], [1, 2], start=start),
    ]
    rec = recorder([*polls, KeyboardInterrupt()], clock)
    with pytest.raises(KeyboardInterrupt):
        rec.run()
    assert len(rec.observations) == 2
    draft = scenario_from_observations(rec.observations)
    assert all("COMPLETED" not in ev.values() for ev in draft.scenario["timeline"])
    text = draft.to_yaml()
    assert "Not finished: the recording stopped while the job was EXECUTING" in text
    assert replay(text)["status"] == "EXECUTING"
    assert replay(text)["messages"] == ["Started.", "More."]


def test_a_job_that_shows_no_change_still_gives_a_valid_scenario() -> None:
    clock = FakeTime(1_600_000_000_000)
    rec = recorder([doc("SUBMITTED", [], start=0), KeyboardInterrupt()], clock)
    with pytest.raises(KeyboardInterrupt):
        rec.run()
    draft = scenario_from_observations(rec.observations)
    assert draft.scenario["timeline"] == [{"at": "0s", "status": "SUBMITTED"}]
    assert replay(draft.to_yaml())["status"] == "SUBMITTED"


def test_a_job_finished_before_the_first_poll_is_spread_like_an_import() -> None:
    finished = doc("COMPLETED", ["A.", "B.", "C."], [1, 2, 3], 4, end=1_600_000_004_000)
    observations = recorder([finished], FakeTime(1_600_000_010_000)).run()
    draft = scenario_from_observations(observations)
    assert [ev["at"] for ev in draft.scenario["timeline"]] == ["0s", "2s", "4s"]
    assert "jobs" not in draft.scenario
    assert any("already finished" in note for note in draft.notes)
    assert replay(draft.to_yaml(), finished["jobId"], finished["startTime"]) == {**finished, "username": "alice"}


def test_transient_failures_are_tried_again_then_given_up() -> None:
    start = 1_600_000_000_000
    running = doc("EXECUTING", ["Started."], [1], start=start)
    flaky = RecordError("cannot reach h: reset", transient=True)
    notices: list[str] = []
    clock = FakeTime(start)
    rec = recorder(
        [running, flaky, flaky, doc("COMPLETED", ["Started."], [1], 4, start, start + 3000)],
        clock,
        notice=notices.append,
    )
    assert rec.run()[-1].document["status"] == "COMPLETED"
    assert len(notices) == 2 and "trying again (2/3)" in notices[1]
    rec = recorder([running, flaky, flaky, flaky, flaky], FakeTime(start), notice=notices.append)
    with pytest.raises(RecordError, match="reset"):
        rec.run()
    clock = FakeTime(start)
    with pytest.raises(RecordError, match="reset"):  # the first poll is not tried again
        recorder([flaky], clock).run()
    assert clock.sleeps == []


def test_arcgis_errors_and_timeouts_stop_the_recording() -> None:
    start = 1_600_000_000_000
    running = doc("EXECUTING", ["Started."], [1], start=start)
    expired = {"error": {"code": 498, "message": "Invalid token.", "details": []}}
    with pytest.raises(RecordError, match="ArcGIS error 498: Invalid token."):
        recorder([running, expired], FakeTime(start)).run()
    clock = FakeTime(start)
    with pytest.raises(RecordTimeout, match="timed out after 3s: the job is still EXECUTING"):
        recorder([running] * 10, clock, interval_ms=1000, timeout_ms=3000).run()
    assert clock.sleeps == [1.0, 1.0, 1.0]  # polls at 0, 1, 2 and 3 s; the next would be past 3 s


def test_record_command_writes_the_scenario_and_exit_statuses() -> None:
    start = 1_600_000_000_000
    polls = [
        doc("EXECUTING", ["Started."], [1], start=start),
        doc("COMPLETED", ["Started."], [1], 4, start, start + 900),
    ]
    out, err = io.StringIO(), io.StringIO()
    feed = iter(polls)
    assert (
        record_command(
            "http://h/j?token=secret", fetch=lambda: next(feed), sleep=lambda s: None, stdout=out, stderr=err
        )
        == 0
    )
    assert load_text(out.getvalue(), "<out>").name == "add-mission-recorded"
    assert err.getvalue().splitlines()[0].startswith("EXECUTING  steps 0/4  messages 1  elapsed ")
    assert "secret" not in out.getvalue() + err.getvalue()

    def interrupted() -> Any:
        raise KeyboardInterrupt

    out, err = io.StringIO(), io.StringIO()
    assert record_command("http://h/j", fetch=interrupted, stdout=out, stderr=err) == 130
    assert out.getvalue() == "" and "nothing was recorded" in err.getvalue()

    def gone() -> Any:
        return {"error": {"code": 404, "message": "Job not found.", "details": []}}

    out, err = io.StringIO(), io.StringIO()
    assert record_command("http://h/j", fetch=gone, stdout=out, stderr=err) == 1
    assert err.getvalue() == "mockjobs: http://h/j: ArcGIS error 404: Job not found.\n" and out.getvalue() == ""


def test_http_fetcher_sends_f_json_and_the_token_both_ways_and_never_shows_it() -> None:
    fetcher = HttpFetcher("https://h/arcgis/rest/jobs/j1?f=pjson&callback=cb&token=old&x=1#top", token="T0K")
    assert fetcher.url == "https://h/arcgis/rest/jobs/j1?x=1&f=json&token=T0K"
    assert fetcher.headers["X-Esri-Authorization"] == "Bearer T0K"
    assert fetcher.shown == "https://h/arcgis/rest/jobs/j1"
    assert "X-Esri-Authorization" not in HttpFetcher("http://h/j").headers
    with pytest.raises(RecordError, match="is not an http"):
        HttpFetcher("ftp://h/j")


# --------------------------------------------------------------------------- import: the command


def test_import_of_the_reference_page_replays_it_exactly(tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    folder = tmp_path / "imported"
    folder.mkdir()
    out = folder / "reference.yaml"
    assert main(["import", str(REFERENCE_PAGE), "--out", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["name"] == "reference-job-page"
    app = make_app(SCENARIOS=[str(folder)])
    r = app.test_client().get(f"/arcgis/rest/jobs/{REFERENCE_JOB}", query_string={"f": "json"})
    assert r.json == reference_document()
    assert r.data == json.dumps(reference_document(), separators=(",", ":")).encode()


def test_import_of_a_json_file_to_stdout_with_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = doc("FAILED", ["Started.", "Failed: {reason}."], [1, 9], 1, end=1_600_000_002_000)
    path = tmp_path / "My Job.json"
    path.write_text(json.dumps(original, indent=2))
    assert main(["import", str(path)]) == 0
    text = capsys.readouterr().out
    assert load_text(text, "<stdout>").name == "my-job"
    assert replay(text, original["jobId"], original["startTime"]) == original
    assert main(["import", str(path), "--name", "failed-run"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "failed-run"


def test_import_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing.json"
    assert main(["import", str(missing)]) == 1
    assert capsys.readouterr().err.startswith(f"mockjobs: {missing}: cannot read:")
    running = tmp_path / "running.json"
    running.write_text(json.dumps(doc("EXECUTING", ["Started."], [1])))
    assert import_command(str(running), out=str(tmp_path / "out.yaml")) == 1
    assert "not finished" in capsys.readouterr().err and not (tmp_path / "out.yaml").exists()
    assert main(["import", str(REFERENCE_PAGE), "--out", str(tmp_path / "no" / "such" / "dir.yaml")]) == 1
    assert "cannot write" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["import", str(REFERENCE_PAGE), "--name", "Not Valid"])
    assert exc.value.code == 2 and "is not a valid name" in capsys.readouterr().err


# --------------------------------------------------------------------------- record: a real server


@pytest.fixture(scope="module")
def secured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> servers.Server:
    """`mockjobs serve --auth` with the short-run and stuck scenarios (one server for this module)."""
    folder = scenario_folder(
        tmp_path_factory.mktemp("record") / "scn", {"short-run.yaml": SHORT_RUN, "stuck.yaml": STUCK}
    )
    return servers.launcher(request).serve(str(folder), "--auth", "--workers", "1")


@pytest.fixture(scope="module")
def token(secured: servers.Server) -> str:
    """A token of the secured server's admin."""
    r = secured.post("/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"})
    return r.json()["token"]


def start_job(srv: servers.Server, scenario: str, speed: float = 1.0) -> str:
    """Start a job through the control API; its URL."""
    r = srv.post("/__mock/jobs", json={"scenario": scenario, "speed": speed})
    assert r.status_code == 201, r.text
    return f"{srv.url}/arcgis/rest/jobs/{r.json()['jobId']}"


@pytest.mark.slow
def test_record_a_real_job_and_replay_it(
    secured: servers.Server,
    token: str,
    tmp_path: Path,
    make_app: Callable[..., Flask],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = start_job(secured, "short-run", speed=10)  # 4 s of scenario in 0.4 s
    folder = tmp_path / "recorded"
    folder.mkdir()
    out = folder / "short.yaml"
    assert main(["record", url, "--token", token, "--interval", "20ms", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "COMPLETED  steps 3/3  messages 4" in err and f"wrote {out}: scenario short-run-recorded" in err
    assert token not in out.read_text() + err
    assert main(["check", str(out)]) == 0
    original = secured.get(url.replace(secured.url, ""), params={"f": "json", "token": token}).json()

    client = make_app(SCENARIOS=[str(folder)]).test_client()
    r = client.post("/__mock/jobs", json={"scenario": "short-run-recorded"})
    assert r.status_code == 201, r.json
    job_id = r.json["jobId"]
    assert client.post(f"/__mock/jobs/{job_id}/advance", json={"to": "end"}).status_code == 200
    replayed = client.get(f"/arcgis/rest/jobs/{job_id}", query_string={"f": "json"}).json
    for key in ("status", "messages", "type", "username", "customAttributes"):
        assert replayed[key] == original[key], key
    assert replayed["endTime"] - replayed["startTime"] == original["endTime"] - original["startTime"]
    assert "A {literal} brace." in replayed["messages"]


@pytest.mark.slow
def test_record_errors_exit_1(secured: servers.Server, token: str, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = f"{secured.url}/arcgis/rest/jobs/jnot-there"
    assert main(["record", unknown, "--token", token]) == 1
    assert capsys.readouterr().err == (
        f"mockjobs: {unknown}: ArcGIS error 404: Job not found. (Job 'jnot-there' does not exist.)\n"
    )
    url = start_job(secured, "stuck")
    assert main(["record", url]) == 1
    assert "ArcGIS error 499: Token Required" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["record", f"http://127.0.0.1:{port}/arcgis/rest/jobs/j1"]) == 1
    assert f"mockjobs: cannot reach http://127.0.0.1:{port}/arcgis/rest/jobs/j1:" in capsys.readouterr().err
    assert main(["record", url, "--token", token, "--interval", "10ms", "--timeout", "200ms"]) == 1
    captured = capsys.readouterr()
    assert "timed out after 0.2s: the job is still EXECUTING" in captured.err
    assert load_text(captured.out, "<partial>").timeline[-1].status != "COMPLETED"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "soon"], "not a duration: 'soon'"),
        (["--interval", "0"], "must be more than 0"),
        (["--timeout", "1x"], "not a duration: '1x'"),
        (["--name", "Bad Name"], "is not a valid name"),
    ],
)
def test_bad_record_options_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["record", "http://127.0.0.1:9/arcgis/rest/jobs/j1", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_url_that_is_not_http_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "jobs/j1"]) == 2
    assert "'jobs/j1' is not an http(s) URL" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_writes_what_was_seen_and_exits_130(secured: servers.Server, token: str, tmp_path: Path) -> None:
    url = start_job(secured, "stuck")
    out, err = tmp_path / "partial.yaml", tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [servers.MOCKJOBS, "record", url, "--token", token, "--interval", "50ms", "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=servers.clean_env(),
        )
        try:
            servers.wait_until(lambda: "messages 2" in err.read_text(), timeout=15, what="two messages recorded")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(15) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "interrupted; writing what was seen so far" in err.read_text()
    scenario = load_text(out.read_text(), str(out))
    assert [ev.status for ev in scenario.timeline if ev.status] == ["EXECUTING"]
    assert [ev.code for ev in scenario.timeline] == [1, 2]
    assert "Not finished: the recording stopped while the job was EXECUTING" in out.read_text()
