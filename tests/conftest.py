"""Shared fixtures: an app on a manual clock (tests never sleep) and its test client."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockjobs import create_app
from mockjobs.clock import ManualTime
from tests import servers
from tests.redis_server import BINARY as REDIS_BINARY
from tests.redis_server import RedisServer
from tests.servers import Launcher

REPO = Path(__file__).resolve().parent.parent
START_MS = 1_700_000_000_000


def scenario_folder(folder: Path, files: Mapping[str, str], bundled: Iterable[str] = ()) -> Path:
    """folder made, holding bundled scenario files (by name) and files' texts (name -> YAML)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in bundled:
        shutil.copy(REPO / "scenarios" / name, folder)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def launch(request: pytest.FixtureRequest) -> Launcher:
    """Starts real servers (mockjobs serve, gunicorn); stops them all when the test ends."""
    return servers.launcher(request)


@pytest.fixture
def clock() -> ManualTime:
    """The real-time source of the app under test; moves only when told."""
    return ManualTime(START_MS)


@pytest.fixture
def make_app(tmp_path: Path, clock: ManualTime) -> Callable[..., Flask]:
    """Build an app on the manual clock with its own state file; config overrides allowed."""

    def make(**config: Any) -> Flask:
        base: dict[str, Any] = {
            "STATE": str(tmp_path / "state.db"),
            "TIME_SOURCE": clock,
            "RELOAD_INTERVAL": 0,
        }
        base.update(config)
        return create_app(base)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with the bundled scenarios."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of app."""
    return app.test_client()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test session (each xdist worker starts its own) on a free loopback port."""
    if not Path(REDIS_BINARY).exists():
        pytest.fail("redis-server is not installed (make test installs Debian's redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's Redis, emptied for this test (and started, should a test have stopped it)."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each engine, empty for this test."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"sqlite:///{tmp_path / 'state.db'}"
