"""One configuration path: defaults, then MOCKJOBS_* variables, then explicit options."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockjobs import create_app
from mockjobs.config import DEFAULTS, settings
from mockjobs.errors import MockjobsError
from tests.servers import Launcher

ENV = {
    "MOCKJOBS_SPEED": "3",
    "MOCKJOBS_CONTEXT": "/ctx",
    "MOCKJOBS_JOURNAL_MAX": "7",
    "MOCKJOBS_HTTP_ERRORS": "true",
}


def test_defaults_then_environment_then_explicit_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings({})["SPEED"] == DEFAULTS["SPEED"] and settings({})["JOURNAL_MAX"] == 100_000
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    from_env = settings({})
    assert (from_env["SPEED"], from_env["CONTEXT"], from_env["JOURNAL_MAX"], from_env["HTTP_ERRORS"]) == (
        3.0,
        "/ctx",
        7,
        True,
    )
    explicit = settings({"speed": 4, "JOURNAL_MAX": 9})
    assert (explicit["SPEED"], explicit["JOURNAL_MAX"], explicit["CONTEXT"]) == (4.0, 9, "/ctx")


def test_a_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKJOBS_JOURNAL_MAX", "lots")
    with pytest.raises(MockjobsError, match="MOCKJOBS_JOURNAL_MAX='lots': expected a number"):
        settings({})
    monkeypatch.setenv("MOCKJOBS_JOURNAL_MAX", "0")
    with pytest.raises(MockjobsError, match="at least 1"):
        settings({})


def test_create_app_reads_the_store_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOCKJOBS_STORE", redis_url)
    monkeypatch.setenv("MOCKJOBS_STATE", str(tmp_path / "ignored.db"))  # a store URL wins over a state file
    app = create_app({"RELOAD_INTERVAL": 0})
    assert app.extensions["mockjobs"].store.url == redis_url
    assert app.test_client().get("/__mock/health").json["store"] == redis_url
    assert not (tmp_path / "ignored.db").exists()


@pytest.mark.slow
def test_mockjobs_serve_honours_the_environment_and_its_options_win(launch: Launcher, tmp_path: Path) -> None:
    state = tmp_path / "env.db"
    env = {**ENV, "MOCKJOBS_STATE": str(state)}
    srv = launch.serve("--workers", "1", env=env)
    job = srv.post("/__mock/jobs", json={"scenario": "add-mission"}).json()
    assert job["speed"] == 3 and srv.get(f"/ctx/rest/jobs/{job['jobId']}?f=json").status_code == 200
    assert srv.get("/__mock/health").json()["journal"]["max"] == 7
    assert srv.get("/ctx/rest/jobs/nope?f=json").status_code == 404  # MOCKJOBS_HTTP_ERRORS
    assert state.exists()
    srv.stop()
    explicit = launch.serve(
        "--workers", "1", "--speed", "5", "--journal-max", "11", "--state", str(tmp_path / "x.db"), env=env
    )
    assert explicit.post("/__mock/jobs", json={"scenario": "add-mission"}).json()["speed"] == 5
    assert explicit.get("/__mock/health").json()["journal"]["max"] == 11
    assert explicit.get("/__mock/health").json()["store"] == f"sqlite:///{tmp_path / 'x.db'}"


@pytest.mark.slow
def test_make_serve_style_store_option_on_redis(launch: Launcher, redis_url: str) -> None:
    srv = launch.serve("--workers", "1", "--store", redis_url)
    assert srv.get("/__mock/health").json()["store"] == redis_url
    assert srv.post("/__mock/jobs", json={"scenario": "add-mission", "jobId": "jr"}).status_code == 201
    assert srv.get("/arcgis/rest/jobs/jr?f=json").json()["jobId"] == "jr"
