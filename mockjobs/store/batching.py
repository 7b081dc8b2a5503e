"""The request journal's write path: entries kept in memory for a moment and written in batches.

Every request is journalled, so one store write per request was the largest cost of a poll
(a SQLite transaction, or a Redis round trip, for each). Instead each `BatchedJournal` holds
what it records for FLUSH_DELAY_S and writes it in one transaction (SQLite) or one script
call (Redis), from one flushing thread per process.

A read must still see every request answered before it began, whichever worker or host
answered it. So a journal that holds entries has a *mark* in the store: written before the
first entry held after a quiet spell is answered, counted up by every batch's write (in the
same transaction or script), removed by the first flush that finds nothing to write. A busy
process thus writes one transaction per batch and nothing on the request path. A reader first
writes what it holds itself, then waits (at most WAIT_S) until each mark it found is gone or
has counted two more batches (the first may have been taken before the reader began). A mark
whose process has ended (same host, pid gone) or not written for STALE_S is removed by the
reader instead of waited for.

Entries carry the time they were recorded (`at`, ns); reads give them in that order, so entries
of several processes interleave as they happened even though their batches arrive one by one.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from .base import compact

log = logging.getLogger("mockjobs")

FLUSH_DELAY_S = 0.01  # how long an entry waits in memory for others to share its write
WAIT_S = 2.0  # the longest a reader waits for another process's held entries
STALE_S = 5.0  # a mark not written for this long belongs to a process that will not write it any more
_POLL_S = 0.002  # how often a waiting reader looks at the marks again
HOST = socket.gethostname()

Row = tuple[int, str | None, str]  # (recorded at, ns; jobId or None; the entry as JSON)


class JournalLog(Protocol):
    """What an engine keeps of the journal: rows written in batches, and the marks of held ones."""

    limit: int

    def append(self, rows: list[Row], mark: str | None) -> None:
        """Write rows (dropping the oldest beyond the limit) and count a batch on mark, in one write."""

    def mark(self, mark: str, since_ms: int) -> None:
        """Say that entries are held under mark (written before the first of them is answered)."""

    def marks(self) -> dict[str, tuple[int, int]]:
        """Every mark with (the real time, epoch ms, it was last written at; the batches counted on it)."""

    def unmark(self, marks: Iterable[str]) -> None:
        """Remove marks (nothing held under them any more, or their process ended)."""

    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """The kept entries (of one job, if given), in the order they were recorded."""

    def clear(self) -> None:
        """Forget every entry."""

    def stats(self) -> dict[str, int]:
        """Entries kept, the bound, and how many were dropped to keep it."""


class BatchedJournal:
    """The Journal of the store contract over an engine's JournalLog (see the module's docstring)."""

    def __init__(self, journal_log: JournalLog) -> None:
        self.log = journal_log
        self._name = f"{HOST}/{{pid}}/{id(self):x}/"
        self._fresh()
        _JOURNALS.add(self)

    def _fresh(self) -> None:
        """Empty buffer and new locks (at start, and in a forked child: the parent writes its own)."""
        self._lock = threading.Lock()  # the buffer and its mark
        self._writing = threading.Lock()  # one batch written at a time, so a flush waits for the one under way
        self._buffer: list[tuple[int, dict[str, Any]]] = []
        self._mark: str | None = None
        self._marks = 0
        self._last_at = 0
        self._prefix = self._name.format(pid=os.getpid())

    # ------------------------------------------------------------------ writing

    def record(self, entry: dict[str, Any]) -> None:
        """Hold one request's entry; it reaches the store within FLUSH_DELAY_S."""
        with self._lock:
            at = max(time.time_ns(), self._last_at + 1)
            self._last_at = at
            self._buffer.append((at, entry))
            if self._mark is not None:  # busy: the flushing thread comes back for it
                return
            self._marks += 1
            mark = f"{self._prefix}{self._marks}"
            try:  # under the lock: no entry held under it is answered before the mark is in the store
                self.log.mark(mark, at // 1_000_000)
                self._mark = mark
            except Exception as exc:  # the entries still go out with the batch; a reader may miss them until then
                log.warning("journal: cannot mark held entries: %s", exc)
        _FLUSHER.schedule(self)

    def flush(self) -> None:
        """Write the held entries now (and wait for a batch being written by another thread)."""
        with self._writing:
            with self._lock:
                held, mark = self._buffer, self._mark
                self._buffer = []
                if not held:
                    self._mark = None  # a quiet spell: the mark goes
            if not held:
                if mark is not None:
                    with contextlib.suppress(Exception):  # else a reader removes it once it is stale
                        self.log.unmark([mark])
                return
            try:
                self.log.append([(at, e.get("jobId"), compact(e)) for at, e in held], mark)
            except Exception as exc:  # a full disk or a store that is gone costs the journal entries, never a request
                log.warning("journal: %d entries lost: %s", len(held), exc)
            if mark is not None:
                _FLUSHER.schedule(self)  # busy: come back, to write more or to take the mark away

    # ------------------------------------------------------------------ reading

    def settle(self) -> None:
        """Return once every entry recorded before this call, by any process, is in the store."""
        self.flush()
        marks = self.log.marks()
        waiting = {m: batches + 2 for m, (_, batches) in marks.items() if not m.startswith(self._prefix)}
        deadline = time.monotonic() + WAIT_S
        while True:
            waiting = {m: n for m, n in waiting.items() if m in marks and marks[m][1] < n}
            gone = {m for m in waiting if _abandoned(m, marks[m][0])}
            if gone:
                self.log.unmark(gone)
                waiting = {m: n for m, n in waiting.items() if m not in gone}
            if not waiting:
                return
            if time.monotonic() > deadline:
                log.warning("journal: read without the entries still held under %s", ", ".join(sorted(waiting)))
                return
            time.sleep(_POLL_S)
            marks = self.log.marks()

    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every kept request (of one job, by its index, if given), oldest first."""
        self.settle()
        return self.log.entries(job_id)

    def stats(self) -> dict[str, int]:
        """Entries kept, the bound, and how many were dropped to keep it."""
        self.settle()
        return self.log.stats()

    def clear(self) -> None:
        """Forget every request (those still held anywhere included)."""
        self.settle()
        self.log.clear()

    def close(self) -> None:
        """Write what is held."""
        self.flush()


def _abandoned(mark: str, since_ms: int) -> bool:
    """Whether a mark's entries will never be written: its process ended, or it was not written for long."""
    if time.time() * 1000 - since_ms > STALE_S * 1000:
        return True
    host, _, rest = mark.partition("/")
    pid = rest.partition("/")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


class _Flusher:
    """The one thread of a process that writes each journal's batch FLUSH_DELAY_S after its first entry."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[BatchedJournal, float] = {}  # held strongly until written
        self._thread: threading.Thread | None = None

    def schedule(self, journal: BatchedJournal) -> None:
        """Write journal's batch soon (if it is not due already)."""
        with self._cond:
            if journal in self._due:
                return
            self._due[journal] = time.monotonic() + FLUSH_DELAY_S
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mockjobs-journal", daemon=True)
                self._thread.start()
                _write_at_exit()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                now = time.monotonic()
                first = min(self._due.values())
                if first > now:
                    self._cond.wait(first - now)
                    continue
                ready = [j for j, due in self._due.items() if due <= now]
                for j in ready:
                    del self._due[j]
            for j in ready:
                try:
                    j.flush()
                except Exception:  # never lose the thread: every later batch depends on it
                    log.exception("journal: a batch could not be written")

    def flush_all(self) -> None:
        """Write every journal's batch (at exit)."""
        with self._cond:
            ready = list(self._due)
            self._due.clear()
        for j in ready:
            j.flush()


_JOURNALS: weakref.WeakSet[BatchedJournal] = weakref.WeakSet()
_FLUSHER = _Flusher()


def _after_fork_in_child() -> None:
    """A forked child starts empty: its parent writes what it held; locks held at fork are not ours."""
    global _FLUSHER
    _FLUSHER = _Flusher()
    for journal in list(_JOURNALS):
        journal._fresh()


@functools.cache
def _write_at_exit() -> None:
    """Write every held batch when the process exits (registered once, after the engines' own exit
    handlers, which close files and connections: atexit runs the last registered first)."""
    atexit.register(lambda: _FLUSHER.flush_all())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
