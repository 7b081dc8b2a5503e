"""pytest plugin: a live mock Mission Server in one fixture (see docs in README "pytest plugin").

Registered through the ``pytest11`` entry point, so installing mockjobs is all a suite needs::

    def test_client_waits_for_mission(mockjobs):
        job = mockjobs.start("add-mission", missionId="abc")
        job.advance(to="end")
        assert job.state()["customAttributes"]["missionId"] == "abc"

This module is only the pytest wiring; the server and the test API live in
:mod:`mockjobs.testing`. At pytest start-up it imports only the standard library, pytest and
that light package; Flask, werkzeug and the mockjobs internals are imported the first time a
test asks for a fixture.

Fixtures:

- ``mockjobs`` (function): a :class:`~mockjobs.testing.MockJobs` over the session's live
  server, reset for the test.
- ``mockjobs_app`` (function): the Flask app behind it, reset for the test (for
  ``test_client()``).
- ``mockjobs_server`` (session): the :class:`~mockjobs.testing.MockjobsServer` itself
  (``.url``, ``.rest_url``), for session-scoped fixtures that need the address.
- ``mockjobs_config`` (session): extra ``create_app`` settings; override it in a conftest.

Options: the ini option ``mockjobs_scenarios`` and ``--mockjobs-scenarios DIR`` add scenario
folders to the bundled scenarios; the marker ``@pytest.mark.mockjobs_scenarios(DIR, ...)``
adds folders for one module, class or test. The ini option ``mockjobs_strict = true`` (or
``mockjobs.strict = True`` in a test) fails a test whose requests the mock answered with an
error no fault scripted (an unknown job or path, a bad ``f``, ...), listing each of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockjobs.testing import (
    AppInstance,
    Duration,
    MockClock,
    MockJob,
    MockJobs,
    MockjobsServer,
    MockjobsServerError,
    PollStats,
)
from mockjobs.testing.api import describe_errors, describe_requests, unscripted_errors

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "Duration",
    "MockClock",
    "MockJob",
    "MockJobs",
    "MockjobsServer",
    "MockjobsServerError",
    "PollStats",
]

_MARKER = "mockjobs_scenarios"
_INI = "mockjobs_scenarios"
_STRICT_INI = "mockjobs_strict"
_INSTANCE = pytest.StashKey[AppInstance]()


def _failure(errors: Sequence[BaseException]) -> BaseException:
    """A test failure showing the server's tracebacks (and no pytest internals)."""
    names = ", ".join(sorted({type(e).__name__ for e in errors}))
    text = f"mockjobs: the mock server raised {names} while serving this test:\n\n" + describe_errors(errors)
    return pytest.fail.Exception(text.rstrip(), pytrace=False)


def _strict_failure(entries: Sequence[dict[str, Any]]) -> BaseException:
    """A test failure listing every request answered with an error the test did not script."""
    text = (
        f"mockjobs (strict): the mock answered {len(entries)} request(s) with an error no fault scripted:\n"
        + describe_requests(entries)
    )
    return pytest.fail.Exception(text, pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option and the command-line option for scenario folders."""
    parser.addini(
        _INI,
        "scenario folders the mockjobs fixture serves besides the bundled scenarios (relative to the ini file)",
        type="paths",
        default=[],
    )
    parser.addini(
        _STRICT_INI,
        "fail a test when the mockjobs server answered a request with an error no fault scripted",
        type="bool",
        default=False,
    )
    group = parser.getgroup("mockjobs", "mockjobs mock server")
    group.addoption(
        "--mockjobs-scenarios",
        action="append",
        default=[],
        metavar="DIR",
        dest="mockjobs_scenarios",
        help="a scenario folder for the mockjobs fixture, added to the ini option's (repeatable; "
        f"'{os.pathsep}'-separated lists too)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(*folders): scenario folders the mockjobs fixture serves for this module, "
        "class or test, besides the bundled and configured ones (relative to the test file)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test body: raise what the mock server raised while serving it.

    An old-style hook wrapper, so that the plugin loads with any pluggy that pytest 7+ brings.
    """
    outcome = yield
    instance = item.stash.get(_INSTANCE, None)
    if instance is None:
        return
    errors = instance.take_errors()
    unscripted = unscripted_errors(instance.service) if instance.strict else []
    if not errors and not unscripted:
        return
    if outcome.excinfo is not None:  # failed anyway: show the server's side too
        if errors:
            item.add_report_section("call", "mockjobs server errors", describe_errors(errors))
        if unscripted:
            item.add_report_section("call", "mockjobs unscripted errors", describe_requests(unscripted))
        return
    exc = _failure(errors) if errors else _strict_failure(unscripted)
    force = getattr(outcome, "force_exception", None)  # pluggy >= 1.1
    if force is None:
        raise exc
    force(exc)


def _configured_folders(config: pytest.Config) -> list[Path]:
    """Folders from the ini option, then from the command line; absolute, no duplicates."""
    found: list[Path] = [Path(p) for p in config.getini(_INI)]
    base = config.invocation_params.dir
    for value in config.getoption("mockjobs_scenarios") or []:
        found += [base / p for p in str(value).split(os.pathsep) if p]
    out: list[Path] = []
    for path in found:
        path = Path(os.path.abspath(path))
        if path not in out:
            out.append(path)
    return out


def _marker_folders(node: pytest.Item) -> list[Path]:
    """Folders named by the closest mockjobs_scenarios marker, relative to the test file."""
    marker = node.get_closest_marker(_MARKER)
    if marker is None:
        return []
    base = node.path.parent
    out: list[Path] = []
    for value in marker.args:
        if not isinstance(value, (str, os.PathLike)):
            raise pytest.UsageError(f"@pytest.mark.{_MARKER} takes folder paths, not {value!r}")
        out.append(Path(os.path.abspath(base / value)))
    return out


@pytest.fixture(scope="session")
def mockjobs_config() -> dict[str, Any]:
    """Extra settings for the mock server's ``create_app`` (empty by default).

    Override it, session-scoped, in a conftest.py, e.g.::

        @pytest.fixture(scope="session")
        def mockjobs_config():
            return {"HTTP_ERRORS": True, "CONTEXT": "/portal"}

    ``{"TLS": True}`` serves HTTPS with a self-signed certificate made for the session; trust
    ``mockjobs.cert_path`` in the client (``verify=mockjobs.cert_path``).

    ``SCENARIOS``, ``BUNDLED`` and ``STATE`` are the plugin's own: set scenario folders with
    the ``mockjobs_scenarios`` ini option, ``--mockjobs-scenarios`` or the marker.
    """
    return {}


@pytest.fixture(scope="session")
def mockjobs_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, mockjobs_config: dict[str, Any]
) -> Iterator[MockjobsServer]:
    """The session's live mock server (one per xdist worker), stopped at the end.

    Use it for session-scoped fixtures that need the address (``.url``, ``.rest_url``); tests
    use ``mockjobs``, which resets it for each test. Its state file lives in pytest's
    temporary folder.
    """
    server = MockjobsServer(
        tmp_path_factory.mktemp("mockjobs"), folders=_configured_folders(pytestconfig), config=mockjobs_config
    )
    yield server
    server.stop()


@pytest.fixture
def _mockjobs_instance(request: pytest.FixtureRequest, mockjobs_server: MockjobsServer) -> Iterator[AppInstance]:
    """This test's app: picked by marker, reset, watched for server-side errors (and, strict, for unscripted ones)."""
    instance = mockjobs_server.activate(_marker_folders(request.node))
    instance.strict = bool(request.config.getini(_STRICT_INI))
    problems = instance.load_errors()
    if problems:
        pytest.fail("mockjobs: the scenario folders have errors:\n" + "\n".join(problems), pytrace=False)
    request.node.stash[_INSTANCE] = instance
    yield instance
    errors = instance.take_errors()
    if errors:  # raised after the test body, e.g. while other fixtures tore down
        raise _failure(errors)


@pytest.fixture
def mockjobs(mockjobs_server: MockjobsServer, _mockjobs_instance: AppInstance) -> MockJobs:
    """A live mock Mission Server for this test (a :class:`MockJobs`).

    One server per session (per xdist worker) on a free port, reset before each test: only the
    static jobs of the scenario files exist, the clock runs in real time, the journal is empty.
    Scenarios: the bundled ones, the folders of the ``mockjobs_scenarios`` ini option and of
    ``--mockjobs-scenarios``, and those of a ``@pytest.mark.mockjobs_scenarios(...)`` marker.
    An unexpected exception in the server fails the test that caused it.

    Example::

        def test_client_waits_for_mission(mockjobs):
            job = mockjobs.start("add-mission", missionId="abc")
            assert my_client.poll_once(job.url)["status"] == "EXECUTING"
            job.advance(to="end")
            assert my_client.wait(job.url).mission_id == "abc"
            assert job.polls.count >= 2
    """
    return MockJobs(mockjobs_server, _mockjobs_instance)


@pytest.fixture
def mockjobs_app(_mockjobs_instance: AppInstance) -> Flask:
    """The Flask app of this test's mock server, reset like ``mockjobs`` (same state).

    For in-process requests without a socket::

        def test_site_root(mockjobs_app):
            r = mockjobs_app.test_client().get("/arcgis/rest/info?f=json")
            assert r.json["currentVersion"] == 11.3
    """
    return _mockjobs_instance.app
