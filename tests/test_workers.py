"""State shared by the workers of one server, and kept across restarts with --state."""

from __future__ import annotations

import os
import signal
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO, scenario_folder
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


def created_on_one_polled_on_another(srv: Server, jobs: int = 6, least: int = 60, rounds: int = 40) -> None:
    """Create jobs, then poll them (least polls at least) until each was answered by a worker that did not make it."""
    creator: dict[str, int] = {}
    for n in range(jobs):
        created = srv.post("/__mock/jobs", json={"scenario": "steps", "jobId": f"jw{n}"})
        assert created.status_code == 201, created.text
        creator[f"jw{n}"] = int(created.headers["X-Mockjobs-Worker"])
    crossed: set[str] = set()
    polls = 0
    for _ in range(rounds):
        for job_id, r in srv.parallel(lambda j: (j, srv.get(f"/arcgis/rest/jobs/{j}?f=json")), sorted(creator) * 2):
            polls += 1
            doc = r.json()
            assert r.status_code == 200 and doc.get("jobId") == job_id, f"{job_id} on {r.headers}: {doc}"
            if int(r.headers["X-Mockjobs-Worker"]) != creator[job_id]:
                crossed.add(job_id)
        if crossed == set(creator) and polls >= least:
            return
    raise AssertionError(f"jobs {sorted(set(creator) - crossed)} were only ever polled on the worker that made them")


SHARED = [
    pytest.param("app:app", (), None, id="root-gunicorn.conf.py"),
    pytest.param("app:app", ("--preload",), None, id="root-gunicorn.conf.py-preload"),
    pytest.param("mockjobs:create_app()", ("-c", "python:mockjobs.gunicorn_conf"), "elsewhere", id="python-conf"),
    pytest.param(
        "mockjobs:create_app()", ("-c", "python:mockjobs.gunicorn_conf", "--preload"), "elsewhere", id="python-preload"
    ),
]


@pytest.mark.parametrize(("target", "args", "cwd"), SHARED)
def test_gunicorn_with_mockjobs_settings_shares_one_temporary_state(
    launch: Launcher, folder: Path, tmp_path: Path, target: str, args: tuple[str, ...], cwd: str | None
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"MOCKJOBS_SCENARIOS": str(folder), "TMPDIR": str(tmp)}
    where = tmp_path / cwd if cwd else REPO  # elsewhere: no gunicorn.conf.py there
    where.mkdir(exist_ok=True)
    srv = launch.gunicorn(target, "--workers", "2", *args, cwd=where, env=env)
    assert "Using worker: gthread" in srv.output  # the settings' worker class, not gunicorn's sync
    pids = srv.worker_pids(2)
    created_on_one_polled_on_another(srv)
    states = list(tmp.glob("mockjobs-*/state.db"))
    assert len(states) == 1 and list(tmp.iterdir()) == [states[0].parent]
    if "--preload" not in args:  # the master's on_starting made it and exported it to the workers
        assert f"every worker shares the temporary state {states[0]}" in srv.output

    victim = min(pids)
    os.kill(victim, signal.SIGTERM)  # a worker of the server this test started; gunicorn forks another
    srv.wait_for(rf"Worker exiting \(pid: {victim}\)")
    new = srv.worker_pids(2) - {victim}
    srv.on_every_worker(lambda s: s.get("/arcgis/rest/jobs/jw0?f=json"), new, lambda r: r.json().get("jobId") == "jw0")

    assert srv.stop() == 0
    assert list(tmp.iterdir()) == []  # the master removed the state on its way out


def test_gunicorn_reloaded_with_hup_keeps_its_temporary_state(launch: Launcher, folder: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"MOCKJOBS_SCENARIOS": str(folder), "TMPDIR": str(tmp)}
    srv = launch.gunicorn("app:app", "--workers", "2", cwd=REPO, env=env)
    old = srv.worker_pids(2)
    assert srv.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jhup"}).status_code == 201
    states = list(tmp.glob("mockjobs-*/state.db"))
    os.kill(srv.proc.pid, signal.SIGHUP)  # the master this test started: new workers, settings read again
    for pid in old:
        srv.wait_for(rf"Worker exiting \(pid: {pid}\)")
    new = srv.worker_pids(2)
    assert not new & old
    srv.on_every_worker(
        lambda s: s.get("/arcgis/rest/jobs/jhup?f=json"), new, lambda r: r.json().get("jobId") == "jhup"
    )
    assert list(tmp.glob("mockjobs-*/state.db")) == states and len(states) == 1
    assert srv.stop() == 0
    assert list(tmp.iterdir()) == []


def test_gunicorn_with_a_given_state_makes_none_and_keeps_it(launch: Launcher, folder: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    state = tmp_path / "kept.db"
    env = {"MOCKJOBS_SCENARIOS": str(folder), "TMPDIR": str(tmp), "MOCKJOBS_STATE": str(state)}
    srv = launch.gunicorn("app:app", "--workers", "2", cwd=REPO, env=env)
    srv.worker_pids(2)
    created_on_one_polled_on_another(srv, jobs=2)
    assert list(tmp.iterdir()) == [] and "temporary state" not in srv.output
    assert srv.stop() == 0
    assert state.exists()  # on_exit removes only what on_starting made


@pytest.mark.parametrize("args", [(), ("--preload",)], ids=["per-worker-app", "preload"])
def test_gunicorn_without_mockjobs_settings_or_state_is_refused(
    launch: Launcher, folder: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"MOCKJOBS_SCENARIOS": str(folder), "TMPDIR": str(tmp)}
    srv = launch.gunicorn("mockjobs:create_app()", "--workers", "2", *args, cwd=tmp_path, env=env, ready=False)
    one_line = srv.wait_for(r"under gunicorn, mockjobs needs its gunicorn settings or a state its workers share.*")
    assert "add -c python:mockjobs.gunicorn_conf" in one_line.group(0)
    assert one_line.group(0).endswith("or set MOCKJOBS_STATE=FILE or MOCKJOBS_STORE=URL")
    assert srv.proc.wait(15) != 0
    assert list(tmp.iterdir()) == []


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
