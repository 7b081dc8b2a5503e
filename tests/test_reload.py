"""Hot reload under a running multi-worker server: add, change, break, fix and delete scenario files."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests import servers
from tests.conftest import scenario_folder
from tests.servers import Launcher, Server

pytestmark = pytest.mark.slow


def alpha(done: str) -> str:
    """The 'alpha' scenario, whose last message is done."""
    return textwrap.dedent(
        f"""\
        name: alpha
        job: {{type: alphaJob}}
        timeline:
          - {{at: 0, message: Started., status: EXECUTING}}
          - {{at: 5s, message: {done}, status: COMPLETED}}
        """
    )


BETA = textwrap.dedent(
    """\
    name: beta
    job: {type: betaJob}
    timeline:
      - {at: 0, message: Beta started., status: EXECUTING}
      - {at: 1s, message: Beta done., status: COMPLETED}
    jobs:
      - jobId: jbeta-static
        startTime: 1590523221196
    """
)


def last_message(r: requests.Response) -> str | None:
    """The last timeline message of a /__mock/scenarios/<name> answer (None if there is none)."""
    return r.json()["timeline"][-1]["message"] if r.status_code == 200 else None


def finished_job(srv: Server, scenario: str) -> dict:
    """Start a job of scenario, move it to its end, and return its document."""
    created = srv.post("/__mock/jobs", json={"scenario": scenario})
    assert created.status_code == 201, created.text
    job_id = created.json()["jobId"]
    assert srv.post(f"/__mock/jobs/{job_id}/advance", json={"to": "end"}).status_code == 200
    return srv.get(f"/arcgis/rest/jobs/{job_id}?f=json").json()


def test_edits_reach_every_worker_and_running_jobs_keep_their_version(launch: Launcher, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"alpha.yaml": alpha("Done v1.")})
    srv = launch.serve(str(folder), "--workers", "3", "--reload-interval", "0.25")
    pids = srv.worker_pids(3)
    old = finished_job(srv, "alpha")
    assert old["messages"] == ["Started.", "Done v1."]
    old_path = f"/arcgis/rest/jobs/{old['jobId']}?f=json"

    def everywhere(path: str, check: Callable[[requests.Response], bool]) -> None:
        """Wait (5 s at most) until every worker answers path so that check passes."""
        srv.on_every_worker(lambda s: s.get(path), pids, check, timeout=5)

    # change: new jobs get the new version at once in every worker; the old job does not change
    (folder / "alpha.yaml").write_text(alpha("Done v2."))
    everywhere("/__mock/scenarios/alpha", lambda r: last_message(r) == "Done v2.")
    assert finished_job(srv, "alpha")["messages"] == ["Started.", "Done v2."]
    srv.on_every_worker(lambda s: s.get(old_path), pids, lambda r: r.json() == old)

    # add: the new scenario and its static job appear in every worker
    (folder / "beta.yaml").write_text(BETA)
    everywhere("/__mock/scenarios/beta", lambda r: r.status_code == 200)
    beta_job = srv.get("/arcgis/rest/jobs/jbeta-static?f=json").json()
    assert beta_job["type"] == "betaJob" and beta_job["status"] == "COMPLETED"
    assert any(j["jobId"] == "jbeta-static" for j in srv.get("/__mock/jobs?polls=false").json()["jobs"])
    running_beta = srv.post("/__mock/jobs", json={"scenario": "beta", "jobId": "jbeta-1"}).json()["jobId"]

    # a broken edit: reported by every worker, the last good version stays in service
    (folder / "alpha.yaml").write_text(alpha("Done v3.") + "  - {at: oops\n")
    everywhere("/__mock/health", lambda r: r.json()["status"] == "degraded")
    health = srv.get("/__mock/health").json()
    assert any(e.startswith(str(folder / "alpha.yaml") + ":") for e in health["errors"]), health
    srv.wait_for(r"scenario error: .*alpha\.yaml:\d+:.*keeping the last good version", timeout=5)
    assert finished_job(srv, "alpha")["messages"] == ["Started.", "Done v2."]
    assert srv.proc.poll() is None

    # fixed: healthy again, with the fixed version
    (folder / "alpha.yaml").write_text(alpha("Done v3."))
    everywhere("/__mock/health", lambda r: r.json()["status"] == "ok" and not r.json()["errors"])
    everywhere("/__mock/scenarios/alpha", lambda r: last_message(r) == "Done v3.")

    # delete: gone for new jobs in every worker, while its jobs still answer
    (folder / "beta.yaml").unlink()
    everywhere("/__mock/scenarios/beta", lambda r: r.status_code == 404)
    assert srv.post("/__mock/jobs", json={"scenario": "beta"}).status_code == 404
    assert srv.get(f"/arcgis/rest/jobs/{running_beta}?f=json").json()["type"] == "betaJob"
    assert srv.get("/arcgis/rest/jobs/jbeta-static?f=json").json()["messages"] == ["Beta started.", "Beta done."]
    assert srv.get(old_path).json() == old
    assert srv.proc.poll() is None


def test_default_interval_picks_up_a_new_file_within_about_a_second(launch: Launcher, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"alpha.yaml": alpha("Done.")})
    srv = launch.serve(str(folder), "--workers", "2", "--reload-interval", "1")
    pids = srv.worker_pids(2)
    (folder / "beta.yaml").write_text(BETA)
    start = time.monotonic()
    srv.on_every_worker(lambda s: s.get("/__mock/scenarios/beta"), pids, lambda r: r.status_code == 200, timeout=5)
    assert time.monotonic() - start < 5


def test_a_new_worker_answers_from_the_files_not_from_its_parent(launch: Launcher, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "scn", {"alpha.yaml": alpha("Done v1.")})
    srv = launch.serve(str(folder), "--workers", "1", "--reload-interval", "60")
    (first,) = srv.worker_pids(1)
    (folder / "alpha.yaml").write_text(alpha("Done v2."))
    assert last_message(srv.get("/__mock/scenarios/alpha")) == "Done v1."  # next scan only in 60 s
    os.kill(first, signal.SIGTERM)  # a worker of the server this test started; gunicorn forks a new one
    srv.wait_for(rf"Worker exiting \(pid: {first}\)")
    (second,) = servers.wait_until(lambda: srv.worker_pids(1) - {first}, what="a new worker")
    r = srv.get("/__mock/scenarios/alpha")
    assert int(r.headers["X-Mockjobs-Worker"]) == second and last_message(r) == "Done v2."
