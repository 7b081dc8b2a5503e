"""pytest plugin: a live mock Mission Server in one fixture (see docs/pytest-plugin.md).

Registered through the ``pytest11`` entry point, so installing mockjobs is all a suite needs::

    def test_client_waits_for_mission(mockjobs):
        job = mockjobs.start("add-mission", missionId="abc")
        job.advance(to="end")
        assert job.state()["customAttributes"]["missionId"] == "abc"

At pytest start-up this module imports only the standard library and pytest; Flask, werkzeug
and the mockjobs internals are imported the first time a test asks for a fixture.

Fixtures:

- ``mockjobs`` (function): a :class:`MockJobs` over the session's live server, reset for
  the test.
- ``mockjobs_app`` (function): the Flask app behind it, reset for the test (for
  ``test_client()``).
- ``mockjobs_server`` (session): the :class:`MockjobsServer` itself (``.url``, ``.rest_url``),
  for session-scoped fixtures that need the address.
- ``mockjobs_config`` (session): extra ``create_app`` settings; override it in a conftest.

Options: the ini option ``mockjobs_scenarios`` and ``--mockjobs-scenarios DIR`` add scenario
folders to the bundled scenarios; the marker ``@pytest.mark.mockjobs_scenarios(DIR, ...)``
adds folders for one module, class or test.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from mockjobs.service import MockService
    from mockjobs.timeline import Job

__all__ = [
    "Duration",
    "MockClock",
    "MockJob",
    "MockJobs",
    "MockjobsServer",
    "MockjobsServerError",
    "PollStats",
]

#: A duration as scenario files write it (seconds as a number, "250ms", "1m30s") or a timedelta.
Duration = int | float | str | _dt.timedelta

#: A point in time: epoch milliseconds, or a datetime (naive ones are local time).
Instant = int | float | _dt.datetime

_MARKER = "mockjobs_scenarios"
_INI = "mockjobs_scenarios"
_INSTANCE = pytest.StashKey["_Instance"]()


class MockjobsServerError(Exception):
    """The mock server raised an unexpected exception while serving this test.

    Raised by :meth:`MockJobs.check`; its ``__cause__`` is the server-side exception, with its
    traceback. Without a check, the test fails after its body with the server's tracebacks;
    a test that fails anyway gets them as a "mockjobs server errors" report section.
    """


# --------------------------------------------------------------------------- small helpers


def _duration_ms(value: Duration, *, allow_negative: bool = False) -> float:
    """Milliseconds of a duration in any form scenario files accept, or a timedelta."""
    from mockjobs.durations import parse_ms

    return parse_ms(value, allow_negative=allow_negative)


def _epoch_ms(value: Instant) -> int:
    """Epoch milliseconds of an int/float (already ms) or a datetime."""
    if isinstance(value, _dt.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected epoch milliseconds or a datetime, not {value!r}")
    return round(value)


def _statuses(first: str, more: Iterable[str]) -> frozenset[str]:
    """The wanted statuses, upper-cased."""
    return frozenset(s.upper() for s in (first, *more))


def _describe_errors(errors: Sequence[BaseException]) -> str:
    """The server-side tracebacks, as text."""
    return "\n".join("".join(traceback.format_exception(type(e), e, e.__traceback__)) for e in errors)


def _failure(errors: Sequence[BaseException]) -> BaseException:
    """A test failure showing the server's tracebacks (and no pytest internals)."""
    names = ", ".join(sorted({type(e).__name__ for e in errors}))
    text = f"mockjobs: the mock server raised {names} while serving this test:\n\n" + _describe_errors(errors)
    return pytest.fail.Exception(text.rstrip(), pytrace=False)


def _server_error(errors: Sequence[BaseException]) -> MockjobsServerError:
    """One exception for every error the server raised, caused by the first."""
    first = errors[0]
    text = f"the mock server raised {type(first).__name__}: {first}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more; their tracebacks follow)\n" + _describe_errors(errors[1:])
    exc = MockjobsServerError(text)
    exc.__cause__ = first
    return exc


# --------------------------------------------------------------------------- server side


class _Instance:
    """One Flask app (one set of scenario folders) with its own state file."""

    def __init__(self, folders: Sequence[Path], config: Mapping[str, Any], state_dir: Path) -> None:
        from mockjobs import create_app
        from mockjobs.config import DEFAULTS

        # Every key is given, so MOCKJOBS_* variables of the developer's shell never apply.
        cfg: dict[str, Any] = dict(DEFAULTS, RELOAD_INTERVAL=0)  # the per-test reset rescans
        cfg.update((str(k).upper(), v) for k, v in config.items())
        cfg.update(SCENARIOS=[str(f) for f in folders], BUNDLED=True, STATE=str(state_dir / "state.db"))
        self.folders = tuple(folders)
        self.app: Flask = create_app(cfg)
        self.service: MockService = self.app.extensions["mockjobs"]
        self.context: str = self.app.config["CONTEXT"]
        self.default_speed = self.service.speed
        self.errors: list[BaseException] = self.app.extensions.setdefault("mockjobs.errors", [])

    def load_errors(self) -> list[str]:
        """Problems in the scenario folders (bad files, missing folders), one line each."""
        return [str(e) for e in self.service.registry.catalog.errors]

    def reset(self) -> None:
        """Static jobs only, real clock, empty journal, default speed, no pending errors."""
        self.service.reset()
        self.service.speed = self.default_speed
        del self.errors[:]

    def take_errors(self) -> list[BaseException]:
        """The server-side exceptions raised since the last call, forgotten here."""
        taken = list(self.errors)
        del self.errors[: len(taken)]  # keep any that arrived meanwhile
        return taken


class MockjobsServer:
    """The session's live server: a werkzeug server in a daemon thread on a free port.

    The port is bound once (port 0) and read back, so there is no race with other processes.
    Every set of scenario folders (bundled + configured + a marker's) gets its own app and
    state file; the server routes requests to the app of the test that is running, so its
    URL stays the same for the whole session. Under pytest-xdist each worker has its own.

    Attributes:
        url: ``http://127.0.0.1:PORT`` (no trailing slash); ``https://`` with ``{"TLS": True}``.
        rest_url: ``url + CTX + "/rest"``, e.g. ``http://127.0.0.1:PORT/arcgis/rest``.
        context: the context path, e.g. ``/arcgis``.
        port: the bound port.
        cert_path: with ``{"TLS": True}`` in ``mockjobs_config``, the self-signed certificate
            (PEM) to trust, e.g. ``requests.get(url, verify=cert_path)``; None otherwise.
    """

    def __init__(
        self,
        state_root: Path,
        folders: Sequence[Path] = (),
        config: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _QuietHandler(WSGIRequestHandler):
            """No access log: a test suite makes thousands of requests."""

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """Say nothing."""

        self._root = Path(state_root)
        self._config = {str(k).upper(): v for k, v in (config or {}).items()}
        self.cert_path: str | None = None
        ssl_context: tuple[str, str] | None = None
        if self._config.pop("TLS", False):  # HTTPS with a certificate made now (mockjobs.tls)
            from mockjobs.tls import self_signed

            cert = self_signed(self._root / "tls")
            self.cert_path, ssl_context = str(cert.certfile), (str(cert.certfile), str(cert.keyfile))
        self._folders = tuple(folders)
        self._instances: dict[tuple[Path, ...], _Instance] = {}
        self._lock = threading.Lock()
        self._active = self._instance(self._folders)
        self.context = self._active.context
        self._server = make_server(
            host, 0, self._dispatch, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context
        )
        self.port: int = self._server.server_address[1]
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{self.port}"
        self.rest_url = f"{self.url}{self.context}/rest"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="mockjobs-server", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"<MockjobsServer {self.url}>"

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """WSGI entry: the active test's app; an exception escaping it is kept for the test."""
        instance = self._active
        try:
            return instance.app(environ, start_response)
        except Exception as exc:
            instance.errors.append(exc)
            raise

    def _instance(self, folders: Sequence[Path]) -> _Instance:
        """The app for these scenario folders, built on first use."""
        key = tuple(folders)
        with self._lock:
            found = self._instances.get(key)
            if found is None:
                state_dir = self._root / f"app{len(self._instances)}"
                state_dir.mkdir(parents=True, exist_ok=True)
                found = self._instances[key] = _Instance(key, self._config, state_dir)
            return found

    def _activate(self, extra_folders: Sequence[Path] = ()) -> _Instance:
        """Serve the app for the configured folders plus extra_folders, freshly reset."""
        folders = list(self._folders)
        folders += [f for f in extra_folders if f not in folders]
        instance = self._instance(folders)
        instance.reset()
        self._active = instance
        return instance

    def stop(self) -> None:
        """Stop serving, wait for the server thread, close this thread's files."""
        self._server.shutdown()
        self._thread.join(timeout=10)
        for instance in self._instances.values():
            instance.service.journal.close()
            close = getattr(instance.service.store, "close", None)
            if close is not None:
                close()


# --------------------------------------------------------------------------- the test-side API


@dataclass(frozen=True)
class PollStats:
    """How a client polled one job (GETs and POSTs of its resource, any ``f``).

    ``intervals`` and ``first_delay`` are in real seconds (as the control API reports them);
    ``clock_intervals`` are in mock-clock seconds, which is what a test sees when the client's
    sleep advances the mock clock instead of sleeping.

    Attributes:
        count: how many polls.
        intervals: real seconds between consecutive polls.
        clock_intervals: mock-clock seconds between consecutive polls.
        min_interval, median_interval, max_interval: of ``intervals`` (None below two polls).
        first_delay: real seconds from the job's creation to the first poll (None: no poll).
        terminal_seen: whether a poll saw COMPLETED, FAILED or CANCELLED.
        after_terminal: polls after the first one that saw a terminal status.
        formats: the ``f`` values used, sorted.
        entries: the journal entries of the polls.
    """

    count: int
    intervals: tuple[float, ...]
    clock_intervals: tuple[float, ...]
    min_interval: float | None
    median_interval: float | None
    max_interval: float | None
    first_delay: float | None
    terminal_seen: bool
    after_terminal: int
    formats: tuple[str, ...]
    entries: tuple[dict[str, Any], ...] = field(repr=False)


class MockClock:
    """The server's mock clock: real time unless frozen, set or advanced.

    Every method returns the clock's new time in epoch milliseconds. Durations take the
    scenario forms (``2``, ``1.5``, ``"250ms"``, ``"1m30s"``) or a ``datetime.timedelta``;
    instants are epoch milliseconds or a ``datetime`` (a naive one is local time).
    ``clock.advance`` makes a good ``sleep`` to inject into a polling client: mock time then
    moves exactly as far as the client waits, and the test never sleeps.
    """

    def __init__(self, service: MockService) -> None:
        self._service = service

    def __repr__(self) -> str:
        info = self._service.clock()
        return f"<MockClock now={info['now']} frozen={info['frozen']} real={info['real']}>"

    @property
    def now(self) -> int:
        """The mock clock now, in epoch milliseconds."""
        return self._service.now()

    @property
    def frozen(self) -> bool:
        """Whether the clock is stopped."""
        return bool(self._service.clock()["frozen"])

    def freeze(self, at: Instant | None = None) -> int:
        """Stop the clock where it is (or at ``at``)."""
        set_ms = None if at is None else _epoch_ms(at)
        return int(self._service.change_clock(freeze=True, set_ms=set_ms)["now"])

    def unfreeze(self) -> int:
        """Let a frozen clock run on from where it stands (the offset stays)."""
        return int(self._service.change_clock(freeze=False)["now"])

    def set(self, to: Instant) -> int:
        """Show ``to`` now; a frozen clock stays frozen."""
        return int(self._service.change_clock(set_ms=_epoch_ms(to))["now"])

    def advance(self, by: Duration) -> int:
        """Move the clock (and so every job) by a duration; negative moves it back."""
        return int(self._service.change_clock(advance_ms=round(_duration_ms(by, allow_negative=True)))["now"])

    def real(self) -> int:
        """Back to real time: not frozen, no offset."""
        return int(self._service.change_clock(real=True)["now"])


class MockJob:
    """One job on the mock server, driven from the test.

    Nothing here goes through HTTP: :meth:`state` is not a poll and leaves no journal entry,
    so poll counts only ever show what the client under test did.

    Attributes:
        id: the job id.
        url: the job resource, ``<rest_url>/jobs/<id>`` (add ``?f=json`` for JSON).
        scenario: the scenario's name.
        vars: the job's var values (generated ones included), e.g. ``vars["missionId"]``.
    """

    def __init__(self, owner: MockJobs, job: Job) -> None:
        self._owner = owner
        self._service = owner.service
        self.id: str = job.job_id
        self.url = f"{owner.rest_url}/jobs/{job.job_id}"
        self.scenario: str = job.scenario
        self.vars: dict[str, Any] = dict(job.vars)
        self._seq = job.seq

    def __repr__(self) -> str:
        return f"<MockJob {self.id} ({self.scenario})>"

    def _job(self) -> Job:
        """The job as the store has it now."""
        job = self._service.get(self.id)
        if job.seq != self._seq:
            from mockjobs.errors import NotFound

            raise NotFound(f"job {self.id} was deleted and created again")
        return job

    def state(self) -> dict[str, Any]:
        """The job document for now, exactly as ``GET <url>?f=json`` answers (not a poll)."""
        return self._service.view(self._job()).document()

    @property
    def status(self) -> str:
        """The job's status now (``EXECUTING``, ``COMPLETED``, ...)."""
        return str(self.state()["status"])

    def advance(self, by: Duration | None = None, *, to: str | Duration | None = None) -> dict[str, Any]:
        """Move this job (only) forward in its scenario time; returns its new document.

        Give ``by`` (a duration, also positional) or ``to``: ``"next"`` (the next event),
        ``"end"`` (the last event of the timeline, or of the cancel story once cancelled) or
        an offset from the job's start. Durations are in scenario time. The job looks as if it
        had started earlier; no other job and not the clock move.
        """
        if (by is None) == (to is None):
            raise TypeError("advance() needs exactly one of by=<duration> or to='next'|'end'|<offset>")
        if by is not None:
            self._service.advance(self.id, by_ms=_duration_ms(by))
        elif to in ("next", "end"):
            self._service.advance(self.id, to=to)
        else:
            self._service.advance(self.id, to=_duration_ms(to))  # type: ignore[arg-type]
        return self.state()

    def advance_to(self, status: str, *more: str) -> dict[str, Any]:
        """Move the job event by event until its status is one of those given; its document.

        Fails (AssertionError, with the job's messages) when the job ends, or runs out of
        events, without reaching any of them.
        """
        wanted = _statuses(status, more)
        while True:
            doc = self.state()
            if doc["status"] in wanted:
                return doc
            v = self._service.view(self._job())
            if v.state.next_at is None:
                raise AssertionError(
                    f"job {self.id} ({self.scenario}) stopped at {doc['status']} without reaching "
                    f"{' or '.join(sorted(wanted))}; messages: {doc['messages']}"
                )
            self._service.advance(self.id, to="next")

    def wait_for(self, status: str, *more: str, timeout: Duration = 10.0) -> dict[str, Any]:
        """Wait in real time until the status is one of those given; its document.

        For jobs moved by something else (the clock running, a client cancelling in another
        thread). Raises TimeoutError after ``timeout``, AssertionError if the job ends in
        another status.
        """
        wanted = _statuses(status, more)
        deadline = time.monotonic() + _duration_ms(timeout) / 1000
        pause = threading.Event()
        while True:
            v = self._service.view(self._job())
            doc = v.document()
            if doc["status"] in wanted:
                return doc
            if v.state.terminal:
                raise AssertionError(
                    f"job {self.id} ended {doc['status']}, never {' or '.join(sorted(wanted))}; "
                    f"messages: {doc['messages']}"
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.id} is still {doc['status']} after {timeout}")
            pause.wait(0.005)

    def cancel(self) -> dict[str, Any]:
        """Cancel the job as a client would: ``isCancelled`` flips and ``on_cancel`` replays.

        Raises mockjobs.errors.Conflict if the job has already ended. Returns the document.
        """
        self._service.cancel(self.id)
        return self.state()

    @property
    def polls(self) -> PollStats:
        """How the job's resource has been polled so far (see :class:`PollStats`)."""
        from mockjobs.journal import poll_summary

        job = self._job()
        entries = [
            e for e in self._service.journal.entries(self.id) if e.get("kind") == "poll" and e.get("seq") == job.seq
        ]
        summary = poll_summary(entries, job.created_ms)
        real = [e["real"] for e in entries]
        mock = [e["time"] for e in entries]
        return PollStats(
            count=summary["count"],
            intervals=tuple((b - a) / 1000 for a, b in zip(real, real[1:], strict=False)),
            clock_intervals=tuple((b - a) / 1000 for a, b in zip(mock, mock[1:], strict=False)),
            min_interval=summary["intervals"]["min"],
            median_interval=summary["intervals"]["median"],
            max_interval=summary["intervals"]["max"],
            first_delay=summary["firstDelay"],
            terminal_seen=summary["terminalSeen"],
            after_terminal=summary["afterTerminal"],
            formats=tuple(summary["formats"]),
            entries=tuple(entries),
        )

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The journal entries of this job (its trigger and its polls), oldest first."""
        return self._service.journal.entries(self.id)


class MockJobs:
    """The ``mockjobs`` fixture: the live mock server, reset for this test.

    Attributes:
        url: the server's root, ``http://127.0.0.1:PORT`` (no trailing slash).
        rest_url: ``url + CTX + "/rest"``: where an ArcGIS client points.
        context: the context path (``/arcgis``).
        cert_path: the certificate to trust when the server serves HTTPS (``{"TLS": True}``), else None.
        clock: the server's :class:`MockClock`.
        app: the Flask app behind the server.
        service: the app's ``MockService`` (for what this API does not cover).

    Every test starts from the same state: the static jobs of the scenario files, no other
    job, scenarios added by :meth:`add_scenario` gone, the clock on real time, an empty
    request journal. Under pytest-xdist each worker has its own server.
    """

    def __init__(self, server: MockjobsServer, instance: _Instance) -> None:
        self._server = server
        self._instance = instance
        self.app: Flask = instance.app
        self.service: MockService = instance.service
        self.url = server.url
        self.cert_path = server.cert_path
        self.context = instance.context
        self.rest_url = f"{server.url}{instance.context}/rest"
        self.clock = MockClock(instance.service)

    def __repr__(self) -> str:
        return f"<MockJobs {self.rest_url}>"

    def start(
        self,
        scenario: str,
        /,
        *,
        job_id: str | None = None,
        speed: float | None = None,
        params: Mapping[str, Any] | None = None,
        start_time: Instant | None = None,
        vars: Mapping[str, Any] | None = None,
        **more_vars: Any,
    ) -> MockJob:
        """Start a job of a scenario now, as its trigger would; returns a :class:`MockJob`.

        Keyword arguments are the scenario's vars (``missionId="abc"``); vars not given get
        their scenario value or a generated one. A few names are reserved: ``job_id`` (a
        fixed id), ``speed`` (scenario seconds per second; default the server's), ``params``
        (the trigger request's parameters, for ``{params.NAME}``), ``start_time`` (epoch ms
        or datetime; default now) and ``vars``; a var that has one of these names goes in
        ``vars={...}``. Unknown scenarios, unknown vars and taken ids raise the
        mockjobs.errors NotFound, BadRequest and Conflict.
        """
        values = dict(vars or {})
        values.update(more_vars)
        job = self.service.create(
            scenario,
            job_id=job_id,
            vars=values,
            params=params,
            speed=speed,
            start_time=None if start_time is None else _epoch_ms(start_time),
        )
        return MockJob(self, job)

    def job(self, job_id: str) -> MockJob:
        """A job that already exists (started by a trigger, say), by id."""
        return MockJob(self, self.service.get(job_id))

    def jobs(self, scenario: str | None = None, *, static: bool = False) -> list[MockJob]:
        """The jobs started during this test (of one scenario, if given), oldest first.

        ``static=True`` includes the static jobs of the scenario files.
        """
        return [
            MockJob(self, j)
            for j in self.service.store.jobs()
            if (static or not j.static) and (scenario is None or j.scenario == scenario)
        ]

    def add_scenario(self, scenario: str | Mapping[str, Any]) -> str:
        """Add a scenario for this test only, as YAML text or a dict; returns its name.

        It is validated like a file (mockjobs.errors.ScenarioErrors lists every problem,
        ``<add_scenario>:LINE: field: message``); without ``name`` it is called
        ``scenario``. Its trigger, if any, answers over HTTP; its static ``jobs`` are created
        at once. A name or trigger that another scenario has raises mockjobs.errors.Conflict
        (adding the very same text again is allowed). The reset after the test removes it.
        """
        return self.service.add_scenario(scenario, "<add_scenario>", same_ok=True).name

    @property
    def speed(self) -> float:
        """The default speed of new jobs (trigger-started ones too); reset after each test."""
        return self.service.speed

    @speed.setter
    def speed(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"speed must be a number above 0, not {value!r}")
        self.service.speed = float(value)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request journal: every request under the context path, oldest first.

        Each entry is a dict with ``method``, ``path``, ``query``, ``f``, ``http``, ``time``
        (mock clock ms), ``real`` (real ms) and, for job requests, ``kind`` (``poll`` or
        ``trigger``), ``jobId`` and ``status``.
        """
        return self.service.journal.entries()

    def reset(self) -> None:
        """Back to the state every test starts from (done for you between tests)."""
        self.service.reset()
        self.service.speed = self._instance.default_speed

    def check(self) -> None:
        """Raise :class:`MockjobsServerError` if the server raised since the last check.

        Done for you after the test body; call it to fail at a precise point instead.
        """
        errors = self._instance.take_errors()
        if errors:
            raise _server_error(errors)


# --------------------------------------------------------------------------- pytest wiring


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option and the command-line option for scenario folders."""
    parser.addini(
        _INI,
        "scenario folders the mockjobs fixture serves besides the bundled scenarios (relative to the ini file)",
        type="paths",
        default=[],
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
    if not errors:
        return
    if outcome.excinfo is not None:  # failed anyway: show the server's side too
        item.add_report_section("call", "mockjobs server errors", _describe_errors(errors))
        return
    exc = _failure(errors)
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
def _mockjobs_instance(request: pytest.FixtureRequest, mockjobs_server: MockjobsServer) -> Iterator[_Instance]:
    """This test's app: picked by marker, reset, watched for server-side errors."""
    instance = mockjobs_server._activate(_marker_folders(request.node))
    problems = instance.load_errors()
    if problems:
        pytest.fail("mockjobs: the scenario folders have errors:\n" + "\n".join(problems), pytrace=False)
    request.node.stash[_INSTANCE] = instance
    yield instance
    errors = instance.take_errors()
    if errors:  # raised after the test body, e.g. while other fixtures tore down
        raise _failure(errors)


@pytest.fixture
def mockjobs(mockjobs_server: MockjobsServer, _mockjobs_instance: _Instance) -> MockJobs:
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
def mockjobs_app(_mockjobs_instance: _Instance) -> Flask:
    """The Flask app of this test's mock server, reset like ``mockjobs`` (same state).

    For in-process requests without a socket::

        def test_site_root(mockjobs_app):
            r = mockjobs_app.test_client().get("/arcgis/rest/info?f=json")
            assert r.json["currentVersion"] == 11.3
    """
    return _mockjobs_instance.app
