"""Real clients against a live `mockjobs serve`: shared helpers and module-wide servers.

The clients are installed by the Makefile (`make clients`, a dependency of `make test`):
ArcGIS REST JS into tests/clients/js/node_modules (`npm ci`), Esri's `arcgis` into a venv
cached outside the clone. Run alone, a suite whose client is missing is skipped with the
command that installs it; under `make test` (REQUIRE_CLIENTS=1) a missing client fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import servers
from tests.servers import Server

HERE = Path(__file__).resolve().parent
JS = HERE / "js"
NODE = shutil.which("node")
USER, PASSWORD = "alice", "s3cret"
REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
NODE_TIMEOUT = 60.0  # seconds for one node scenario


def need(ok: bool, reason: str) -> None:
    """Skip the test when a client is missing (fail instead under `make test`)."""
    if ok:
        return
    if os.environ.get("REQUIRE_CLIENTS") == "1":
        pytest.fail(f"{reason} (REQUIRE_CLIENTS=1: make test installs every client)")
    pytest.skip(reason)


def need_rest_js() -> None:
    """ArcGIS REST JS and node must be there."""
    need(NODE is not None, "needs node (Debian's nodejs)")
    need((JS / "node_modules" / "@esri" / "arcgis-rest-request").is_dir(), "needs ArcGIS REST JS: make clients-js")


def run_node(script: str, **args: Any) -> Any:
    """Run tests/clients/js/<script> with args as JSON; the JSON it prints."""
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(JS / script), json.dumps(args)],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    assert proc.returncode == 0, f"node {script} {args.get('scenario')} failed:\n{proc.stderr}{proc.stdout}"
    return json.loads(proc.stdout)


def journal(server: Server) -> list[dict[str, Any]]:
    """The requests the server saw under its context, oldest first."""
    r = server.get("/__mock/requests")
    assert r.status_code == 200, r.text
    return r.json()["requests"]


def reset(server: Server) -> Server:
    """server back to its start: static jobs only, real clock, empty journal."""
    r = server.post("/__mock/reset", json={})
    assert r.status_code == 200, r.text
    return server


def _started(request: pytest.FixtureRequest, *args: str) -> Server:
    return servers.launcher(request).serve("--workers", "2", "--reload-interval", "0", *args)


@pytest.fixture(scope="module")
def plain_server(request: pytest.FixtureRequest) -> Server:
    """`mockjobs serve` (bundled scenarios, 2 workers) for the whole module."""
    return _started(request)


@pytest.fixture(scope="module")
def secured_server(request: pytest.FixtureRequest) -> Server:
    """`mockjobs serve --auth --user alice:s3cret` for the whole module."""
    return _started(request, "--auth", "--user", f"{USER}:{PASSWORD}")


@pytest.fixture
def plain(plain_server: Server) -> Iterator[Server]:
    """The plain server, reset for this test."""
    yield reset(plain_server)


@pytest.fixture
def secured(secured_server: Server) -> Iterator[Server]:
    """The --auth server, reset for this test."""
    yield reset(secured_server)
