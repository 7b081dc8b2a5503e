"""Figures with their targets: PASS/MISS lines, the detail table, and a JSON record."""

from __future__ import annotations

import json
import math
import platform
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One reported number; `ok` None means reported without a target."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")

    def shown(self) -> str:
        v = self.value
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "n/a"
        if self.unit == "x":
            return f"{v:.2f}x"
        if self.unit in ("req/s", "jobs/s"):
            return f"{v:,.0f} {self.unit}"
        if self.unit == "us":
            return f"{v:.0f} us"
        if self.unit == "ms":
            return f"{v:.2f} ms"
        if self.unit == "s":
            return f"{v:.3f} s"
        if self.unit == "MiB":
            return f"{v:.1f} MiB"
        return f"{v:g} {self.unit}".strip()


def at_least(key: str, label: str, value: float, floor: float, unit: str = "x", note: str = "") -> Figure:
    return Figure(key, label, value, unit, f">= {floor:g}{unit if unit == 'x' else ' ' + unit}", value >= floor, note)


def at_most(key: str, label: str, value: float, ceiling: float, unit: str = "x", note: str = "") -> Figure:
    return Figure(
        key, label, value, unit, f"<= {ceiling:g}{unit if unit == 'x' else ' ' + unit}", value <= ceiling, note
    )


def info(key: str, label: str, value: float, unit: str, note: str = "") -> Figure:
    return Figure(key, label, value, unit, "report", None, note)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Report:
    """Everything one bench run found."""

    meta: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # probe -> wrk results
    details: list[str] = field(default_factory=list)

    def add(self, fig: Figure) -> Figure:
        self.figures.append(fig)
        return fig

    def note(self, line: str) -> None:
        self.details.append(line)
        print(line, flush=True)

    def table(self) -> str:
        rows = [("figure", "value", "target", "result")]
        rows += [(f.label, f.shown(), f.target, f.verdict) for f in self.figures]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        notes = [f"  * {f.label}: {f.note}" for f in self.figures if f.note]
        return "\n".join(lines + ([""] + notes if notes else []))

    def summary(self) -> str:
        judged = [f for f in self.figures if f.ok is not None]
        missed = [f.label for f in judged if not f.ok]
        head = f"{len(judged) - len(missed)}/{len(judged)} targets met"
        return head + (f"; MISS: {', '.join(missed)}" if missed else "")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "meta": {**self.meta, "python": platform.python_version(), "machine": platform.machine()},
            "figures": [{**asdict(f), "verdict": f.verdict} for f in self.figures],
            "runs": self.runs,
            "details": self.details,
        }
        path.write_text(json.dumps(data, indent=2) + "\n")
