"""`mockjobs check`: one `file:line: field: message` line per problem, exit 1 on errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_scenarios import RULES, expected_line

CROSS_FILE = [
    "tests/scenarios_bad/duplicate_scenario_name/second.yaml:3: name: duplicate scenario name 'dup-name' "
    "(also in tests/scenarios_bad/duplicate_scenario_name/first.yaml)",
    "tests/scenarios_bad/duplicate_static_job_id/second.yaml:9: jobs[1].jobId: duplicate job id jshared-1 "
    "(also in scenario 'dup-job-first')",
    "tests/scenarios_bad/duplicate_trigger/second.yaml:7: trigger.path: POST /rest/services/createMission "
    "is already the trigger of scenario 'dup-trigger-first'",
]


def check(*paths: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run `python -m mockjobs.cli check PATH ...` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "mockjobs.cli", "check", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def bad_run() -> subprocess.CompletedProcess[str]:
    """One check of the whole folder of bad files."""
    return check("tests/scenarios_bad")


def test_bad_folder_exits_1(bad_run: subprocess.CompletedProcess[str]) -> None:
    assert bad_run.returncode == 1
    assert bad_run.stderr.strip() == (
        f"{len(RULES) + len(CROSS_FILE)} error(s); 3 scenario(s) in {len(RULES) + 6} file(s): "
        "dup-job-first, dup-name, dup-trigger-first"
    )


@pytest.mark.parametrize(("stem", "line", "field", "message"), RULES, ids=[r[0] for r in RULES])
def test_bad_folder_prints_each_rule_as_one_line(
    bad_run: subprocess.CompletedProcess[str], stem: str, line: int, field: str, message: str
) -> None:
    expected = expected_line(f"tests/scenarios_bad/{stem}.yaml", line, field, message)
    printed = [out for out in bad_run.stdout.splitlines() if out.startswith(f"tests/scenarios_bad/{stem}.yaml:")]
    assert len(printed) == 1
    assert printed[0].startswith(expected)


def test_bad_folder_prints_cross_file_duplicates(bad_run: subprocess.CompletedProcess[str]) -> None:
    printed = [out for out in bad_run.stdout.splitlines() if "/duplicate_" in out]
    assert printed == CROSS_FILE
    assert len(bad_run.stdout.splitlines()) == len(RULES) + len(CROSS_FILE)


@pytest.mark.parametrize("rule", ["duplicate_scenario_name", "duplicate_static_job_id", "duplicate_trigger"])
def test_each_cross_file_rule_on_its_own(rule: str) -> None:
    run = check(f"tests/scenarios_bad/{rule}")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [line for line in CROSS_FILE if f"/{rule}/" in line]


def test_duplicates_across_two_folders_name_both_files(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text("job:\n  type: t\ntimeline:\n  - at: 0\n")
    run = check("one", "two", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.splitlines() == ["two/same.yaml:1: name: duplicate scenario name 'same' (also in one/same.yaml)"]


def test_one_bad_file_prints_its_line() -> None:
    run = check("tests/scenarios_bad/steps_above_total_steps.yaml")
    assert run.returncode == 1
    assert (
        run.stdout
        == "tests/scenarios_bad/steps_above_total_steps.yaml:14: timeline[3].steps: 7 is more than totalSteps (5)\n"
    )
    assert run.stderr.startswith("1 error(s); 0 scenario(s) in 1 file(s)")


def test_good_files_exit_0() -> None:
    run = check("tests/scenarios_good")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok: 2 scenario(s) in 2 file(s): everything.v2, minimal"
    assert run.stderr == ""


def test_bundled_scenarios_exit_0() -> None:
    run = check("scenarios", "tests/scenarios_good/minimal.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok: ")
    assert "add-mission" in run.stdout


def test_a_missing_path_is_an_error() -> None:
    run = check("tests/scenarios_good", "no/such/folder")
    assert run.returncode == 1
    assert "no/such/folder: no such file or folder" in run.stderr
    assert run.stdout == ""


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "mockjobs"
    if not script.exists():
        pytest.skip("no mockjobs console script beside this interpreter")
    run = subprocess.run(
        [str(script), "check", "tests/scenarios_bad/yaml_empty_file.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stdout == (
        "tests/scenarios_bad/yaml_empty_file.yaml:1: "
        "a scenario is a mapping (job:, timeline:, ...); this file is empty\n"
    )
