"""State shared by the workers of one server, and kept across restarts with --state."""

from __future__ import annotations

import os
import signal
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import scenario_folder
from tests.servers import Launcher, Server, wait_until

pytestmark = pytest.mark.slow

CLOCK = 1_800_000_000_000
STEPS = textwrap.dedent(
    """\
    name: steps
    job:
      type: stepJob
      customAttributes: {label: "{label}"}
    vars:
      label: none
    timeline:
      - {at: 0, message: "Started {params.title}.", status: EXECUTING}
      - {at: 5s, message: A., steps: 1}
      - {at: 10s, message: B., steps: 2}
      - {at: 20s, message: Done., steps: 3, status: COMPLETED}
    jobs:
      - jobId: jsteps-static
        startTime: 1590523221196
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenario folder holding the 'steps' scenario."""
    return scenario_folder(tmp_path / "scn", {"steps.yaml": STEPS})


def answers(
    srv: Server, paths: list[str], pids: set[int], least: int = 50, rounds: int = 20
) -> list[tuple[int, str, dict]]:
    """GET every path, each time on a new connection, until every worker answered and least were made."""
    out: list[tuple[int, str, dict]] = []
    for _ in range(rounds):
        responses = srv.parallel(lambda p: (p, srv.get(p)), paths * 2)
        for path, r in responses:
            assert r.status_code == 200, r.text
            out.append((int(r.headers["X-Mockjobs-Worker"]), path, r.json()))
        if {pid for pid, _, _ in out} >= pids and len(out) >= least:
            return out
    raise AssertionError(f"workers {sorted(pids - {pid for pid, _, _ in out})} never answered")


def test_four_workers_agree_on_jobs_clock_and_journal(launch: Launcher, folder: Path) -> None:
    srv = launch.serve(str(folder), "--workers", "4")
    pids = srv.worker_pids(4)
    assert srv.delete("/__mock/requests").status_code == 200
    assert srv.post("/__mock/clock", json={"freeze": True, "set": CLOCK}).json()["now"] == CLOCK
    for job_id in ("ja", "jb", "jc"):
        body = {"scenario": "steps", "jobId": job_id, "vars": {"label": job_id}, "params": {"title": job_id.upper()}}
        created = srv.post("/__mock/jobs", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["startTime"] == CLOCK
    assert srv.post("/__mock/clock", json={"advance": "6s"}).json()["now"] == CLOCK + 6000
    assert srv.post("/__mock/jobs/jb/advance", json={"by": "5s"}).json()["startTime"] == CLOCK - 5000
    assert srv.post("/__mock/jobs/jc/cancel").status_code == 200

    paths = [f"/arcgis/rest/jobs/{j}?f=json" for j in ("ja", "jb", "jc")] + ["/__mock/clock", "/__mock/health"]
    seen = answers(srv, paths, pids)
    assert {pid for pid, _, _ in seen} == pids
    by_path: dict[str, list[dict]] = {}
    for _, path, doc in seen:
        doc.pop("pid", None)  # /__mock/health names the worker that answered
        doc.pop("journal", None)  # ...counts the journal, which grows with these very requests
        doc.pop("servers", None)  # ...and lists the workers heard of so far
        doc.get("clock", doc).pop("offsetMs", None)  # a frozen clock's offset from real time grows
        by_path.setdefault(path, []).append(doc)
    for path, docs in by_path.items():
        assert all(d == docs[0] for d in docs), f"workers disagree on {path}"
    ja, jb, jc = (by_path[f"/arcgis/rest/jobs/{j}?f=json"][0] for j in ("ja", "jb", "jc"))
    assert ja["messages"] == ["Started JA.", "A."] and ja["startTime"] == CLOCK
    assert jb["messages"] == ["Started JB.", "A.", "B."] and jb["startTime"] == CLOCK - 5000
    assert jb["customAttributes"]["label"] == "jb" and jb["customAttributes"]["stepsCompleted"] == 2
    assert jc["customAttributes"]["isCancelled"] is True
    assert by_path["/__mock/clock"][0]["now"] == CLOCK + 6000
    assert by_path["/__mock/health"][0]["jobs"] == 4  # three and the static one

    journal = srv.get("/__mock/requests").json()
    job_gets = [(pid, p) for pid, p, _ in seen if p.startswith("/arcgis/")]
    assert journal["count"] == len(job_gets)
    assert Counter(e["worker"] for e in journal["requests"]) == Counter(pid for pid, _ in job_gets)
    assert srv.get("/__mock/requests?jobId=jb").json()["count"] == sum(1 for _, p in job_gets if "/jb?" in p)
    assert srv.get("/__mock/jobs/jb/polls").json()["count"] == sum(1 for _, p in job_gets if "/jb?" in p)


@pytest.mark.parametrize("preload", [False, True], ids=["per-worker-app", "preload"])
def test_gunicorn_workers_share_one_temporary_state(
    launch: Launcher, folder: Path, tmp_path: Path, preload: bool
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"MOCKJOBS_SCENARIOS": str(folder), "TMPDIR": str(tmp)}
    args = ["--workers", "3", *(["--preload"] if preload else [])]
    srv = launch.gunicorn("mockjobs:create_app()", *args, cwd=tmp_path, env=env)
    pids = srv.worker_pids(3)
    assert srv.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jshared"}).status_code == 201
    srv.on_every_worker(lambda s: s.get("/__mock/jobs/jshared"), pids, lambda r: r.status_code == 200)
    folders = list(tmp.glob("mockjobs-gunicorn-*"))
    assert len(folders) == 1 and (folders[0] / "state.db").exists()
    srv.stop()
    if preload:  # the master built the app: it removes the state when it ends
        assert not folders[0].exists()
        return
    again = launch.gunicorn("mockjobs:create_app()", *args, cwd=tmp_path, env=env)
    assert again.get("/__mock/jobs/jshared").status_code == 404  # a new server, a new state
    assert not folders[0].exists()  # the ended master's folder is swept at the next start
    assert len(list(tmp.glob("mockjobs-gunicorn-*"))) == 1


def test_serve_temporary_state_outlives_a_restarted_worker(launch: Launcher, folder: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    srv = launch.serve(str(folder), "--workers", "2", env={"TMPDIR": str(tmp)})
    pids = srv.worker_pids(2)
    assert srv.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jkept"}).status_code == 201
    victim = min(pids)
    os.kill(victim, signal.SIGTERM)  # a worker of the server this test started
    srv.wait_for(rf"Worker exiting \(pid: {victim}\)")
    new = srv.worker_pids(2) - {victim}
    assert len(new) == 2
    srv.on_every_worker(lambda s: s.get("/__mock/jobs/jkept"), new, lambda r: r.status_code == 200)
    assert list(tmp.glob("mockjobs-*"))
    srv.stop()
    assert not list(tmp.glob("mockjobs-*"))  # the master removed it on the way out


def test_state_file_keeps_jobs_and_clock_across_restarts(launch: Launcher, folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "keep" / "state.db"
    first = launch.serve(str(folder), "--workers", "2", "--state", str(state))
    first.post("/__mock/clock", json={"freeze": True, "set": CLOCK})
    bodies = [
        {"scenario": "steps", "jobId": "jone", "vars": {"label": "one"}, "params": {"title": "T1"}},
        {"scenario": "steps", "jobId": "jtwo", "startTime": CLOCK - 12_000, "speed": 2},
        {"scenario": "steps", "jobId": "jthree"},
    ]
    for body in bodies:
        assert first.post("/__mock/jobs", json=body).status_code == 201
    first.post("/__mock/jobs/jone/advance", json={"to": "next"})
    first.post("/__mock/jobs/jthree/cancel")
    first.post("/__mock/clock", json={"advance": "3s"})

    def snapshot(srv: Server) -> tuple[dict, dict, list[dict]]:
        jobs = srv.get("/__mock/jobs?polls=false").json()
        for job in jobs["jobs"]:
            assert job.pop("url").startswith(srv.url)  # the port differs from run to run
        docs = [srv.get(f"/arcgis/rest/jobs/{j['jobId']}?f=json").json() for j in jobs["jobs"]]
        clock = srv.get("/__mock/clock").json()
        clock.pop("offsetMs")  # a frozen clock's offset from real time grows; its time does not
        return clock, jobs, docs

    before = snapshot(first)
    assert [j["jobId"] for j in before[1]["jobs"]] == ["jsteps-static", "jone", "jtwo", "jthree"]
    first.stop()

    second = launch.serve(str(folder), "--workers", "2", "--state", str(state))
    after = snapshot(second)
    assert after == before
    clock, jobs, docs = after
    assert clock["frozen"] is True and clock["now"] == CLOCK + 3000
    one, two, three = jobs["jobs"][1:]
    assert one["vars"] == {"label": "one"} and one["params"] == {"title": "T1"}
    assert two["startTime"] == CLOCK - 12_000 and two["speed"] == 2
    assert three["isCancelled"] is True and docs[3]["customAttributes"]["isCancelled"] is True
    assert f"{second.url}/arcgis/rest/jobs/jsteps-static?f=pjson" in second.output
    wait_until(lambda: second.get("/__mock/jobs/jtwo").json()["status"] == "COMPLETED", what="jtwo stays done")
