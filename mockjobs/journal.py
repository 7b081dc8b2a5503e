"""The request journal: one append-only file per worker process, read across all of them.

Appending a line is one write(2) on a file opened with O_APPEND, so journalling costs a GET
almost nothing and needs no lock; reading merges every worker's file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import threading
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("mockjobs")


class Journal:
    """Requests seen by every worker of one server, newest last."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fd: int | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _file(self) -> int:
        """This process's journal file, opened on first use (after any fork)."""
        if self._fd is None or self._pid != os.getpid():
            name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._pid = os.getpid()
        return self._fd

    def record(self, entry: dict[str, Any]) -> None:
        """Append one request."""
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        with self._lock:
            try:
                os.write(self._file(), line)
            except OSError as exc:  # a full disk costs the journal its lines, never the request its answer
                log.warning("journal: cannot record a request: %s", exc)

    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every recorded request (of one job, if given), in the order they arrived."""
        out: list[dict[str, Any]] = []
        # Lines are compact JSON, so one job's lines hold this very text: skip the others unparsed.
        needle = None if job_id is None else b'"jobId":' + json.dumps(job_id).encode()
        for path in self.folder.glob("*.jsonl"):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            for line in data.splitlines():
                if needle is not None and needle not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line being written right now
                if job_id is None or entry.get("jobId") == job_id:
                    out.append(entry)
        out.sort(key=lambda e: (e.get("real", 0), e.get("n", 0)))
        return out

    def clear(self) -> None:
        """Forget every request, in every worker's file."""
        for path in self.folder.glob("*.jsonl"):
            with contextlib.suppress(FileNotFoundError):
                os.truncate(path, 0)

    def close(self) -> None:
        """Close this process's file."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


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
    }
