"""Time: a source of real time (injectable) and the mock clock state layered on it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class TimeSource(Protocol):
    """Anything that tells the current epoch milliseconds."""

    def now_ms(self) -> int: ...


class RealTime:
    """Wall-clock time."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualTime:
    """A time source that moves only when told: for tests that never sleep."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        return self.ms

    def advance(self, ms: float) -> None:
        self.ms += int(ms)


@dataclass(frozen=True)
class ClockState:
    """The mock clock: real time plus an offset, or frozen at one instant."""

    offset_ms: int = 0
    frozen_at: int | None = None

    @property
    def is_real(self) -> bool:
        """True when the clock follows real time exactly."""
        return self.offset_ms == 0 and self.frozen_at is None

    def now(self, real_ms: int) -> int:
        """Mock epoch ms at real time real_ms."""
        return self.frozen_at if self.frozen_at is not None else real_ms + self.offset_ms

    def freeze(self, real_ms: int) -> ClockState:
        """Stopped where it is now."""
        return ClockState(self.offset_ms, self.now(real_ms))

    def unfreeze(self, real_ms: int) -> ClockState:
        """Running on from where it stood (the offset stays)."""
        if self.frozen_at is None:
            return self
        return ClockState(self.frozen_at - real_ms, None)

    def set(self, to_ms: int, real_ms: int) -> ClockState:
        """Showing to_ms now; frozen stays frozen."""
        if self.frozen_at is not None:
            return ClockState(self.offset_ms, to_ms)
        return ClockState(to_ms - real_ms, None)

    def advance(self, by_ms: int) -> ClockState:
        """Moved forward (or back) by by_ms."""
        if self.frozen_at is not None:
            return ClockState(self.offset_ms, self.frozen_at + by_ms)
        return ClockState(self.offset_ms + by_ms, None)

    def describe(self, real_ms: int) -> dict[str, object]:
        """The clock as the control API shows it."""
        return {
            "now": self.now(real_ms),
            "real": self.is_real,
            "frozen": self.frozen_at is not None,
            "offsetMs": self.offset_ms if self.frozen_at is None else self.frozen_at - real_ms,
        }
