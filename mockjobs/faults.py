"""Faults on a job's timeline: when one fires (a pure decision per poll) and what it does.

A fault is a condition (``when``) and an effect (``do``), scoped to a scenario's jobs (from
its file), or through the control API to one job, one scenario or every job. Deciding
whether a fault fires on a poll is a pure function of the fault, the poll's number and the
job's scenario time, plus the fault's shared firing count for ``times``. A fault never
changes the job: it only changes one answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .timeline import Job

EFFECTS = ("http", "error", "delay", "drop", "truncate", "stale")
PACES = ("clock", "poll")

# Effects whose answer carries no job document: such a poll saw no status.
HIDING = frozenset({"http", "error", "drop", "truncate"})


@dataclass(frozen=True)
class When:
    """A fault's condition; every key given must hold (none given: every poll)."""

    poll: int | None = None  # the job's Nth poll (1-based)
    every: int | None = None  # every Nth poll
    times: int | None = None  # at most this many firings per job
    after_ms: float | None = None  # scenario-time window of the job: [after, before)
    before_ms: float | None = None
    probability: float | None = None  # fires with this chance (seeded: the same polls every run)
    seed: int | None = None

    @property
    def cap(self) -> int | None:
        """Firings allowed per job: times, or once for poll: N, else no cap."""
        if self.times is not None:
            return self.times
        return 1 if self.poll is not None else None

    def holds(self, n: int, elapsed_ms: float) -> bool:
        """Whether poll number n, at scenario time elapsed_ms, meets every condition but times."""
        if self.poll is not None and n != self.poll:
            return False
        if self.every is not None and n % self.every:
            return False
        if self.after_ms is not None and elapsed_ms < self.after_ms:
            return False
        if self.before_ms is not None and elapsed_ms >= self.before_ms:
            return False
        if self.probability is not None:
            draw = random.Random(f"{self.seed}/{n}").random() if self.seed is not None else random.random()
            if draw >= self.probability:
                return False
        return True

    def to_doc(self) -> dict[str, Any]:
        """The condition as JSON (durations in seconds), loadable again."""
        doc: dict[str, Any] = {
            "poll": self.poll,
            "every": self.every,
            "times": self.times,
            "after": None if self.after_ms is None else self.after_ms / 1000,
            "before": None if self.before_ms is None else self.before_ms / 1000,
            "probability": self.probability,
            "seed": self.seed,
        }
        return {k: v for k, v in doc.items() if v is not None}


@dataclass(frozen=True)
class Do:
    """A fault's effect: exactly one of EFFECTS, with its settings."""

    effect: str
    http: int | None = None
    retry_after: int | None = None  # seconds; None: until the job's next event
    error: Mapping[str, Any] | None = None  # {code, message, details}
    delay_ms: tuple[float, float] | None = None  # fixed when both ends are equal

    def to_doc(self) -> dict[str, Any]:
        """The effect as JSON (durations in seconds), loadable again."""
        if self.effect == "http":
            doc: dict[str, Any] = {"http": self.http}
            if self.retry_after is not None:
                doc["retry_after"] = self.retry_after
            return doc
        if self.effect == "error":
            return {"error": dict(self.error or {})}
        if self.effect == "delay":
            assert self.delay_ms is not None
            low, high = self.delay_ms
            return {"delay": low / 1000 if low == high else [low / 1000, high / 1000]}
        return {self.effect: True}

    def delay_s(self, rng: random.Random | None = None) -> float:
        """Seconds to wait for a delay (a uniform draw within a range)."""
        assert self.delay_ms is not None
        low, high = self.delay_ms
        draw = (rng or random).uniform(low, high) if high > low else low
        return draw / 1000


@dataclass(frozen=True)
class Fault:
    """A condition and an effect, with the jobs they cover."""

    id: str
    when: When
    do: Do
    job_id: str | None = None
    scenario: str | None = None
    source: str = "api"  # "api" or "scenario" (from a scenario file)

    def covers(self, job: Job) -> bool:
        """Whether this fault may fire on polls of job."""
        if self.job_id is not None and self.job_id != job.job_id:
            return False
        return self.scenario is None or self.scenario == job.scenario

    def to_doc(self) -> dict[str, Any]:
        """The fault as the control API shows and the store keeps it."""
        doc: dict[str, Any] = {"id": self.id}
        if self.job_id is not None:
            doc["jobId"] = self.job_id
        if self.scenario is not None:
            doc["scenario"] = self.scenario
        doc["when"] = self.when.to_doc()
        doc["do"] = self.do.to_doc()
        doc["source"] = self.source
        return doc

    @property
    def firing(self) -> dict[str, str]:
        """What a journal entry says of one firing."""
        return {"id": self.id, "effect": self.do.effect}


def pick(faults: Sequence[Fault], job: Job, n: int, elapsed_ms: float, count: Callable[[str], int]) -> Fault | None:
    """The first fault that fires on job's poll n at elapsed_ms.

    count(key) adds one to a shared counter and returns it; a capped fault counts its firings
    under ``fired:<faultId>:<jobId>`` only once every other condition holds, so the cap is
    exact whichever worker answers.
    """
    for fault in faults:
        if not fault.when.holds(n, elapsed_ms):
            continue
        cap = fault.when.cap
        if cap is not None and count(f"fired:{fault.id}:{job.job_id}") > cap:
            continue
        return fault
    return None


def retry_after_s(next_in_ms: float | None) -> int:
    """Whole seconds for Retry-After: until the next event (0 when there is none, or it is due)."""
    if next_in_ms is None or next_in_ms <= 0:
        return 0
    return math.ceil(next_in_ms / 1000 - 1e-9)
