"""What a mock server does with jobs, whatever the HTTP surface: the app's extension object."""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import timeline
from .auth import Credentials, Tokens
from .catalog import Registry
from .clock import ClockState, TimeSource
from .errors import BadRequest, Conflict, MockjobsError, NotFound, Stale
from .faults import PACES
from .journal import poll_summary
from .limits import MAX_EPOCH_MS, MAX_SPEED, MIN_SPEED
from .masking import masked, masked_query
from .polling import PollRules
from .scenarios import JOB_ID_RE, Scenario, StaticJob, did_you_mean, load_object, load_text, new_job_id
from .store import Journal, Store
from .timeline import Job, State

log = logging.getLogger("mockjobs")


@dataclass(frozen=True)
class View:
    """A job with its scenario and its folded state at one instant."""

    job: Job
    scenario: Scenario
    state: State
    now: int

    def document(self) -> dict[str, Any]:
        """The job document of this state, as GET ?f=json answers it."""
        return timeline.render(self.scenario, self.job, self.state)


class MockService:
    """Jobs, clock and journal of one server; shared by its workers through the store."""

    def __init__(
        self, cfg: Mapping[str, Any], store: Store, registry: Registry, journal: Journal, time: TimeSource
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.registry = registry
        self.journal = journal
        self.time = time
        self.speed = float(cfg["SPEED"])
        self._journal_on = bool(cfg["JOURNAL"])
        self._entries = itertools.count(1)
        self.tokens = Tokens(
            Credentials.parse(str(cfg["USER"])), store.meta_default("token_secret", Tokens.new_secret())
        )
        self.server_start = int(store.meta_default("server_start", str(self.now())))
        self.rules = PollRules(self)
        self.seed_static()

    # ------------------------------------------------------------------ time

    def real_ms(self) -> int:
        """Real (source) time in epoch ms."""
        return self.time.now_ms()

    def now(self) -> int:
        """The mock clock in epoch ms."""
        return self.store.clock().now(self.time.now_ms())

    def clock(self) -> dict[str, Any]:
        """The clock as the control API shows it."""
        return self.store.clock().describe(self.time.now_ms())

    def change_clock(
        self,
        *,
        freeze: bool | None = None,
        set_ms: int | None = None,
        advance_ms: int | None = None,
        real: bool = False,
    ) -> dict[str, Any]:
        """Freeze or unfreeze, set, advance, or return to real time; in that order."""
        real_now = self.time.now_ms()

        def change(state: ClockState) -> ClockState:
            if real:
                state = ClockState()
            if freeze is True:
                state = state.freeze(real_now)
            if set_ms is not None:
                state = state.set(set_ms, real_now)
            if advance_ms is not None:
                state = state.advance(advance_ms)
            if freeze is False:
                state = state.unfreeze(real_now)
            return state

        return self.store.update_clock(change).describe(real_now)

    # ------------------------------------------------------------------ jobs

    def static_jobs(self) -> list[Job]:
        """The static jobs of the current scenario files, as fresh jobs (their versions kept in the store)."""
        out = []
        for sc in self.registry.catalog.scenarios.values():
            if sc.jobs:
                self.registry.remember(sc)  # so every worker can replay them
                out.extend(self._static_job(sc, sj, self.server_start) for sj in sc.jobs)
        return out

    def _static_job(self, sc: Scenario, sj: StaticJob, default_start: int) -> Job:
        """A scenario's static job, starting at its fixed startTime or at default_start."""
        return Job(
            job_id=sj.job_id,
            scenario=sc.name,
            version=sc.version,
            vars=sc.resolve_vars(sj.vars),
            params=dict(sj.params),
            start_ms=sj.start_time if sj.start_time is not None else default_start,
            speed=sj.speed or 1.0,
            static=True,
            created_ms=self.real_ms(),
        )

    def seed_static(self) -> None:
        """Create the static jobs that do not exist yet (at start and after a reload)."""
        self.store.seed_jobs(self.static_jobs())

    def add_scenario(self, source: str | Mapping[str, Any], file: str = "<api>", *, same_ok: bool = False) -> Scenario:
        """Add a scenario (YAML text or a mapping) while serving, with its static jobs.

        ScenarioErrors when it is invalid; Conflict on a name, trigger or static job id that is
        taken, unless same_ok and the very same scenario is there already.
        """
        sc = load_text(source, file, "scenario") if isinstance(source, str) else load_object(source, file)
        existing = self.registry.get(sc.name)
        if existing is not None:
            if same_ok and existing.version == sc.version:
                return existing
            raise Conflict(f"scenario {sc.name!r} already exists ({existing.source.file})")
        other = self.registry.trigger(sc.trigger.method, sc.trigger.path) if sc.trigger else None
        if other is not None:
            assert sc.trigger is not None
            raise Conflict(f"{sc.trigger.method} {sc.trigger.path} already starts scenario {other.name!r}")
        taken = [sj.job_id for sj in sc.jobs if self.store.get_job(sj.job_id) is not None]
        if taken:
            raise Conflict(f"job {taken[0]} already exists")
        now = self.now()
        static = [self._static_job(sc, sj, now) for sj in sc.jobs]  # before adding: a refusal leaves nothing behind
        self.registry.add(sc)
        self.store.seed_jobs(static)
        return sc

    def create(
        self,
        scenario: str | Scenario,
        *,
        job_id: str | None = None,
        vars: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        speed: float | None = None,
        start_time: int | None = None,
        pace: str | None = None,
    ) -> Job:
        """Start a job of scenario now (or at start_time); NotFound, Conflict or BadRequest.

        pace "poll" makes the job's Nth poll show the state after its Nth event, whatever
        the clock says; None follows the scenario's job.pace.
        """
        sc = scenario if isinstance(scenario, Scenario) else self.registry.get(scenario)
        if sc is None:
            names = sorted(s.name for s in self.registry.all())
            hint = did_you_mean(str(scenario), names)
            raise NotFound(f"no scenario {scenario!r}{'; ' + hint if hint else ''} (known: {', '.join(names)})")
        if job_id is not None and not JOB_ID_RE.match(job_id):
            raise BadRequest(f"jobId {job_id!r} is not usable: letters, digits, '_', '.', '-' only")
        if pace is not None and pace not in PACES:
            raise BadRequest(f"pace must be one of {', '.join(PACES)}, not {pace!r}")
        if speed is not None and not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
            raise BadRequest(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {speed}")
        if start_time is not None and not 0 <= start_time <= MAX_EPOCH_MS:
            raise BadRequest(f"startTime must be epoch ms between 0 and {MAX_EPOCH_MS} (year 9999), not {start_time}")
        try:
            values = sc.resolve_vars(vars)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        self.registry.remember(sc)
        job = Job(
            job_id=job_id or new_job_id(),
            scenario=sc.name,
            version=sc.version,
            vars=values,
            params={k: v for k, v in (params or {}).items()},
            start_ms=self.now() if start_time is None else int(start_time),
            speed=self.speed if speed is None else float(speed),
            created_ms=self.real_ms(),
            pace=pace,
        )
        return self.store.add_job(job)

    def get(self, job_id: str) -> Job:
        """A job by id; NotFound if there is none."""
        job = self.store.get_job(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job

    def scenario_of(self, job: Job) -> Scenario:
        """The scenario version job was started with."""
        sc = self.registry.version(job.version)
        if sc is None:
            raise NotFound(f"scenario version {job.version} of job {job.job_id} is not kept")
        return sc

    def view(self, job: Job, now: int | None = None) -> View:
        """job folded at now (default: the mock clock now)."""
        now = self.now() if now is None else now
        sc = self.scenario_of(job)
        if self.rules.paced(job, sc):  # between polls, a paced job shows what its last poll showed
            return View(
                job, sc, timeline.state_at(sc, job, timeline.paced_position(sc, job, self.rules.last_poll(job))), now
            )
        return View(job, sc, timeline.state_at(sc, job, timeline.position(sc, job, now)), now)

    def at(self, job: Job, elapsed_ms: float) -> dict[str, Any]:
        """The document of job at a scenario time (scrubbing), not cancelling anything."""
        sc = self.scenario_of(job)
        return timeline.render(sc, job, timeline.state_at(sc, job, timeline.position_at(sc, job, elapsed_ms)))

    def advance(self, job_id: str, *, by_ms: float | None = None, to: str | float | None = None) -> Job:
        """Move one job forward in its scenario time; no other job moves."""
        return _retrying(lambda: self._advance(job_id, by_ms, to))

    def _advance(self, job_id: str, by_ms: float | None, to: str | float | None) -> Job:
        job = self.get(job_id)
        sc = self.scenario_of(job)
        if self.rules.paced(job, sc):
            raise BadRequest(f"job {job_id} is paced by its polls (pace: poll); poll it to move it on")
        try:
            delta = timeline.advance_ms(sc, job, self.now(), by_ms=by_ms, to=to)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        if delta <= 0:
            return job
        return self.store.update_job(job, start_ms=timeline.shifted_start(job, delta))

    def cancel(self, job_id: str) -> Job:
        """Cancel a running job: its on_cancel story starts now; Conflict if it has ended."""
        return _retrying(lambda: self._cancel(job_id))

    def _cancel(self, job_id: str) -> Job:
        v = self.view(self.get(job_id))
        if v.state.terminal:
            raise Conflict(f"job {job_id} is {v.state.status}; only a running job can be cancelled")
        if v.state.cancelled:
            raise Conflict(f"job {job_id} is already being cancelled")
        return self.store.update_job(v.job, cancel_at=v.state.position.elapsed)

    def delete(self, job_id: str) -> None:
        """Remove a job; NotFound if there is none."""
        if not self.store.delete_job(job_id):
            raise NotFound(f"no job {job_id}")

    def reset(self) -> None:
        """Back to the start: static jobs only, real clock, empty journal."""
        self.registry.scan()
        self.store.reset(self.static_jobs())
        self.rules.clear()
        self.journal.clear()

    # ------------------------------------------------------------------ reports

    def record(self, method: str, path: str, query: str, f: str, http: int, note: Mapping[str, Any]) -> None:
        """Journal one request under the context; note adds kind, jobId, status (and now, if known)."""
        if not self._journal_on:
            return
        try:  # a store that is down loses the entry, never the answer
            entry = {
                "n": next(self._entries),
                "real": self.real_ms(),
                "time": note.get("now") or self.now(),
                "method": method,
                "path": path,
                "query": masked_query(query),  # secrets are never written to the journal
                "f": f,
                "http": http,
                "worker": os.getpid(),
            }
            entry.update((k, v) for k, v in note.items() if k != "now")
            self.journal.record(entry)
        except (OSError, MockjobsError) as exc:
            log.warning("could not write the request journal: %s", exc)

    def poll_entries(self, job: Job, entries: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The journal entries of job's polls (of this very job, not one deleted before it with its id)."""
        if entries is None:
            entries = self.journal.entries(job.job_id)
        return [e for e in entries if e.get("kind") == "poll" and e.get("seq") == job.seq]

    def polls(self, job: Job, entries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Poll cadence of a job, from the journal (or from its entries, already read)."""
        return poll_summary(self.poll_entries(job, entries), job.created_ms)

    def summaries(self, jobs: list[Job], *, polls: bool = True) -> list[dict[str, Any]]:
        """Jobs as the control API lists them, the journal read once for all of them."""
        now = self.now()  # one instant for the whole list (and one clock read, not one per job)
        if not polls:
            return [self.summary(job, polls=False, now=now) for job in jobs]
        by_job: dict[str, list[dict[str, Any]]] = {}
        for entry in self.journal.entries():
            by_job.setdefault(entry.get("jobId", ""), []).append(entry)
        return [self.summary(job, journal=by_job.get(job.job_id, []), now=now) for job in jobs]

    def summary(
        self, job: Job, *, polls: bool = True, journal: list[dict[str, Any]] | None = None, now: int | None = None
    ) -> dict[str, Any]:
        """A job as the control API lists it at now (default: the mock clock now; journal: its entries, if read)."""
        v = self.view(job, now)
        nxt = v.state.next_at
        out: dict[str, Any] = {
            "jobId": job.job_id,
            "scenario": job.scenario,
            "version": job.version,
            "static": job.static,
            "status": v.state.status,
            "stepsCompleted": v.state.steps,
            "isCancelled": v.state.cancelled,
            "startTime": job.start_ms,
            "speed": job.speed,
            "pace": job.pace or v.scenario.job.pace,
            "elapsed": round(v.state.position.elapsed / 1000, 3),
            "nextEventAt": None if nxt is None else round(nxt / 1000, 3),
            "nextEventTime": None if nxt is None else timeline.reached_time(job, nxt),
            "vars": dict(job.vars),
            "params": masked(job.params),
        }
        if polls:
            out["polls"] = self.polls(job, journal)
        return out

    def health(self) -> dict[str, Any]:
        """Status, counts and scenario load errors."""
        cat = self.registry.catalog
        return {
            "status": "ok" if not cat.errors else "degraded",
            "pid": os.getpid(),
            "scenarios": len(self.registry.all()),
            "scenarioFiles": cat.files,
            "jobs": self.store.count_jobs(),
            "errors": [str(e) for e in cat.errors],
            "clock": self.clock(),
            "store": self.store.url,
            "journal": self.journal.stats(),
            "servers": self.store.servers(time.time()),
        }


def _retrying(change: Callable[[], Job], tries: int = 5) -> Job:
    """change(), read and written again while another worker changed the job in between."""
    for _ in range(tries - 1):
        try:
            return change()
        except Stale:
            continue
    return change()
