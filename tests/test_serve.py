"""Serving for real: `mockjobs serve`, `gunicorn app:app` and `gunicorn 'mockjobs:create_app()'` over sockets."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests import servers
from tests.conftest import scenario_folder
from tests.servers import Launcher

pytestmark = pytest.mark.slow

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
MINE = textwrap.dedent(
    """\
    name: mine
    job: {type: myJob}
    timeline:
      - {at: 0, message: Started., status: EXECUTING}
      - {at: 10s, message: Done., status: COMPLETED}
    jobs:
      - jobId: jmine-static-1
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenario folder with one scenario, 'mine', that has one static job."""
    return scenario_folder(tmp_path / "scn", {"mine.yaml": MINE})


def scenario_names(srv: servers.Server) -> set[str]:
    """The names the server lists under /__mock/scenarios."""
    return {s["name"] for s in srv.get("/__mock/scenarios").json()["scenarios"]}


def test_serve_bundled_on_port_0_prints_its_urls(launch: Launcher) -> None:
    srv = launch.serve()
    port = int(srv.url.rsplit(":", 1)[1])
    assert port > 0
    out = srv.output
    assert f"dashboard: {srv.url}/" in out
    assert f"{srv.url}/arcgis/rest/jobs/{REFERENCE_JOB}?f=pjson" in out
    assert "add-mission" in scenario_names(srv)
    job = srv.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").json()
    assert job["status"] == "COMPLETED"
    assert job["customAttributes"]["missionId"] == "d942d2bdb70c4104bcd1a76d4cf8a6b7"
    page = srv.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}")
    assert page.headers["Content-Type"].startswith("text/html")
    assert REFERENCE_JOB in page.text and "Finished creating mission" in page.text
    dashboard = srv.get("/")
    assert dashboard.status_code == 200 and "add-mission" in dashboard.text
    assert "Using worker: gthread" in out  # default: 4 threads per worker


def test_serve_dirs_only_unless_bundled(launch: Launcher, folder: Path) -> None:
    only = launch.serve(str(folder), "--workers", "1")
    assert scenario_names(only) == {"mine"}
    assert f"{only.url}/arcgis/rest/jobs/jmine-static-1?f=pjson" in only.output
    assert REFERENCE_JOB not in only.output
    assert only.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").json()["error"]["code"] == 404

    both = launch.serve(str(folder), "--bundled", "--workers", "1")
    assert {"mine", "add-mission"} <= scenario_names(both)
    assert both.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").json()["status"] == "COMPLETED"
    assert both.get("/arcgis/rest/jobs/jmine-static-1?f=json").json()["type"] == "myJob"


def test_serve_context_speed_http_errors_and_sync_workers(launch: Launcher, folder: Path) -> None:
    srv = launch.serve(
        str(folder), "--context", "/server", "--speed", "4", "--http-errors", "--threads", "1", "--workers", "2"
    )
    assert f"rest:      {srv.url}/server/rest" in srv.output
    assert "Using worker: sync" in srv.output
    assert srv.get("/server/rest/info?f=json").json()["currentVersion"] == 11.3
    assert srv.get("/arcgis/rest/info?f=json").status_code == 404
    created = srv.post("/__mock/jobs", json={"scenario": "mine"})
    assert created.status_code == 201
    assert created.json()["speed"] == 4.0
    assert created.json()["url"] == f"{srv.url}/server/rest/jobs/{created.json()['jobId']}"
    missing = srv.get("/server/rest/jobs/nope?f=json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404


def test_serve_errors_in_arcgis_style_by_default(launch: Launcher, folder: Path) -> None:
    srv = launch.serve(str(folder), "--workers", "1", "--host", "127.0.0.1")
    missing = srv.get("/arcgis/rest/jobs/nope?f=json")
    assert missing.status_code == 200 and missing.json()["error"]["code"] == 404


def test_gunicorn_app_from_the_repository_root(launch: Launcher, folder: Path) -> None:
    env = {"MOCKJOBS_SCENARIOS": f"{folder}:{folder.parent / 'absent'}", "MOCKJOBS_CONTEXT": "/ctx"}
    env["TMPDIR"] = str(folder.parent)  # its temporary state goes there, not to /tmp
    env |= {"MOCKJOBS_SPEED": "2.5", "MOCKJOBS_HTTP_ERRORS": "true", "MOCKJOBS_BUNDLED": "1"}
    srv = launch.gunicorn("app:app", "--workers", "2", cwd=servers.REPO, env=env)
    assert {"mine", "add-mission"} <= scenario_names(srv)
    health = srv.get("/__mock/health").json()
    assert health["status"] == "degraded" and any("absent" in e for e in health["errors"])
    assert srv.get("/ctx/rest/jobs/jmine-static-1?f=json").json()["messages"] == ["Started."]
    assert srv.post("/__mock/jobs", json={"scenario": "mine"}).json()["speed"] == 2.5
    assert srv.get("/ctx/rest/jobs/nope?f=json").status_code == 404


def test_gunicorn_create_app_outside_the_checkout(launch: Launcher, folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "s.db"
    env = {"MOCKJOBS_SCENARIOS": str(folder), "MOCKJOBS_STATE": str(state), "MOCKJOBS_CONTEXT": "arcgis/"}
    srv = launch.gunicorn("mockjobs:create_app()", "--workers", "2", cwd=tmp_path, env=env)
    assert scenario_names(srv) == {"mine"}
    job_id = srv.post("/__mock/jobs", json={"scenario": "mine", "jobId": "jx1"}).json()["jobId"]
    assert srv.get(f"/arcgis/rest/jobs/{job_id}?f=json").json()["jobId"] == "jx1"
    assert state.exists()


def test_gunicorn_rejects_bad_environment(launch: Launcher, tmp_path: Path) -> None:
    srv = launch.gunicorn(
        "mockjobs:create_app()", "--workers", "1", cwd=tmp_path, env={"MOCKJOBS_SPEED": "fast"}, ready=False
    )
    srv.wait_for(re.escape("MOCKJOBS_SPEED='fast': expected a number"))
    assert srv.proc.wait(15) != 0
