"""Reading the request journal: a job's poll cadence (the journal itself is kept by the store)."""

from __future__ import annotations

import statistics
from typing import Any


def poll_summary(polls: list[dict[str, Any]], created_ms: int) -> dict[str, Any]:
    """Poll cadence of one job from its journal entries (kind 'poll'), in real seconds."""
    times = [p["real"] for p in polls]
    intervals = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]
    terminal_index = next((i for i, p in enumerate(polls) if p.get("terminal")), None)
    return {
        "count": len(polls),
        "intervals": {
            "min": min(intervals) if intervals else None,
            "median": statistics.median(intervals) if intervals else None,
            "max": max(intervals) if intervals else None,
        },
        "afterTerminal": 0 if terminal_index is None else len(polls) - terminal_index - 1,
        "terminalSeen": terminal_index is not None,
        "firstDelay": (times[0] - created_ms) / 1000 if times else None,
        "formats": sorted({p.get("f", "html") for p in polls}),
        "faults": [{"poll": p.get("poll", i + 1), **p["fault"]} for i, p in enumerate(polls) if "fault" in p],
    }
