"""The wheel ships everything: built, installed into a fresh venv, served from outside the checkout."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import servers

pytestmark = pytest.mark.slow

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
NETWORK_TROUBLE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable")


def run(argv: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run argv to its end, failing the test with its output if it fails."""
    done = subprocess.run(
        argv, cwd=cwd, env=servers.clean_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(marker in output for marker in NETWORK_TROUBLE):
            pytest.skip(f"no package index reachable for {argv[:4]}: {output[-300:]}")
        raise AssertionError(f"{argv} exited {done.returncode}:\n{output}")
    return done


def test_wheel_installs_and_serves_html_outside_the_checkout(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]  # faster
    run([sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", str(dist), str(servers.REPO)], tmp_path)
    (wheel,) = dist.glob("mockjobs-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"mockjobs/templates/job.html", "mockjobs/scenarios/add-mission.yaml", "mockjobs/cli.py"} <= names
    assert "mockjobs/gunicorn_conf.py" in names
    assert {"mockjobs/static/mockjobs.js", "mockjobs/static/dashboard.js", "mockjobs/templates/timeline.svg"} <= names
    assert any(n.endswith("entry_points.txt") for n in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    # this environment's pip installs into the new venv; its cache spares most downloads
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)], tmp_path)
    where = run([str(python), "-c", "import mockjobs.config as c; print(c.templates_dir())"], tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    launch = servers.launcher(request)
    srv = launch.start([str(venv / "bin" / "mockjobs"), "serve", "--port", "0", "--workers", "1"], cwd=tmp_path)
    assert f"{srv.url}/arcgis/rest/jobs/{REFERENCE_JOB}?f=pjson" in srv.output
    page = srv.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=html")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<html" in page.text and REFERENCE_JOB in page.text and "Finished creating mission" in page.text
    names_served = {s["name"] for s in srv.get("/__mock/scenarios").json()["scenarios"]}
    assert "add-mission" in names_served
    assert srv.get("/__mock/health").json()["status"] == "ok"
    assert "add-mission" in srv.get("/").text
    script = srv.get("/static/dashboard.js")
    assert script.status_code == 200 and "mockjobs.json" in script.text
    svg = srv.get(f"/__mock/jobs/{REFERENCE_JOB}/timeline.svg")
    assert svg.headers["Content-Type"].startswith("image/svg+xml") and "<svg" in svg.text
    srv.stop()

    # plain gunicorn from the installed wheel, with mockjobs' settings: its workers share one state
    gunicorn = [str(venv / "bin" / "gunicorn"), "-c", "python:mockjobs.gunicorn_conf", "--bind", "127.0.0.1:0"]
    plain = launch.start([*gunicorn, "--workers", "2", "mockjobs:create_app()"], cwd=tmp_path)
    assert plain.post("/__mock/jobs", json={"scenario": "add-mission", "jobId": "jwheel"}).status_code == 201
    pids = plain.worker_pids(2)
    plain.on_every_worker(
        lambda s: s.get("/arcgis/rest/jobs/jwheel?f=json"), pids, lambda r: r.json().get("jobId") == "jwheel"
    )
