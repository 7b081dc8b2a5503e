"""A job's picture: its events and the client's polls on one time axis, laid out for an SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import timeline
from .durations import format_ms
from .service import MockService
from .timeline import Job

WIDTH = 960
LEFT = 78  # room for the lane names
RIGHT = 24
PLOT = WIDTH - LEFT - RIGHT
BREAK_GAP = 28  # pixels given to a cut in the axis
MAX_POLLS = 2000  # polls drawn, the newest; the summary still counts them all
COLOURS = {
    "SUBMITTED": "#7b8794",
    "EXECUTING": "#2186eb",
    "PROCESSING": "#2186eb",
    "CANCELLING": "#d9a400",
    "CANCELLED": "#b88400",
    "FAILED": "#d64545",
    "COMPLETED": "#2f9e44",
}


@dataclass
class Axis:
    """Piecewise-linear time (ms after the job's start) to x: one segment, or two around a cut."""

    segments: list[tuple[float, float, float, float]]  # (t0, t1, x0, x1)
    cut_x: float | None = None
    start_ms: int = 0  # the job's start (epoch ms), for the times after a cut
    cut_date: str = ""  # the UTC date after a cut

    def x(self, t: float) -> float:
        """The x of time t (clamped to the axis)."""
        for t0, t1, x0, x1 in self.segments:
            if t <= t1:
                t = max(t, t0)
                return round(x0 + (t - t0) * (x1 - x0) / ((t1 - t0) or 1), 1)
        t0, t1, x0, x1 = self.segments[-1]
        return x1

    def ticks(self) -> list[tuple[float, str]]:
        """About six labelled ticks per segment, on round values: offsets, then UTC times after a cut."""
        out: list[tuple[float, str]] = []
        for n, (t0, t1, x0, x1) in enumerate(self.segments):
            share = max(2, round(6 * (x1 - x0) / PLOT))
            step = _nice((t1 - t0) / share)
            t = (t0 // step + (1 if t0 % step else 0)) * step
            while t <= t1 + 1e-6:
                if n == 0:
                    label = "+" + format_ms(round(t, -1) if step >= 100 else t)
                else:
                    label = _time_of_day(self.start_ms + t, step < 1000)
                out.append((self.x(t), label))
                t += step
        return out


@dataclass
class Picture:
    """Everything the SVG template draws."""

    job_id: str
    scenario: str
    axis: Axis
    events: list[dict[str, Any]] = field(default_factory=list)
    polls: list[dict[str, Any]] = field(default_factory=list)
    now_x: float | None = None
    terminal_x: float | None = None
    summary: str = ""
    colours: dict[str, str] = field(default_factory=lambda: dict(COLOURS))


def _time_of_day(epoch_ms: float, millis: bool) -> str:
    """Epoch ms as a UTC time of day (with tenths of a second when the ticks are that close)."""
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return when.strftime("%H:%M:%S") + (f".{int(epoch_ms) % 1000 // 100}" if millis else "")


def _nice(step: float) -> float:
    """A round step (1, 2 or 5 times a power of ten ms) at least step."""
    step = max(step, 1.0)
    power = 1.0
    while power * 10 <= step:
        power *= 10
    for m in (1, 2, 5, 10):
        if m * power >= step:
            return m * power
    return 10 * power


def _events(m: MockService, job: Job) -> list[tuple[float, Any, bool]]:
    """(scenario ms, event, from on_cancel) of every event the job will go through."""
    sc = m.scenario_of(job)
    out: list[tuple[float, Any, bool]] = []
    for ev in sc.timeline:
        if job.cancel_at is not None and ev.at_ms > job.cancel_at:
            break
        out.append((ev.at_ms, ev, False))
    if job.cancel_at is not None:
        out += [(job.cancel_at + ev.at_ms, ev, True) for ev in sc.on_cancel]
    return out


def build(m: MockService, job: Job) -> Picture:
    """The picture of job now: its events (reached or still to come) and its polls so far."""
    view = m.view(job)
    sc, st = view.scenario, view.state
    values = timeline.values_for(sc, job)
    start = job.start_ms
    evs = _events(m, job)
    polls = [e for e in m.journal.entries(job.job_id) if e.get("kind") == "poll" and e.get("seq") == job.seq]
    event_ms = [timeline.time_of(job, at) - start for at, _, _ in evs]
    poll_ms = [max(0, int(p.get("time", start)) - start) for p in polls]
    now_ms = view.now - start
    end_ms = max(event_ms or [0])
    last = max([end_ms, *poll_ms] + ([now_ms] if not st.terminal else []))
    axis = _axis(end_ms, poll_ms, last)
    axis.start_ms = start
    if axis.cut_x is not None:
        after_cut = datetime.fromtimestamp((start + axis.segments[1][0]) / 1000, tz=timezone.utc)
        axis.cut_date = after_cut.strftime("%Y-%m-%d UTC")
    pic = Picture(job.job_id, job.scenario, axis)
    status = sc.job.status
    code_x = -1e9
    for (at, ev, cancelling), t in zip(evs, event_ms, strict=True):
        status = ev.status or status
        reached = at <= st.position.elapsed
        text = ev.message.render(values) if ev.message is not None else ""
        x = axis.x(t)
        code = "" if ev.code is None or x - code_x < 34 else str(ev.code)  # codes only where they fit
        code_x = x if code else code_x
        pic.events.append(
            {
                "x": x,
                "anchor": "end" if x > axis.segments[0][3] - 70 else "start",
                "code": code,
                "status": status,
                "changes": ev.status is not None,
                "reached": reached,
                "cancel": cancelling,
                "title": " · ".join(
                    x
                    for x in (
                        f"+{format_ms(round(at))}",
                        ev.status or "",
                        "" if ev.code is None else str(ev.code),
                        text,
                    )
                    if x
                ),
            }
        )
    after = 0
    faults = 0
    seen_end = False
    first_drawn = len(polls) - MAX_POLLS
    for n, (p, t) in enumerate(zip(polls, poll_ms, strict=True), 1):
        fault = p.get("fault")
        late = bool(p.get("terminal")) and seen_end
        seen_end = seen_end or bool(p.get("terminal"))
        after += late
        faults += bool(fault)
        if n <= first_drawn:
            continue
        fault_text = ""
        if isinstance(fault, dict):
            fault_text = f" · fault {fault.get('id', '')}: {_effect_text(fault.get('effect'))}"
        elif fault:
            fault_text = " · fault"
        pic.polls.append(
            {
                "x": axis.x(t),
                "status": str(p.get("status") or "error"),
                "fault": bool(fault),
                "late": late,
                "title": f"poll {n} at +{format_ms(t)} · {p.get('method', 'GET')} f={p.get('f', 'html')}"
                f" · HTTP {p.get('http', '')} · saw {p.get('status') or 'an error'}{fault_text}",
            }
        )
    if not st.terminal:
        pic.now_x = axis.x(now_ms)
    if st.terminal_at is not None:
        pic.terminal_x = axis.x(timeline.time_of(job, st.terminal_at) - start)
    pic.summary = _summary(len(polls), poll_ms, after, faults)
    if first_drawn > 0:
        pic.summary += f" (the last {MAX_POLLS} drawn)"
    return pic


def _effect_text(effect: Any) -> str:
    """A fault's effect in a few words."""
    if isinstance(effect, dict):
        return ", ".join(f"{k} {v}" for k, v in effect.items())
    return str(effect or "")


def _summary(count: int, poll_ms: list[int], after: int, faults: int) -> str:
    """One line under the picture: how many polls, how often, how many too many."""
    if not count:
        return "no polls yet"
    gaps = sorted(b - a for a, b in zip(poll_ms, poll_ms[1:], strict=False))
    text = f"{count} poll{'s' if count != 1 else ''}"
    if gaps:
        text += f", median interval {format_ms(gaps[len(gaps) // 2])} (mock clock)"
    if after:
        text += f", {after} after the terminal status was seen"
    if faults:
        text += f", {faults} with a fault"
    return text


def _axis(end_ms: float, poll_ms: list[int], last: float) -> Axis:
    """One linear axis, or a cut between the events and much later polls (e.g. a static job's)."""
    span = max(end_ms, 1000.0)
    late = [t for t in poll_ms if t > end_ms]
    if late and min(late) - end_ms > 3 * span:
        first = min(late)
        pad = max((last - first) * 0.05, 500.0)
        split = LEFT + PLOT * 0.62
        return Axis(
            [(0.0, end_ms * 1.04 + 1, LEFT, split), (first - pad, last + pad, split + BREAK_GAP, LEFT + PLOT)],
            cut_x=split + BREAK_GAP / 2,
        )
    return Axis([(0.0, max(last, end_ms, 1000.0) * 1.03, LEFT, LEFT + PLOT)])
