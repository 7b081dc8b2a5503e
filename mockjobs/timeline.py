"""The replay engine: a pure function of (scenario, job, now) to the job document.

A scenario's timeline is folded once into snapshots (the state after each event), so a
request costs one bisect, whatever the timeline's length.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .placeholders import Template, render_value
from .statuses import TERMINAL

if TYPE_CHECKING:
    from .scenarios import Event, Scenario

CANCEL_STATUSES = frozenset({"CANCELLING", "CANCELLED"})
SPEED_DENOMINATOR = 1_000_000  # a speed is the nearest fraction with at most this denominator


@lru_cache(maxsize=4096)
def speed_ratio(speed: float) -> tuple[int, int]:
    """speed as a fraction (numerator, denominator) of whole numbers: the engine computes with integers."""
    exact = Fraction(speed).limit_denominator(SPEED_DENOMINATOR)
    return exact.numerator, exact.denominator


def _exact(ms: float) -> Fraction:
    """A scenario time (whole ms, or a stored float) as an exact fraction."""
    return Fraction(ms)


@dataclass(frozen=True)
class Job:
    """A job as the store keeps it: which scenario version, which values, when it started."""

    job_id: str
    scenario: str
    version: str
    vars: Mapping[str, Any]
    params: Mapping[str, Any]
    start_ms: int
    speed: float = 1.0
    cancel_at: float | None = None  # scenario-elapsed ms at which it was cancelled
    static: bool = False
    seq: int = 0
    rev: int = 0
    created_ms: int = 0  # real wall-clock ms at creation, for poll cadence
    pace: str | None = None  # "clock" or "poll" for this job; None: its scenario's job.pace

    def elapsed(self, now_ms: int) -> int:
        """Whole scenario ms elapsed at mock time now_ms, rounded down (negative before a future start)."""
        num, den = speed_ratio(self.speed)
        return (now_ms - self.start_ms) * num // den


@dataclass(frozen=True)
class Snapshot:
    """The state after some prefix of a story (status None: unchanged)."""

    status: str | None
    steps: int | None  # absolute steps, or None when only relative changes happened
    steps_delta: int  # added on top of `steps` (or of the state the story started from)
    n_messages: int
    attributes: tuple[tuple[str, Any], ...]
    terminal_at: float | None  # offset of the terminal event, once reached
    cancelled: bool = False  # the story has reached CANCELLING or CANCELLED


@dataclass(frozen=True)
class Story:
    """A folded event list: offsets, the snapshot after each prefix, all messages and codes."""

    offsets: tuple[float, ...]
    snapshots: tuple[Snapshot, ...]  # snapshots[k]: after the first k events
    messages: tuple[Template, ...]
    codes: tuple[int | None, ...]

    @classmethod
    def fold(cls, events: tuple[Event, ...]) -> Story:
        """Fold events (already in time order) into snapshots."""
        status: str | None = None
        steps: int | None = None
        delta = 0
        attrs: dict[str, Any] = {}
        messages: list[Template] = []
        codes: list[int | None] = []
        terminal_at: float | None = None
        cancelled = False
        snaps = [Snapshot(None, None, 0, 0, (), None)]
        for ev in events:
            if ev.message is not None:
                messages.append(ev.message)
                codes.append(ev.code)
            if ev.status is not None:
                status = ev.status
                if status in TERMINAL:
                    terminal_at = ev.at_ms
                cancelled = cancelled or status in CANCEL_STATUSES
            if ev.steps is not None:
                if ev.steps_relative:
                    delta += ev.steps
                else:
                    steps, delta = ev.steps, 0
            attrs.update(ev.attributes)
            snaps.append(Snapshot(status, steps, delta, len(messages), tuple(attrs.items()), terminal_at, cancelled))
        return cls(tuple(ev.at_ms for ev in events), tuple(snaps), tuple(messages), tuple(codes))

    def count_at(self, elapsed: float) -> int:
        """How many events have happened at elapsed ms (one bisect)."""
        return bisect_right(self.offsets, elapsed)

    @property
    def end(self) -> float:
        """Offset of the last event."""
        return self.offsets[-1] if self.offsets else 0.0


@dataclass(frozen=True)
class CompiledTimeline:
    """A scenario's two stories, folded."""

    main: Story
    cancel: Story

    @classmethod
    def build(cls, scenario: Scenario) -> CompiledTimeline:
        """Fold the timeline and the on_cancel story of scenario."""
        return cls(Story.fold(scenario.timeline), Story.fold(scenario.on_cancel))


@dataclass(frozen=True)
class Position:
    """Where a job stands: events applied of each story, and the scenario time."""

    main: int
    cancel: int | None
    elapsed: float


@dataclass(frozen=True)
class State:
    """The folded state of a job at one position."""

    position: Position
    status: str
    steps: int
    messages: tuple[Template, ...]
    codes: tuple[int | None, ...]
    attributes: dict[str, Any]
    terminal_at: float | None  # scenario time of the terminal event, if reached
    next_at: float | None  # scenario time of the next event, if any
    end_at: float  # scenario time at which the active story ends
    cancelled: bool = False  # cancelled through the mock, or the story itself reached CANCELLING

    @property
    def terminal(self) -> bool:
        """True once COMPLETED, FAILED or CANCELLED."""
        return self.terminal_at is not None


def position(scenario: Scenario, job: Job, now_ms: int) -> Position:
    """How far job has got in its stories at mock time now_ms."""
    return position_at(scenario, job, job.elapsed(now_ms))


def position_at(scenario: Scenario, job: Job, e: float) -> Position:
    """How far job has got in its stories at scenario time e."""
    tl: CompiledTimeline = scenario.compiled
    if job.cancel_at is None or e < job.cancel_at:
        return Position(tl.main.count_at(e), None, e)
    return Position(tl.main.count_at(job.cancel_at), tl.cancel.count_at(e - job.cancel_at), e)


def state_at(scenario: Scenario, job: Job, pos: Position) -> State:
    """Fold scenario's stories up to pos."""
    tl: CompiledTimeline = scenario.compiled
    base = tl.main.snapshots[pos.main]
    status = base.status or scenario.job.status
    steps = (base.steps or 0) + base.steps_delta
    messages = tl.main.messages[: base.n_messages]
    codes = tl.main.codes[: base.n_messages]
    attributes = dict(scenario.job.custom_attributes)
    attributes.update(base.attributes)
    terminal_at = base.terminal_at
    cancelled = base.cancelled or pos.cancel is not None
    if pos.cancel is None:
        nxt = tl.main.offsets[pos.main] if pos.main < len(tl.main.offsets) else None
        end_at = tl.main.end
    else:
        assert job.cancel_at is not None
        snap = tl.cancel.snapshots[pos.cancel]
        status = snap.status or status
        steps = (snap.steps if snap.steps is not None else steps) + snap.steps_delta
        steps = min(steps, scenario.job.total_steps)
        messages = messages + tl.cancel.messages[: snap.n_messages]
        codes = codes + tl.cancel.codes[: snap.n_messages]
        attributes.update(snap.attributes)
        terminal_at = job.cancel_at + snap.terminal_at if snap.terminal_at is not None else None
        nxt = job.cancel_at + tl.cancel.offsets[pos.cancel] if pos.cancel < len(tl.cancel.offsets) else None
        end_at = job.cancel_at + tl.cancel.end
    return State(pos, status, steps, messages, codes, attributes, terminal_at, nxt, end_at, cancelled)


def values_for(scenario: Scenario, job: Job) -> dict[str, Any]:
    """The placeholder values of job: built-ins, vars and params.NAME."""
    values: dict[str, Any] = {"jobId": job.job_id, "username": scenario.job.username, "type": scenario.job.type}
    values.update(job.vars)
    values.update({f"params.{k}": v for k, v in job.params.items()})
    return values


def time_of(job: Job, scenario_ms: float) -> int:
    """Epoch ms start + scenario_ms / speed, rounded down: endTime, never after the event shows."""
    num, den = speed_ratio(job.speed)
    return job.start_ms + math.floor(_exact(scenario_ms) * den / num)


def reached_time(job: Job, scenario_ms: float) -> int:
    """The first mock-clock epoch ms at which job's document shows scenario time scenario_ms."""
    return job.start_ms + _reached_after(job.speed, scenario_ms)


@lru_cache(maxsize=4096)
def _reached_after(speed: float, scenario_ms: float) -> int:
    """Mock ms from a job's start until it shows scenario time scenario_ms (the same few for every job of a list)."""
    num, den = speed_ratio(speed)
    return math.ceil(_exact(scenario_ms) * den / num)


def document(scenario: Scenario, job: Job, now_ms: int) -> dict[str, Any]:
    """The job resource's document at mock time now_ms, keys in the documented order."""
    return render(scenario, job, state_at(scenario, job, position(scenario, job, now_ms)))


def render(scenario: Scenario, job: Job, st: State) -> dict[str, Any]:
    """The job document for a folded state."""
    values = values_for(scenario, job)
    end_time = time_of(job, st.terminal_at) if st.terminal_at is not None else scenario.job.pending_end_time
    custom: dict[str, Any] = {"stepsCompleted": st.steps, "isCancelled": st.cancelled}
    custom.update(render_value(st.attributes, values))
    custom["messageCodes"] = [c for c in st.codes if c is not None]
    custom["totalSteps"] = scenario.job.total_steps
    return {
        "jobId": job.job_id,
        "messages": [m.render(values) for m in st.messages],
        "startTime": job.start_ms,
        "endTime": end_time,
        "type": scenario.job.type,
        "status": st.status,
        "username": scenario.job.username,
        "customAttributes": custom,
    }


def advance_ms(
    scenario: Scenario, job: Job, now_ms: int, by_ms: float | None = None, to: str | float | None = None
) -> float:
    """Scenario ms to move job forward; raises ValueError when the target lies behind it."""
    st = state_at(scenario, job, position(scenario, job, now_ms))
    e = st.position.elapsed
    if by_ms is not None:
        return by_ms
    if to == "next":
        return 0.0 if st.next_at is None else st.next_at - e
    if to == "end":
        return max(0.0, st.end_at - e)
    if isinstance(to, (int, float)):
        if to < e:
            raise ValueError(f"job {job.job_id} is already at {e / 1000:g}s, past {to / 1000:g}s")
        return to - e
    raise ValueError("advance needs 'by' (a duration) or 'to' ('next', 'end' or an offset)")


def shifted_start(job: Job, scenario_ms: float) -> int:
    """The start_ms that makes job look scenario_ms further on (never less far)."""
    num, den = speed_ratio(job.speed)
    return job.start_ms - math.ceil(_exact(scenario_ms) * den / num)


def render_response(scenario: Scenario, job: Job) -> Any:
    """A trigger's answer for the job it started (default {"jobId": ...})."""
    template = scenario.trigger.response if scenario.trigger else {"jobId": "{jobId}"}
    return render_value(template, values_for(scenario, job))


def paced_position(scenario: Scenario, job: Job, polls: int) -> Position:
    """Where a poll-paced job stands after `polls` polls: at its polls-th event offset (of both stories).

    Events at one offset count as one; before the first poll the job shows its initial state,
    after the last event it stays there.
    """
    tl: CompiledTimeline = scenario.compiled
    ordered = sorted(set(tl.main.offsets))
    if job.cancel_at is not None:  # the main story up to the cancel, then the cancel story, one event per poll
        ordered = [o for o in ordered if o <= job.cancel_at]
        ordered += [job.cancel_at + o for o in sorted(set(tl.cancel.offsets))]
    if polls <= 0 or not ordered:
        return position_at(scenario, job, min(0.0, ordered[0] if ordered else 0.0) - 1.0)
    return position_at(scenario, job, ordered[min(polls, len(ordered)) - 1])
