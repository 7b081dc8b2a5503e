"""What the ``mockjobs`` pytest fixture costs a test suite: start-up once, reset per test.

``run()`` returns (seconds ``*_s``, milliseconds ``*_ms``):

- ``startup_s``: first use in a fresh interpreter: importing Flask and mockjobs, building the
  app, binding a port, starting the server thread, answering a first request.
- ``startup_warm_s``: the same with everything imported already (building the app and
  starting the server only).
- ``reset_ms``: the reset between tests (store, journal, clock, speed), in-process, median.
- ``per_test_ms``: what the fixture adds to one test inside a real pytest run (setup, reset,
  teardown and the server-error check), the median over 200 tests minus that of 200 tests
  without the fixture.
- ``suite200_plain_s``, ``suite200_fixture_s``, ``suite200_overhead_s``: wall time of
  ``pytest -q`` on 200 trivial tests without and with the fixture (best of 3), and the
  difference (start-up included).

``python -m bench.fixture_bench`` prints them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TESTS = 200
REPEATS = 3
RESETS = 500

_STARTUP = """
import sys, tempfile, time, urllib.request
from pathlib import Path
t0 = time.perf_counter()
from mockjobs.testing import MockjobsServer
server = MockjobsServer(Path(tempfile.mkdtemp(prefix="mockjobs-bench-")))
urllib.request.urlopen(server.rest_url + "/info?f=json").read()
t1 = time.perf_counter()
server.stop()
print(t1 - t0)
"""

# Times each test's whole protocol (setup, call, teardown) and writes them to TIMES_FILE.
_CONFTEST = """
import json, os, time
import pytest

_times = []

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        _times.append(time.perf_counter() - start)

def pytest_sessionfinish(session):
    with open(os.environ["TIMES_FILE"], "w") as out:
        json.dump(_times, out)
"""


def _python() -> str:
    """The interpreter to run pytest with: this one."""
    return sys.executable


def startup_cold() -> float:
    """Seconds from nothing imported to a first answer, in a fresh interpreter (best of 3)."""
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run([_python(), "-c", _STARTUP], capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)


def startup_warm_and_reset() -> tuple[float, float]:
    """Seconds to start a server with everything imported; median ms of one reset."""
    from mockjobs.testing import MockjobsServer

    with tempfile.TemporaryDirectory(prefix="mockjobs-bench-") as tmp:
        MockjobsServer(Path(tmp) / "warm-up").stop()  # imports, template and scenario caches
        t0 = time.perf_counter()
        server = MockjobsServer(Path(tmp) / "measured")
        warm = time.perf_counter() - t0
        try:
            times = []
            for _ in range(RESETS):
                t = time.perf_counter()
                server.activate()
                times.append(time.perf_counter() - t)
        finally:
            server.stop()
    return warm, statistics.median(times) * 1000


def _suite(folder: Path, with_fixture: bool) -> tuple[float, list[float]]:
    """Best wall time of pytest on TESTS tests, and the per-test times of that run."""
    arg = "mockjobs" if with_fixture else ""
    body = "mockjobs.url" if with_fixture else "True"
    lines = [f"def test_{i}({arg}):\n    assert {body}\n" for i in range(TESTS)]
    test_file = folder / "test_suite.py"
    test_file.write_text("\n\n".join(lines))
    best: tuple[float, list[float]] | None = None
    for _ in range(REPEATS):
        times_file = folder / "times.json"
        env = dict(os.environ, TIMES_FILE=str(times_file), PYTHONDONTWRITEBYTECODE="1")
        t0 = time.perf_counter()
        subprocess.run(
            [_python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(test_file)],
            cwd=folder,
            env=env,
            capture_output=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        if best is None or wall < best[0]:
            best = (wall, json.loads(times_file.read_text()))
    assert best is not None
    return best


def suites() -> dict[str, float]:
    """200 trivial tests without and with the fixture, run by pytest in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="mockjobs-bench-suite-") as tmp:
        folder = Path(tmp)
        (folder / "conftest.py").write_text(textwrap.dedent(_CONFTEST))
        (folder / "pytest.ini").write_text("[pytest]\n")
        plain_wall, plain = _suite(folder, with_fixture=False)
        fixture_wall, fixture = _suite(folder, with_fixture=True)
    per_test = statistics.median(fixture[1:]) - statistics.median(plain[1:])
    return {
        "per_test_ms": per_test * 1000,
        "first_test_s": fixture[0],
        "suite200_plain_s": plain_wall,
        "suite200_fixture_s": fixture_wall,
        "suite200_overhead_s": fixture_wall - plain_wall,
    }


def run() -> dict[str, float]:
    """Every figure of this module (see the module docstring); takes a few seconds."""
    warm, reset_ms = startup_warm_and_reset()
    figures = {"startup_s": startup_cold(), "startup_warm_s": warm, "reset_ms": reset_ms}
    figures.update(suites())
    return figures


if __name__ == "__main__":
    for name, value in run().items():
        unit = "ms" if name.endswith("_ms") else "s"
        print(f"{name:22} {value:9.4f} {unit}")
