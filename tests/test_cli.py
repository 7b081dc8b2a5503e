"""The `mockjobs` command line: help, option checks and clear errors before any server starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mockjobs.cli import main
from tests import servers

SERVE_OPTIONS = (
    "--host",
    "--port",
    "--workers",
    "--threads",
    "--context",
    "--speed",
    "--state",
    "--bundled",
    "--http-errors",
    "--reload-interval",
    "--cors-origins",
    "--tls",
    "--certfile",
    "--keyfile",
)


@pytest.fixture(autouse=True)
def _no_mockjobs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's settings come from its options only."""
    for key in [k for k in os.environ if k.startswith("MOCKJOBS_")]:
        monkeypatch.delenv(key)


def mockjobs(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `mockjobs` command to its end."""
    return subprocess.run(
        [servers.MOCKJOBS, *args],
        cwd=cwd,
        env=servers.clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_help_lists_every_option() -> None:
    done = mockjobs("serve", "--help")
    assert done.returncode == 0
    for option in SERVE_OPTIONS:
        assert option in done.stdout
    assert "DIR" in done.stdout


def test_version_and_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "mockjobs 0.1.0" in capsys.readouterr().out
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_missing_scenario_folder_is_a_clear_error(tmp_path: Path) -> None:
    done = mockjobs("serve", "--port", "0", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"mockjobs: no such scenario folder: {tmp_path / 'nowhere'}"
    assert "Listening" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "a port is 0 to 65535"),
        (["--port", "web"], "expected a port number"),
        (["--workers", "0"], "must be at least 1"),
        (["--threads", "two"], "expected a whole number"),
        (["--speed", "fast"], "invalid float value"),
    ],
)
def test_bad_option_values_are_refused(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "mockjobs: speed must be between 0.001 and 1e+06"),
        (["--context", "/"], "mockjobs: the context path may not be empty"),
    ],
)
def test_bad_settings_stop_before_serving(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_state_file_that_is_no_database_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.db"
    state.write_text("not a database, " * 100)
    assert main(["serve", "--port", "0", "--state", str(state), str(servers.REPO / "scenarios")]) == 2
    err = capsys.readouterr().err
    assert f"mockjobs: cannot use the state file {state}:" in err


def test_serve_leaves_no_temporary_state_behind(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    launch = servers.launcher(request)
    srv = launch.serve("--workers", "1", env={"TMPDIR": str(tmp)})
    assert srv.post("/__mock/jobs", json={"scenario": "add-mission"}).status_code == 201
    assert list(tmp.glob("mockjobs-*/state.db"))
    assert srv.stop() == 0
    assert list(tmp.iterdir()) == []
