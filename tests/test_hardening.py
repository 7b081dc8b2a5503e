"""Regression tests of issue 9's adversarial pass: each hostile input gets a clear 4xx, never a 500."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockjobs.limits import MAX_BODY_BYTES, MAX_EPOCH_MS, MAX_EVENTS, MAX_SCENARIO_BYTES
from tests.conftest import scenario_folder

MOCKJOBS = [sys.executable, "-m", "mockjobs.cli"]
TRIGGERED = """\
name: secretive
job: {type: secretJob}
trigger:
  path: /rest/services/secretive
  params:
    missionId: {required: true}
    priority: {default: normal}
timeline:
  - {at: 0, message: "Mission {params.missionId} at {params.priority}", status: EXECUTING}
  - {at: 10s, status: COMPLETED}
"""


def check(*args: str) -> subprocess.CompletedProcess[str]:
    """`mockjobs check ARGS`, captured."""
    return subprocess.run([*MOCKJOBS, "check", *args], capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- speed and time


@pytest.mark.parametrize("speed", [5e-324, 1e-320, 1e-300, 0.0009])
def test_a_speed_too_small_to_compute_with_is_refused(client, speed: float) -> None:
    r = client.post("/__mock/jobs", json={"scenario": "add-mission", "speed": speed})
    assert r.status_code == 400
    assert r.json["error"].startswith("speed: must be between 0.001 and 1e+06")
    assert client.get("/__mock/jobs").status_code == 200  # nothing was saved that breaks the list
    assert client.get("/").status_code == 200


def test_the_slowest_and_fastest_jobs_list_and_advance(client) -> None:
    for speed in (0.001, 1e6):
        job = client.post("/__mock/jobs", json={"scenario": "add-mission", "speed": speed}).json["jobId"]
        assert client.get(f"/__mock/jobs/{job}").status_code == 200
        moved = client.post(f"/__mock/jobs/{job}/advance", json={"by": 3_000_000_000})
        assert moved.status_code == 200, moved.json
        assert client.post(f"/__mock/jobs/{job}/advance", json={"to": "end"}).status_code == 200
    assert client.get("/__mock/jobs").status_code == 200


@pytest.mark.parametrize("speed", ["1e-320", "5e-324", "0"])
def test_a_static_speed_too_small_is_a_file_error(make_app, tmp_path: Path, speed: str) -> None:
    text = f"name: slow\njob: {{type: x}}\ntimeline: [{{at: 0}}]\njobs: [{{jobId: jslow, speed: {speed}}}]\n"
    folder = scenario_folder(tmp_path / "scn", {"slow.yaml": text})
    client = make_app(SCENARIOS=[str(folder)]).test_client()
    [error] = client.get("/__mock/health").json["errors"]
    assert "jobs[0].speed: must be between 0.001 and 1e+06" in error
    assert client.get("/__mock/jobs").status_code == 200


def test_a_static_start_time_past_year_9999_fails_check_and_post_atomically(client, tmp_path: Path) -> None:
    text = "name: far\njob: {type: x}\ntimeline: [{at: 0}]\njobs: [{jobId: jfar, startTime: 100000000000000000000}]\n"
    folder = scenario_folder(tmp_path / "scn", {"far.yaml": text})
    checked = check(str(folder))
    assert checked.returncode == 1
    assert f"far.yaml:4: jobs[0].startTime: must be epoch ms between 0 and {MAX_EPOCH_MS}" in checked.stdout
    for _ in range(2):  # refused, and nothing left registered: the second POST is refused the same way
        r = client.post("/__mock/scenarios", data=text, content_type="application/yaml")
        assert r.status_code == 400 and "startTime" in r.json["error"]
    fixed = text.replace("100000000000000000000", str(MAX_EPOCH_MS))
    assert client.post("/__mock/scenarios", data=fixed, content_type="application/yaml").status_code == 201
    assert client.get("/__mock/jobs/jfar").json["startTime"] == MAX_EPOCH_MS


def test_a_created_job_start_time_is_bounded(client) -> None:
    r = client.post("/__mock/jobs", json={"scenario": "add-mission", "startTime": MAX_EPOCH_MS + 1})
    assert r.status_code == 400 and "startTime" in r.json["error"]


# --------------------------------------------------------------------------- query strings


@pytest.mark.parametrize(
    "query",
    ["offset=9223372036854775808", "limit=9223372036854775808", "limit=%C2%B2", "offset=%E2%91%A0", "limit=-1"],
)
def test_paging_numbers_out_of_range_or_not_ascii_are_400s(client, query: str) -> None:
    r = client.get(f"/__mock/jobs?{query}")
    assert r.status_code == 400
    assert "must be a whole number from 0 to" in r.json["error"]


def test_the_dashboard_ignores_a_unicode_refresh(client) -> None:
    assert client.get("/?refresh=%C2%B2").status_code == 200
    assert client.get("/?refresh=99999999999999999999999").status_code == 200


# --------------------------------------------------------------------------- YAML and sizes


@pytest.mark.parametrize(("char", "code"), [("\x07", "0007"), ("\x1b", "001B"), ("\x9b", "009B")])
def test_control_characters_are_one_error_on_their_line(client, tmp_path: Path, char: str, code: str) -> None:
    text = f"name: ctl\njob:\n  type: x\ntimeline:\n  - at: 0\n    message: a{char}b\n"
    r = client.post("/__mock/scenarios", data=text.encode(), content_type="application/yaml; charset=utf-8")
    assert r.status_code == 400
    assert r.json["errors"] == [
        f"<api>:6: YAML: the control character U+{code} at column 15 is not allowed;"
        " remove it, or write it as an escape (\\x07, \\u001b) inside double quotes"
    ]
    folder = scenario_folder(tmp_path / "scn", {"ctl.yaml": text})
    checked = check(str(folder))
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [f"{folder / 'ctl.yaml'}:6: {r.json['errors'][0].split(':', 2)[2].strip()}"]


def test_a_hundred_thousand_events_are_refused_at_once_by_size(client) -> None:
    text = "name: big\njob: {type: x}\ntimeline:\n" + "".join(f"- {{at: {i}}}\n" for i in range(100_000))
    started = time.perf_counter()
    r = client.post("/__mock/scenarios", data=text, content_type="application/yaml")
    assert r.status_code == 413
    assert f"larger than {MAX_BODY_BYTES} bytes" in r.json["error"]
    yaml_big = "name: big\njob: {type: x}\ntimeline:\n" + "".join(f"- {{at: {i}}}\n" for i in range(40_000))
    assert MAX_SCENARIO_BYTES < len(yaml_big) < MAX_BODY_BYTES
    r = client.post("/__mock/scenarios", data=yaml_big, content_type="application/yaml")
    assert r.status_code == 400
    assert r.json["errors"] == [
        f"<api>:1: {len(yaml_big)} bytes; a scenario holds at most {MAX_SCENARIO_BYTES} (512 KiB)"
    ]
    assert time.perf_counter() - started < 30  # generous on a shared machine; the point is: not minutes


def test_too_many_events_name_the_limit_without_mentioning_aliases(client) -> None:
    text = "name: many\njob: {type: x}\ntimeline:\n" + "".join(f"- {{at: {i}}}\n" for i in range(MAX_EVENTS + 1))
    r = client.post("/__mock/scenarios", data=text, content_type="application/yaml")
    assert r.status_code == 400
    assert r.json["errors"] == [f"<api>:3: timeline: more than {MAX_EVENTS} events, the limit of one story"]
    assert "alias" not in r.json["error"]


def test_a_body_above_the_limit_is_a_413_naming_it(client) -> None:
    r = client.post("/__mock/jobs", data=b"{" + b" " * MAX_BODY_BYTES + b"}", content_type="application/json")
    assert r.status_code == 413 and "1 MiB" in r.json["error"]


# --------------------------------------------------------------------------- secrets and files


def test_secret_params_are_masked_in_every_listing(make_app, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"secretive.yaml": TRIGGERED})
    client = make_app(SCENARIOS=[str(folder)]).test_client()
    r = client.post(
        "/arcgis/rest/services/secretive?f=json&token=T0KEN",
        data={"missionId": "m1", "password": "hunter2", "apiKey": "K3Y"},
    )
    assert r.status_code == 200, r.text
    job = r.json["jobId"]
    listed = client.get("/__mock/jobs").json["jobs"]
    shown = next(j for j in listed if j["jobId"] == job)["params"]
    assert shown == {"missionId": "m1", "password": "***", "apiKey": "***", "priority": "normal"}
    assert client.get(f"/__mock/jobs/{job}").json["params"]["password"] == "***"
    for text in (client.get("/").text, client.get("/__mock/requests").text, client.get("/__mock/jobs").text):
        assert "hunter2" not in text and "K3Y" not in text and "T0KEN" not in text


def test_trigger_params_required_and_default(make_app, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"secretive.yaml": TRIGGERED})
    client = make_app(SCENARIOS=[str(folder)]).test_client()
    r = client.post("/arcgis/rest/services/secretive?f=json", data={"missionID": "m1"})
    assert r.json["error"]["code"] == 400
    assert r.json["error"]["details"] == [
        "the parameter 'missionId' is required (the request has 'missionID': check the spelling)"
    ]
    job = client.post("/arcgis/rest/services/secretive?f=json", data={"missionId": "m2"}).json["jobId"]
    doc = client.get(f"/arcgis/rest/jobs/{job}?f=json").json
    assert doc["messages"] == ["Mission m2 at normal"]


def test_a_param_both_required_and_defaulted_is_a_file_error(tmp_path: Path) -> None:
    bad = TRIGGERED.replace("{required: true}", "{required: true, default: x}")
    folder = scenario_folder(tmp_path / "scn", {"secretive.yaml": bad})
    checked = check(str(folder))
    assert checked.returncode == 1
    assert "secretive.yaml:6: trigger.params.missionId: give required: true or a default, not both" in checked.stdout


def test_state_files_are_private(make_app, tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.db"
    client = make_app(STATE=str(state)).test_client()
    client.post("/__mock/jobs", json={"scenario": "add-mission"})
    client.get("/arcgis/rest/jobs?f=json")  # journaled
    found = [p for p in state.parent.rglob("*") if p.is_file()]
    assert {p.name for p in found} >= {"state.db", "state.db-lock"}  # the journal is a table of state.db
    for p in found:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 1 MiB tmpfs (mounting needs root): the state lives on it, and a file fills it up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """A file that takes every free byte of disk."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_a_clear_507_and_the_mock_recovers(make_app, small_disk: Path) -> None:
    client = make_app(STATE=str(small_disk / "state.db")).test_client()
    before = [client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"] for _ in range(3)]
    filler = fill(small_disk)
    answers = []
    for _ in range(500):  # SQLite first fills the pages it already has
        r = client.post("/__mock/jobs", json={"scenario": "add-mission", "vars": {}})
        answers.append(r.status_code)
        if r.status_code != 201:
            break
        before.append(r.json["jobId"])
    assert answers[-1] == 507
    assert "the disk holding the mock's state is full" in r.json["error"]
    assert "Free some space" in r.json["error"]
    assert client.get("/__mock/jobs").status_code == 200  # reading goes on
    assert client.get(f"/arcgis/rest/jobs/{before[0]}?f=json").status_code == 200
    filler.unlink()
    again = client.post("/__mock/jobs", json={"scenario": "add-mission"})
    assert again.status_code == 201, again.json
    listed = {j["jobId"] for j in client.get("/__mock/jobs?polls=false").json["jobs"]}
    assert set(before) | {again.json["jobId"]} <= listed  # nothing created before was lost


# --------------------------------------------------------------------------- authoring errors


def test_events_out_of_file_order_warn_and_fail_strict(tmp_path: Path) -> None:
    text = "name: typo\njob: {type: x}\ntimeline:\n  - at: 10s\n  - at: 1s\n  - {at: 20s, status: COMPLETED}\n"
    folder = scenario_folder(tmp_path / "scn", {"typo.yaml": text})
    warning = (
        f"{folder / 'typo.yaml'}:5: timeline[1].at: 1s comes before timeline[0] at 10s above it;"
        " events replay in time order, so this one runs first (a typo? put the events in time order)"
    )
    loose = check(str(folder))
    assert loose.returncode == 0 and loose.stdout.splitlines()[0] == f"warning: {warning}"
    strict = check("--strict", str(folder))
    assert strict.returncode == 1 and strict.stdout.splitlines() == [warning]


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        (
            "job: {type: x}\ntimeline:\n  - {at: 0, message: {jobId} started}\n",
            3,
            "YAML: while parsing a flow mapping; expected ',' or '}', but got '<scalar>', column 30"
            ' (quote text that holds {placeholders}, e.g. message: "Step {n} of {total}")',
        ),
        (
            "job: {type: x}\ntimeline:\n  - at: 0\n    message: {jobId} started\n",
            4,
            "(quote text that holds {placeholders}",
        ),
        ("job:\n\ttype: x\ntimeline: [{at: 0}]\n", 2, "column 1 (YAML indents with spaces, never tabs)"),
        ("job:\n  type: x\n timeline:\n  - at: 0\n", 3, "column 2 (check the indentation"),
    ],
)
def test_yaml_syntax_errors_give_the_column_and_a_hint(tmp_path: Path, text: str, line: int, phrase: str) -> None:
    folder = scenario_folder(tmp_path / "scn", {"bad.yaml": text})
    checked = check(str(folder))
    assert checked.returncode == 1
    [error] = checked.stdout.splitlines()
    assert error.startswith(f"{folder / 'bad.yaml'}:{line}: YAML: ") and phrase in error


def test_unknown_keys_and_names_suggest_the_close_one(client, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"t.yaml": "job: {type: x, totalStep: 3}\ntimelin: [{at: 0}]\n"})
    out = check(str(folder)).stdout
    assert "job.totalStep: unknown key (did you mean 'totalSteps'?); allowed here:" in out
    assert "timelin: unknown key (did you mean 'timeline'?); allowed here:" in out
    r = client.post("/__mock/jobs", json={"scenario": "add-misson"})
    assert r.status_code == 404 and "no scenario 'add-misson'; did you mean 'add-mission'?" in r.json["error"]


def test_check_bundled_catches_a_clash_with_a_bundled_scenario(tmp_path: Path) -> None:
    folder = scenario_folder(
        tmp_path / "scn", {"mine.yaml": "name: add-mission\njob: {type: x}\ntimeline: [{at: 0}]\n"}
    )
    assert check(str(folder)).returncode == 0
    clash = check("--bundled", str(folder))
    assert clash.returncode == 1
    assert clash.stdout.splitlines() == [
        f"{folder / 'mine.yaml'}:1: name: 'add-mission' is the name of a bundled scenario"
        " (scenarios/add-mission.yaml); give yours another name"
    ]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([*MOCKJOBS, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"mockjobs: port {port} on 127.0.0.1 is already in use (another server?); stop it, or pick --port N (0: any)"
    ]


def test_a_lone_unquoted_placeholder_says_to_quote_it(tmp_path: Path) -> None:
    text = "job: {type: x}\ntimeline:\n  - at: 0\n    message: {jobId}\n"
    folder = scenario_folder(tmp_path / "scn", {"lone.yaml": text})
    assert check(str(folder)).stdout.splitlines() == [
        f"{folder / 'lone.yaml'}:4: timeline[0].message: must be text; {{jobId}} was read as a mapping:"
        ' quote text that starts with a placeholder, "{jobId}"'
    ]


@pytest.mark.parametrize("speed", [0.3, 1 / 3, 0.001, 7, 2.5, 1e6])
def test_each_event_shows_exactly_at_its_next_event_time(client, speed: float) -> None:
    client.post("/__mock/clock", json={"freeze": True, "set": 1_700_000_000_000})
    job = client.post("/__mock/jobs", json={"scenario": "add-mission", "speed": speed}).json["jobId"]
    seen = 0
    state = client.get(f"/__mock/jobs/{job}").json
    while state["nextEventTime"] is not None and seen < 30:
        at, when = state["nextEventAt"], state["nextEventTime"]
        client.post("/__mock/clock", json={"set": when - 1})
        before = client.get(f"/__mock/jobs/{job}").json
        assert before["elapsed"] < at and before["nextEventAt"] == at  # not yet, a millisecond before
        client.post("/__mock/clock", json={"set": when})
        state = client.get(f"/__mock/jobs/{job}").json
        assert state["elapsed"] >= at and state["nextEventAt"] != at  # shown at that very millisecond
        seen += 1
    assert seen >= 1 and state["status"] == "COMPLETED"  # at 1e6 several events share a millisecond
    doc = client.get(f"/arcgis/rest/jobs/{job}?f=json").json
    assert doc["endTime"] <= client.get("/__mock/clock").json["now"]  # never after the event shows


def test_an_empty_document_is_reported_on_a_line_of_the_file(tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"empty.yaml": "---"})  # found by hypothesis: line 2 of a 1-line file
    assert check(str(folder)).stdout.splitlines() == [
        f"{folder / 'empty.yaml'}:1: a scenario is a mapping (job:, timeline:, ...); this file is empty"
    ]
