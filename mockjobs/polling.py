"""Poll rules: which faults cover a job, whether it is paced by polls, and what one poll meets.

A job is *touched* when a fault covers it (from its scenario file or the control API) or its
pace is ``poll``; only then are its polls counted (``poll:<jobId>``, shared by every worker
through the store) and answered by Flask instead of the fast path, so a job that nothing
touches pays one cached look-up for the feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import timeline
from .errors import NotFound
from .fault_schemas import from_doc, load_request
from .faults import Fault, pick
from .scenarios import Scenario
from .timeline import Job, Position

if TYPE_CHECKING:
    from .service import MockService


@dataclass(frozen=True)
class _ApiFaults:
    """The API's faults as last read, and who they cover, for a look-up per poll."""

    docs: list[dict[str, Any]]
    faults: tuple[Fault, ...]
    everyone: bool  # a fault covers every job
    job_ids: frozenset[str]
    scenarios: frozenset[str]

    @classmethod
    def of(cls, docs: list[dict[str, Any]]) -> _ApiFaults:
        faults = tuple(from_doc(d) for d in docs)
        return cls(
            docs,
            faults,
            any(f.job_id is None and f.scenario is None for f in faults),
            frozenset(f.job_id for f in faults if f.job_id is not None),
            frozenset(f.scenario for f in faults if f.scenario is not None),
        )


@dataclass(frozen=True)
class PollPlan:
    """What one poll of a touched job meets: its number, the position it shows, the fault that fires."""

    n: int
    position: Position
    fault: Fault | None
    paced: bool


class PollRules:
    """Faults and pace of one server's jobs, over its store."""

    def __init__(self, service: MockService) -> None:
        self.service = service
        self.store = service.store
        self._api = _ApiFaults.of([])
        self._versions: dict[str, bool] = {}  # scenario version -> it has faults or poll pace

    # ------------------------------------------------------------------ faults added through the API

    def api_faults(self) -> tuple[Fault, ...]:
        """The faults added through the API, in creation order (parsed once per change)."""
        return self._read_api().faults

    def _read_api(self) -> _ApiFaults:
        """The API's faults, parsed again only when the store's list changed."""
        docs = self.store.faults()
        api = self._api  # one read: another thread may replace it meanwhile
        if docs != api.docs:  # the same cached mappings compare by identity, at once
            api = self._api = _ApiFaults.of(docs)
        return api

    def add(self, body: Any) -> Fault:
        """A new fault from a request body (see fault_schemas); BadRequest if it is not one."""
        fault = load_request(body)
        self.store.put_fault(fault.id, fault.to_doc())
        return fault

    def delete(self, fault_id: str) -> None:
        """Remove an API fault; NotFound if there is none (a scenario's faults live in its file)."""
        if not self.store.delete_fault(fault_id):
            raise NotFound(f"no fault {fault_id} (faults from scenario files are changed in the file)")

    def clear(self) -> None:
        """Remove every API fault and every poll count."""
        if self.store.faults():  # a cached read: resetting a server without faults writes nothing more
            self.store.clear_faults()
        self.store.clear_counters()

    def listed(self) -> list[Fault]:
        """Every fault: the API's, then those of the scenario files."""
        out = list(self.api_faults())
        for sc in self.service.registry.all():
            out.extend(sc.faults)
        return out

    # ------------------------------------------------------------------ one job

    def faults_for(self, job: Job, sc: Scenario) -> list[Fault]:
        """The faults covering job: its scenario's first, then the API's in creation order."""
        api = self.api_faults()
        if not api:
            return list(sc.faults)
        return [*sc.faults, *(f for f in api if f.covers(job))]

    @staticmethod
    def paced(job: Job, sc: Scenario) -> bool:
        """Whether job's polls, not the clock, move its timeline."""
        return (job.pace or sc.job.pace) == "poll"

    def touches(self, job_id: str) -> bool:
        """Whether polls of job_id need counting (a fault or the poll pace); False for an unknown job.

        On the fast path for every poll: two cached reads (the API's faults, the job) and set look-ups.
        """
        api = self._read_api()
        if api.everyone or job_id in api.job_ids:
            return True
        job = self.store.get_job(job_id)
        if job is None:
            return False
        if job.pace == "poll" or job.scenario in api.scenarios:
            return True
        touched = self._versions.get(job.version)
        if touched is None:
            try:
                sc = self.service.scenario_of(job)
            except NotFound:
                return False
            touched = self._versions[job.version] = bool(sc.faults) or sc.job.pace == "poll"
        return touched

    def plan(self, job: Job, sc: Scenario, now: int) -> PollPlan | None:
        """Count this poll of job and decide what it meets; None when nothing touches the job."""
        faults = self.faults_for(job, sc)
        paced = self.paced(job, sc)
        if not faults and not paced:
            return None
        n = self.store.incr(f"poll:{job.job_id}")
        pos = timeline.paced_position(sc, job, n) if paced else timeline.position(sc, job, now)
        return PollPlan(n, pos, pick(faults, job, n, pos.elapsed, self.store.incr), paced)

    def last_poll(self, job: Job) -> int:
        """The number of job's latest poll, from the journal (for views of a paced job between polls)."""
        numbers = [e.get("poll", 0) for e in self.service.poll_entries(job)]
        return max(numbers, default=0)
