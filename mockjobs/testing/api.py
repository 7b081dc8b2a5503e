"""The test-side API of a live mock server: :class:`MockJobs`, :class:`MockJob`, :class:`MockClock`.

What the ``mockjobs`` pytest fixture hands a test, usable without pytest too (over a
:class:`mockjobs.testing.MockjobsServer`). Everything here drives the server's
``MockService`` directly, never through HTTP, so nothing a test does shows up as a poll.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from mockjobs.service import MockService
    from mockjobs.timeline import Job

    from .server import AppInstance, MockjobsServer

__all__ = [
    "Duration",
    "Instant",
    "MockClock",
    "MockFault",
    "MockJob",
    "MockJobs",
    "MockResource",
    "MockjobsServerError",
    "PollStats",
]

#: A duration as scenario files write it (seconds as a number, "250ms", "1m30s") or a timedelta.
Duration = int | float | str | _dt.timedelta

#: A point in time: epoch milliseconds, or a datetime (naive ones are local time).
Instant = int | float | _dt.datetime


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


def describe_errors(errors: Sequence[BaseException]) -> str:
    """The server-side tracebacks, as text."""
    return "\n".join("".join(traceback.format_exception(type(e), e, e.__traceback__)) for e in errors)


def _server_error(errors: Sequence[BaseException]) -> MockjobsServerError:
    """One exception for every error the server raised, caused by the first."""
    first = errors[0]
    text = f"the mock server raised {type(first).__name__}: {first}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more; their tracebacks follow)\n" + describe_errors(errors[1:])
    exc = MockjobsServerError(text)
    exc.__cause__ = first
    return exc


def unscripted_errors(service: MockService) -> list[dict[str, Any]]:
    """Journal entries answered with an ArcGIS error that no fault scripted."""
    return [e for e in service.journal.entries() if "error" in e and "fault" not in e]


def describe_requests(entries: Sequence[dict[str, Any]]) -> str:
    """One line per journal entry: method, path?query, HTTP status and ArcGIS error code."""
    lines = []
    for e in entries:
        query = f"?{e['query']}" if e.get("query") else ""
        lines.append(f"  {e['method']} {e['path']}{query} -> HTTP {e.get('http')}, error {e.get('error')}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the API


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
        faults: every fault the polls met, ``{"poll": N, "id": ..., "effect": ...}``, in order.
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
    faults: tuple[dict[str, Any], ...]
    entries: tuple[dict[str, Any], ...] = field(repr=False)


class MockFault:
    """A fault added from the test (see :meth:`MockJob.fault` and :meth:`MockJobs.fault`).

    Attributes:
        id: the fault's id (as ``/__mock/faults`` shows it).
        doc: the fault as ``/__mock/faults`` shows it: ``id``, ``jobId`` or ``scenario`` when
            scoped, ``when``, ``do``, ``source``.
    """

    def __init__(self, service: MockService, doc: dict[str, Any]) -> None:
        self._service = service
        self.id: str = doc["id"]
        self.doc = doc

    def __repr__(self) -> str:
        return f"<MockFault {self.id} when={self.doc['when']} do={self.doc['do']}>"

    @property
    def firings(self) -> list[dict[str, Any]]:
        """The journal entries of the polls this fault fired on, oldest first."""
        return [e for e in self._service.journal.entries() if (e.get("fault") or {}).get("id") == self.id]

    def remove(self) -> None:
        """Take the fault away (the reset after each test removes every fault anyway)."""
        self._service.rules.delete(self.id)


def _add_fault(service: MockService, when: Mapping[str, Any] | None, do: Mapping[str, Any], **scope: str) -> MockFault:
    """A fault through the service, validated as ``POST /__mock/faults`` validates it."""
    body: dict[str, Any] = {k: v for k, v in scope.items() if v is not None}
    body["when"] = _json_durations(dict(when or {}))
    body["do"] = _json_durations(dict(do))
    return MockFault(service, service.rules.add(body).to_doc())


def _json_durations(values: dict[str, Any]) -> dict[str, Any]:
    """timedelta values as seconds, as the JSON form of a fault takes them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, _dt.timedelta):
            value = value.total_seconds()
        elif isinstance(value, (list, tuple)):
            value = [v.total_seconds() if isinstance(v, _dt.timedelta) else v for v in value]
        out[key] = value
    return out


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


class MockResource:
    """A resource a job leaves behind (scenario key ``resources``), seen from the test.

    Its state is read afresh on every access; nothing here goes through HTTP, so nothing is
    journaled. See :attr:`MockJob.resources` and :meth:`MockJobs.resource`.

    Attributes:
        key: names this resource of this very job (``jobId#seq/index``).
        path: its path under the context, rendered (``/rest/services/<id>/MissionServer``).
        aliases: its other paths.
        url: ``<server><context><path>``.
        job_id: the job it belongs to.
    """

    def __init__(self, owner: MockJobs, job: Job, index: int, paths: Sequence[str]) -> None:
        self._owner = owner
        self._service = owner.service
        self._job_id = job.job_id
        self._seq = job.seq
        self._index = index
        self.key = f"{job.job_id}#{job.seq}/{index}"
        self.path: str = paths[0]
        self.aliases: tuple[str, ...] = tuple(paths[1:])
        self.url = f"{owner.url}{owner.context}{self.path}"
        self.job_id: str = job.job_id

    def __repr__(self) -> str:
        return f"<MockResource {self.path} ({self.state})>"

    def _now(self) -> Any:
        from mockjobs import resources

        job = self._service.get(self._job_id)
        if job.seq != self._seq:
            from mockjobs.errors import NotFound

            raise NotFound(f"job {self._job_id} was deleted and created again")
        return resources.of_job(self._service, job, self._service.now())[self._index]

    @property
    def state(self) -> str:
        """``pending`` (not appeared yet), ``live``, or ``removed`` (by an operation with ``removes``)."""
        return str(self._now().state)

    @property
    def live(self) -> bool:
        """Whether its paths answer now (they answer the 404 envelope otherwise)."""
        return self.state == "live"

    @property
    def document(self) -> Any:
        """Its document, as ``GET <url>?f=json`` answers once it is live."""
        return self._now().document()

    @property
    def listed(self) -> Any:
        """Its entry in ``CTX/rest/services`` (None when the scenario lists none)."""
        return self._now().listed()

    def child(self, name: str) -> Any:
        """A child resource's document (``GET <url>/<name>``); KeyError for an unknown name."""
        return self._now().child(name)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The journal entries of requests for it (its paths, children and operations), oldest first."""
        return [
            e
            for e in self._service.journal.entries(self._job_id)
            if e.get("kind") == "resource" and e.get("resource") == self.path
        ]

    def remove(self) -> None:
        """Remove it now, as an operation with ``removes: true`` would (reset brings static ones back)."""
        self._service.store.remove_resource(self.key, self._service.now())


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
        entries = self._service.poll_entries(job)
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
            faults=tuple(summary["faults"]),
            entries=tuple(entries),
        )

    @property
    def resources(self) -> list[MockResource]:
        """The resources the job's scenario declares (``resources:``), in file order, whatever their state."""
        from mockjobs import resources

        job = self._job()
        return [
            MockResource(self._owner, job, r.index, r.paths)
            for r in resources.of_job(self._service, job, self._service.now())
        ]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The journal entries of this job (its trigger and its polls), oldest first."""
        return self._service.journal.entries(self.id)

    def fault(self, when: Mapping[str, Any] | None = None, *, do: Mapping[str, Any]) -> MockFault:
        """Make this job's polls meet a fault; returns the :class:`MockFault`.

        ``when`` holds the conditions, all of which must hold (none: every poll): ``poll``
        (the Nth poll, once), ``every`` (every Nth poll), ``times`` (at most this many
        firings), ``after``/``before`` (a window of the job's scenario time), ``probability``
        with an optional ``seed`` (the same polls fire on every run). ``do`` is one effect:
        ``{"http": 503, "retry_after": 5}`` (Retry-After defaults to the seconds until the
        next event), ``{"error": {"code": 500, "message": "..."}}`` (an ArcGIS error with
        HTTP 200), ``{"delay": "2s"}`` or ``{"delay": ["500ms", "3s"]}``, ``{"drop": True}``
        (the connection closes unanswered), ``{"truncate": True}`` (a cut body) or
        ``{"stale": True}`` (the previous event's document). Durations take the scenario forms
        or a timedelta. Polls are counted from the first poll a fault covers, so add faults
        before the client polls. Raises mockjobs.errors.BadRequest naming the field at fault::

            job = mockjobs.start("add-mission")
            job.fault(when={"poll": 2}, do={"http": 503, "retry_after": 0})
        """
        self._job()
        return _add_fault(self._service, when, do, jobId=self.id)


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
    request journal, no fault added by :meth:`fault` or :meth:`MockJob.fault`, poll counts
    at 0, :attr:`strict` as the ini option ``mockjobs_strict`` says. Under pytest-xdist each
    worker has its own server.
    """

    def __init__(self, server: MockjobsServer, instance: AppInstance) -> None:
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
        pace: str | None = None,
        **more_vars: Any,
    ) -> MockJob:
        """Start a job of a scenario now, as its trigger would; returns a :class:`MockJob`.

        Keyword arguments are the scenario's vars (``missionId="abc"``); vars not given get
        their scenario value or a generated one. A few names are reserved: ``job_id`` (a
        fixed id), ``speed`` (scenario seconds per second; default the server's), ``params``
        (the trigger request's parameters, for ``{params.NAME}``), ``start_time`` (epoch ms
        or datetime; default now), ``pace`` (``"poll"``: the Nth poll of the job sees the
        state after its Nth event, whatever the clock says; default the scenario's
        ``job.pace``) and ``vars``; a var that has one of these names goes in
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
            pace=pace,
        )
        return MockJob(self, job)

    def job(self, job_id: str) -> MockJob:
        """A job that already exists (started by a trigger, say), by id."""
        return MockJob(self, self.service.get(job_id))

    def resource(self, path: str) -> MockResource:
        """The resource at a path under the context (or an alias, or its full URL), whatever its state.

        ``mockjobs.resource(f"/rest/missions/{mission_id}")``; a live one wins over a removed
        one at the same path. Raises KeyError when no job's scenario declares a resource there.
        """
        from mockjobs import resources

        base = f"{self.url}{self.context}"
        rel = path[len(base) :] if path.startswith(base) else path
        found = resources.find(self.service, rel.split("?", 1)[0])
        if found is None or found[1]:
            raise KeyError(f"no job has a resource at {rel}")
        res = found[0]
        return MockResource(self, res.job, res.index, res.paths)

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

    def fault(
        self, when: Mapping[str, Any] | None = None, *, do: Mapping[str, Any], scenario: str | None = None
    ) -> MockFault:
        """A fault on the polls of every job (or of one scenario's jobs); see :meth:`MockJob.fault`."""
        return _add_fault(self.service, when, do, scenario=scenario)  # type: ignore[arg-type]

    @property
    def faults(self) -> list[MockFault]:
        """The faults added during this test (by :meth:`fault`, :meth:`MockJob.fault` or the API)."""
        return [MockFault(self.service, f.to_doc()) for f in self.service.rules.api_faults()]

    @property
    def strict(self) -> bool:
        """Whether the test fails after its body when the mock answered an error it did not script.

        Unscripted errors are those the mock answered on its own (an unknown job or path, a
        bad ``f``, a missing token, ...), not those of a fault. Off unless the ini option
        ``mockjobs_strict = true`` turns it on; set it per test. See :meth:`unscripted_errors`.
        """
        return self._instance.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._instance.strict = bool(value)

    def unscripted_errors(self) -> list[dict[str, Any]]:
        """The journal entries of requests answered with an error no fault scripted, oldest first."""
        return unscripted_errors(self.service)

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
