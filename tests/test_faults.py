"""Faults and poll pace through real HTTP against real gunicorn (`mockjobs serve`, 2 workers)."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import servers
from tests.conftest import scenario_folder
from tests.servers import Launcher, Server

pytestmark = pytest.mark.slow

STEPS = textwrap.dedent(
    """\
    name: steps
    job: {type: stepJob, totalSteps: 3}
    timeline:
      - {at: 0, message: Started., status: EXECUTING}
      - {at: 5s, message: A., steps: 1}
      - {at: 10s, message: B., steps: 2}
      - {at: 20s, message: Done., steps: 3, status: COMPLETED}
    """
)
FAULTY = textwrap.dedent(
    """\
    name: faulty
    job: {type: faultyJob, totalSteps: 2}
    timeline:
      - {at: 0, message: Started., status: EXECUTING}
      - {at: 5s, message: Half., steps: 1}
      - {at: 10s, message: Done., steps: 2, status: COMPLETED}
    faults:
      - when: {poll: 3}
        do: {http: 503}
      - when: {every: 4, times: 2}
        do: {error: {code: 500, message: "Unable to complete operation.", details: [busy]}}
    """
)
PACED = textwrap.dedent(
    """\
    name: paced
    job: {type: pacedJob, pace: poll}
    timeline:
      - {at: 0, message: Submitted., status: EXECUTING}
      - {at: 1h, message: One., steps: 1}
      - {at: 2h, message: Two., steps: 2}
      - {at: 3h, message: Done., status: COMPLETED}
    """
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `mockjobs serve` with two gthread workers for the module; reset before each test."""
    folder = scenario_folder(
        tmp_path_factory.mktemp("faults") / "scn", {"steps.yaml": STEPS, "faulty.yaml": FAULTY, "paced.yaml": PACED}
    )
    launch = Launcher()
    try:
        yield launch.serve(str(folder), "--workers", "2")
    finally:
        launch.stop_all()


@pytest.fixture(autouse=True)
def fresh(srv: Server) -> None:
    """Every test starts from a reset server with a frozen clock (Retry-After then is exact)."""
    assert srv.post("/__mock/reset").status_code == 200
    assert srv.post("/__mock/clock", json={"freeze": True}).status_code == 200


def start(srv: Server, scenario: str = "steps", **body: Any) -> str:
    """A new job's id."""
    r = srv.post("/__mock/jobs", json={"scenario": scenario, **body})
    assert r.status_code == 201, r.text
    return r.json()["jobId"]


def poll(srv: Server, job_id: str, f: str = "json", **kwargs: Any) -> requests.Response:
    """One GET of the job resource on a new connection."""
    return srv.get(f"/arcgis/rest/jobs/{job_id}?f={f}", **kwargs)


def add_fault(srv: Server, **body: Any) -> dict[str, Any]:
    r = srv.post("/__mock/faults", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def journal(srv: Server, job_id: str) -> list[dict[str, Any]]:
    return [e for e in srv.get(f"/__mock/requests?jobId={job_id}").json()["requests"] if e.get("kind") == "poll"]


# --------------------------------------------------------------------------- conditions


def test_poll_3_answers_503_with_retry_after_until_the_next_event_and_counts_across_workers(srv: Server) -> None:
    job = start(srv, "faulty")
    codes = [poll(srv, job) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 503, 200, 200]
    assert codes[2].headers["Retry-After"] == "5"  # the next event (5s) is 5 s of mock time away
    assert codes[2].json()["error"]["code"] == 503
    assert "Retry-After" not in codes[1].headers
    # the 4th poll met faults[1] (every 4th, an envelope with HTTP 200)
    assert codes[3].json() == {"error": {"code": 500, "message": "Unable to complete operation.", "details": ["busy"]}}
    assert codes[4].json()["status"] == "EXECUTING"
    entries = journal(srv, job)
    assert [e.get("fault") for e in entries] == [
        None,
        None,
        {"id": "faulty.faults[0]", "effect": "http"},
        {"id": "faulty.faults[1]", "effect": "error"},
        None,
    ]
    assert [e["poll"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[2]["http"] == 503


def test_poll_counts_are_shared_by_the_workers(srv: Server) -> None:
    job = start(srv)
    add_fault(srv, jobId=job, when={"every": 2}, do={"http": 502, "retry_after": 1})
    answered: dict[int, int] = {}
    n = 0
    while n < 200 and (len(answered) < 2 or min(answered.values()) < 3):
        n += 1
        r = poll(srv, job)
        assert r.status_code == (502 if n % 2 == 0 else 200), f"poll {n}"
        pid = int(r.headers["X-Mockjobs-Worker"])
        answered[pid] = answered.get(pid, 0) + 1
    assert len(answered) == 2, "only one worker ever answered"


def test_every_with_times_fires_at_most_times_per_job(srv: Server) -> None:
    job = start(srv, "faulty")
    codes = [poll(srv, job).json().get("error", {}).get("code") for _ in range(13)]
    assert [i + 1 for i, c in enumerate(codes) if c == 500] == [4, 8]  # not 12: times: 2
    other = start(srv, "faulty")  # the cap is per job
    assert [poll(srv, other).json().get("error", {}).get("code") for _ in range(4)][3] == 500


def test_after_before_is_a_window_of_the_jobs_scenario_time(srv: Server) -> None:
    job = start(srv)
    add_fault(srv, jobId=job, when={"after": "5s", "before": "10s"}, do={"http": 504})
    assert poll(srv, job).status_code == 200  # at 0 s
    srv.post(f"/__mock/jobs/{job}/advance", json={"to": "5s"})
    r = poll(srv, job)
    assert r.status_code == 504 and r.headers["Retry-After"] == "5"
    srv.post(f"/__mock/jobs/{job}/advance", json={"to": "10s"})
    assert poll(srv, job).status_code == 200  # before is exclusive


def test_a_seeded_probability_fires_on_the_same_polls_on_every_run(srv: Server) -> None:
    def run() -> list[int]:
        srv.post("/__mock/reset")
        job = start(srv)
        add_fault(srv, when={"probability": 0.5, "seed": 7}, do={"http": 503, "retry_after": 0})
        return [i + 1 for i in range(24) if poll(srv, job).status_code == 503]

    first = run()
    assert 0 < len(first) < 24
    assert run() == first


# --------------------------------------------------------------------------- effects


def test_http_retry_after_given_explicitly(srv: Server) -> None:
    job = start(srv)
    add_fault(srv, jobId=job, when={"poll": 1}, do={"http": 429, "retry_after": "7s"})
    r = poll(srv, job, f="pjson")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert r.json()["error"]["message"] == "Too Many Requests"


def test_a_dropped_connection_is_a_connection_error_for_the_client(srv: Server) -> None:
    job = start(srv)
    fault = add_fault(srv, jobId=job, when={"poll": 2}, do={"drop": True})
    assert poll(srv, job).status_code == 200
    with pytest.raises(requests.ConnectionError):
        poll(srv, job)
    assert poll(srv, job).status_code == 200
    entries = journal(srv, job)
    assert entries[1]["fault"] == {"id": fault["id"], "effect": "drop"} and entries[1]["http"] is None
    assert "status" not in entries[1]  # the client saw nothing
    assert "Traceback" not in srv.output and "Error handling request" not in srv.output


def test_truncate_sends_a_cut_invalid_body(srv: Server) -> None:
    job = start(srv)
    add_fault(srv, jobId=job, when={"poll": 1}, do={"truncate": True})
    r = poll(srv, job)
    full = poll(srv, job).content  # the clock is frozen: the same document, whole
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    assert 0 < len(r.content) < len(full) and full.startswith(r.content)
    with pytest.raises(ValueError):
        json.loads(r.content)


def test_stale_answers_the_document_of_the_previous_event(srv: Server) -> None:
    job = start(srv)
    srv.post(f"/__mock/jobs/{job}/advance", json={"to": "10s"})
    add_fault(srv, jobId=job, when={"poll": 1}, do={"stale": True})
    stale = poll(srv, job).json()
    fresh = poll(srv, job).json()
    assert fresh["customAttributes"]["stepsCompleted"] == 2 and fresh["messages"] == ["Started.", "A.", "B."]
    assert stale["customAttributes"]["stepsCompleted"] == 1 and stale["messages"] == ["Started.", "A."]


def test_a_fault_never_changes_the_job(srv: Server) -> None:
    job = start(srv, "faulty")
    before = srv.get(f"/__mock/jobs/{job}").json()
    for _ in range(4):
        poll(srv, job)
    after = srv.get(f"/__mock/jobs/{job}").json()
    for key in ("status", "stepsCompleted", "startTime", "elapsed", "nextEventAt", "isCancelled"):
        assert after[key] == before[key]
    srv.post(f"/__mock/jobs/{job}/advance", json={"to": "end"})
    assert poll(srv, job).json()["status"] == "COMPLETED"


def test_a_delayed_poll_does_not_delay_another_jobs_poll(srv: Server) -> None:
    slow, other = start(srv), start(srv)
    add_fault(srv, jobId=slow, do={"delay": "4s"})
    took: list[float] = []

    def delayed() -> None:
        t0 = time.monotonic()
        assert poll(srv, slow).status_code == 200
        took.append(time.monotonic() - t0)

    thread = threading.Thread(target=delayed)
    thread.start()
    time.sleep(0.5)  # the delayed poll is in the server
    for _ in range(6):  # more polls than one worker has threads
        assert poll(srv, other).json()["status"] == "EXECUTING"
    assert thread.is_alive(), "the other job's polls waited for the delayed one"
    thread.join(15)
    assert took and took[0] >= 4.0


def test_plain_gunicorn_from_the_repository_root_does_not_stall_on_a_delay_either(
    launch: Launcher, tmp_path: Path
) -> None:
    folder = scenario_folder(tmp_path / "scn", {"steps.yaml": STEPS})
    plain = launch.gunicorn("app:app", cwd=servers.REPO, env={"MOCKJOBS_SCENARIOS": str(folder)})  # one worker
    slow, other = start(plain), start(plain)
    add_fault(plain, jobId=slow, do={"delay": "4s"})
    thread = threading.Thread(target=poll, args=(plain, slow))
    thread.start()
    time.sleep(0.5)
    assert poll(plain, other).json()["status"] == "EXECUTING"
    assert thread.is_alive(), "the one worker waited for the delayed poll"
    thread.join(15)
    assert "gthread" in plain.output.lower()


def test_a_delay_range_waits_within_it(srv: Server) -> None:
    job = start(srv)
    add_fault(srv, jobId=job, when={"poll": 1}, do={"delay": ["1s", "1500ms"]})
    t0 = time.monotonic()
    assert poll(srv, job).status_code == 200
    assert time.monotonic() - t0 >= 1.0
    assert journal(srv, job)[0]["fault"]["effect"] == "delay"


def test_the_poll_summary_lists_every_firing(srv: Server) -> None:
    job = start(srv, "faulty")
    for _ in range(4):
        poll(srv, job)
    summary = srv.get(f"/__mock/jobs/{job}/polls").json()
    assert summary["count"] == 4
    assert summary["faults"] == [
        {"poll": 3, "id": "faulty.faults[0]", "effect": "http"},
        {"poll": 4, "id": "faulty.faults[1]", "effect": "error"},
    ]
    assert srv.get(f"/__mock/jobs/{job}").json()["polls"]["faults"] == summary["faults"]


# --------------------------------------------------------------------------- control API


def test_faults_api_adds_lists_and_deletes_and_reset_removes_them(srv: Server) -> None:
    job = start(srv)
    one = add_fault(srv, jobId=job, when={"poll": 1}, do={"http": 503})
    two = add_fault(srv, scenario="steps", do={"delay": [0.1, 0.2]})
    three = add_fault(srv, when={"every": 3, "times": 1}, do={"stale": True})
    assert one["jobId"] == job and one["source"] == "api" and one["when"] == {"poll": 1}
    assert two["do"] == {"delay": [0.1, 0.2]} and "jobId" not in three and "scenario" not in three
    listed = srv.get("/__mock/faults").json()["faults"]
    assert [f["id"] for f in listed][:3] == [one["id"], two["id"], three["id"]]
    assert {f["id"] for f in listed[3:]} == {"faulty.faults[0]", "faulty.faults[1]"}
    assert all(f["source"] == "scenario" for f in listed[3:])

    assert srv.delete(f"/__mock/faults/{one['id']}").json() == {"deleted": one["id"]}
    assert srv.delete(f"/__mock/faults/{one['id']}").status_code == 404
    assert poll(srv, job).status_code == 200  # its poll 1 fault is gone
    assert srv.delete("/__mock/faults").json() == {"deleted": [two["id"], three["id"]]}
    add_fault(srv, do={"http": 500})
    srv.post("/__mock/reset")
    assert [f["source"] for f in srv.get("/__mock/faults").json()["faults"]] == ["scenario", "scenario"]


def test_a_scenarios_detail_shows_its_faults_and_pace(srv: Server) -> None:
    faulty = srv.get("/__mock/scenarios/faulty").json()
    assert faulty["faults"][0] == {
        "id": "faulty.faults[0]",
        "scenario": "faulty",
        "when": {"poll": 3},
        "do": {"http": 503},
        "source": "scenario",
    }
    assert faulty["job"]["pace"] == "clock"
    assert srv.get("/__mock/scenarios/paced").json()["job"]["pace"] == "poll"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"do": {"explode": True}}, "do.explode: unknown key; allowed here: http, retry_after, error, delay"),
        ({"when": {"times": 0}, "do": {"drop": True}}, "when.times: must be at least 1"),
        ({"when": {"probability": 1.5}, "do": {"drop": True}}, "when.probability: must be between 0 and 1"),
        ({"when": {"after": "20s", "before": "10s"}, "do": {"drop": True}}, "when.before: must be after 'after'"),
        ({"do": {"http": 503, "drop": True}}, "do: one effect per fault"),
        ({"do": {"delay": 1, "retry_after": 2}}, "do.retry_after: only an http effect has a Retry-After"),
        ({"jobId": "j1", "scenario": "steps", "do": {"drop": True}}, "scenario: give jobId or scenario"),
        ({"when": {"poll": 1}}, "do: required"),
    ],
)
def test_a_bad_fault_is_refused_with_field_and_message(srv: Server, body: dict[str, Any], message: str) -> None:
    r = srv.post("/__mock/faults", json=body)
    assert r.status_code == 400
    assert message in r.json()["error"]
    assert srv.get("/__mock/faults").json()["faults"][0]["source"] == "scenario"  # nothing was added


# --------------------------------------------------------------------------- pace


def test_the_nth_poll_of_a_paced_job_sees_the_state_after_its_nth_event(srv: Server) -> None:
    job = start(srv, "paced")  # pace: poll in the scenario, events an hour apart, clock frozen
    seen = [poll(srv, job).json() for _ in range(5)]
    assert [d["status"] for d in seen] == ["EXECUTING", "EXECUTING", "EXECUTING", "COMPLETED", "COMPLETED"]
    assert [len(d["messages"]) for d in seen] == [1, 2, 3, 4, 4]
    assert srv.get(f"/__mock/jobs/{job}").json()["pace"] == "poll"
    r = srv.post(f"/__mock/jobs/{job}/advance", json={"to": "end"})
    assert r.status_code == 400 and "paced by its polls" in r.json()["error"]


def test_a_cancelled_paced_job_plays_its_cancel_story_one_event_per_poll(srv: Server) -> None:
    job = start(srv, "paced")
    assert [poll(srv, job).json()["messages"][-1] for _ in range(2)] == ["Submitted.", "One."]
    assert srv.post(f"/__mock/jobs/{job}/cancel").status_code == 200
    statuses = [poll(srv, job).json()["status"] for _ in range(3)]
    assert statuses == ["CANCELLING", "CANCELLED", "CANCELLED"]


def test_pace_poll_through_post_jobs_and_faults_count_as_polls(srv: Server) -> None:
    job = start(srv, pace="poll")  # steps follows the clock unless told
    add_fault(srv, jobId=job, when={"poll": 2}, do={"http": 503})
    first, second, third = (poll(srv, job) for _ in range(3))
    assert first.json()["customAttributes"]["stepsCompleted"] == 0
    assert second.status_code == 503 and second.headers["Retry-After"] == "0"  # the next poll brings the next event
    assert third.json()["customAttributes"]["stepsCompleted"] == 2
    assert srv.post("/__mock/jobs", json={"scenario": "steps", "pace": "fast"}).status_code == 400
