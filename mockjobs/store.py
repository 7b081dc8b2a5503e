"""Server state shared by every worker: jobs, scenario texts and the clock, in SQLite.

`Store` is the interface the app uses; `SqliteStore` keeps it in one embedded database file
that all worker processes of a server open. Another store (for several hosts) can implement
the same methods.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from .clock import ClockState
from .errors import Conflict, NotFound, Stale
from .generation import ADDED, CHANGED, Generation
from .timeline import Job

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     TEXT NOT NULL UNIQUE,
    scenario   TEXT NOT NULL,
    version    TEXT NOT NULL,
    vars       TEXT NOT NULL,
    params     TEXT NOT NULL,
    start_ms   INTEGER NOT NULL,
    speed      REAL NOT NULL,
    cancel_at  REAL,
    static     INTEGER NOT NULL,
    rev        INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    pace       TEXT
);
CREATE TABLE IF NOT EXISTS sources (
    version TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    file    TEXT NOT NULL,
    text    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS added_scenarios (
    name    TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    seq     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id  TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS removed_resources (
    key   TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL
);
"""


class _Conn:
    """A connection with the process that opened it (sqlite3 connections take no weak references)."""

    __slots__ = ("db", "pid", "closed", "__weakref__")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.pid = os.getpid()
        self.closed = False


_OPEN: weakref.WeakSet[_Conn] = weakref.WeakSet()  # every live connection of this process
_FORKING: list[_Conn] = []  # held across a fork, so neither side drops one mid-fork
_INHERITED: list[_Conn] = []  # a forked child's copies of its parent's connections: never closed


def _before_fork() -> None:
    """Close the idle connections: SQLite shares per-file state among a process's connections, so
    a child that inherits an open one and opens its own gets broken locks ("disk I/O error")."""
    for held in list(_OPEN):
        if not held.db.in_transaction:
            held.db.close()
            held.closed = True  # reopened on next use
            _OPEN.discard(held)
    _FORKING[:] = list(_OPEN)


def _after_fork_in_parent() -> None:
    _FORKING.clear()


def _after_fork_in_child() -> None:
    """Keep the parent's connections alive, unused: closing a copy would drop the parent's locks."""
    _INHERITED.extend(_FORKING)
    _FORKING.clear()
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)

T = TypeVar("T")
_CACHE_MAX = 50_000  # cached reads per worker before the cache starts afresh

_JOB_COLUMNS = "job_id, scenario, version, vars, params, start_ms, speed, cancel_at, static, seq, rev, created_ms, pace"


class Store(Protocol):
    """What the app needs of shared state; every method is safe from any worker."""

    def add_job(self, job: Job) -> Job: ...
    def seed_jobs(self, jobs: Iterable[Job]) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def jobs(self, offset: int = 0, limit: int | None = None) -> list[Job]: ...
    def job_ids(self) -> list[str]: ...
    def count_jobs(self) -> int: ...
    def update_job(self, job: Job, *, start_ms: int | None = None, cancel_at: float | None = None) -> Job: ...
    def delete_job(self, job_id: str) -> bool: ...
    def put_source(self, version: str, name: str, file: str, text: str) -> None: ...
    def get_source(self, version: str) -> tuple[str, str, str] | None: ...
    def add_scenario(self, name: str, version: str) -> None: ...
    def added_scenarios(self) -> list[tuple[str, str]]: ...
    def clock(self) -> ClockState: ...
    def set_clock(self, state: ClockState) -> None: ...
    def update_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState: ...
    def meta_default(self, key: str, value: str) -> str: ...
    def reset(self, static_jobs: Iterable[Job]) -> None: ...
    def incr(self, key: str) -> int: ...
    def clear_counters(self) -> None: ...
    def put_fault(self, fault_id: str, doc: dict[str, Any]) -> None: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def delete_fault(self, fault_id: str) -> bool: ...
    def clear_faults(self) -> None: ...
    # resources (issue 13): derived from jobs; only removals are stored, and reset clears them
    def remove_resource(self, key: str, at_ms: int) -> bool: ...
    def removed_resources(self) -> dict[str, int]: ...


class SqliteStore:
    """The Store in one SQLite file (WAL mode), one connection per process and thread.

    Fork-safe: a forked worker (gunicorn with preload) opens its own connections and never
    touches, nor closes, those it inherited, as SQLite requires.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.generation = Generation(self.path.with_name(self.path.name + ".gen"))
        self._cache: dict[Any, tuple[tuple[int, ...], Any]] = {}
        self._sources: dict[str, tuple[str, str, str]] = {}
        db = self._db()
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # the file keeps it once set
            db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        if "pace" not in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}:  # a state file of 0.1.0
            db.execute("ALTER TABLE jobs ADD COLUMN pace TEXT")

    # ------------------------------------------------------------------ connections

    def _db(self) -> sqlite3.Connection:
        """This process's and thread's connection (a forked worker opens its own)."""
        local = self._local
        held: _Conn | None = getattr(local, "conn", None)
        if held is None or held.pid != os.getpid() or held.closed:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")  # per connection; WAL mode is the file's, set once
            held = local.conn = _Conn(conn)
            _OPEN.add(held)
            # Close it the moment its holder goes (its thread ended, its store dropped), not at some
            # later garbage collection: one left open across a fork breaks the child's file locks.
            weakref.finalize(held, conn.close)
        return held.db

    @contextmanager
    def _tx(self, slot: int = CHANGED) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once; readers' caches of slot expire after it."""
        db = self._db()
        with self.generation.writing(slot):
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _stamp(self, slots: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(self.generation.value(s) for s in slots)

    def _cached(
        self, key: Any, load: Callable[[], T], slots: tuple[int, ...] = (CHANGED,), keep_none: bool = True
    ) -> T:
        """load(), or what it gave while the slots' counters stood where they stand (no such write since)."""
        stamp = self._stamp(slots)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = load()
        if self._stamp(slots) == stamp and (keep_none or value is not None):  # nobody wrote meanwhile
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = (stamp, value)
        return value

    def close(self) -> None:
        """Close this thread's connection."""
        held: _Conn | None = getattr(self._local, "conn", None)
        if held is not None and held.pid == os.getpid():
            _OPEN.discard(held)
            held.db.close()
        self._local.conn = None

    # ------------------------------------------------------------------ jobs

    @staticmethod
    def _row(job: Job) -> tuple[object, ...]:
        return (
            job.job_id,
            job.scenario,
            job.version,
            json.dumps(dict(job.vars)),
            json.dumps(dict(job.params)),
            job.start_ms,
            job.speed,
            job.cancel_at,
            int(job.static),
            job.created_ms,
            job.pace,
        )

    @staticmethod
    def _job(row: tuple[object, ...]) -> Job:
        job_id, scenario, version, vars_, params, start, speed, cancel_at, static, seq, rev, created, pace = row
        return Job(
            job_id=str(job_id),
            scenario=str(scenario),
            version=str(version),
            vars=MappingProxyType(json.loads(str(vars_))),
            params=MappingProxyType(json.loads(str(params))),
            start_ms=int(start),  # type: ignore[arg-type]
            speed=float(speed),  # type: ignore[arg-type]
            cancel_at=None if cancel_at is None else float(cancel_at),  # type: ignore[arg-type]
            static=bool(static),
            seq=int(seq),  # type: ignore[arg-type]
            rev=int(rev),  # type: ignore[arg-type]
            created_ms=int(created),  # type: ignore[arg-type]
            pace=None if pace is None else str(pace),
        )

    _INSERT = (
        "INSERT {verb} INTO jobs (job_id, scenario, version, vars, params, start_ms, speed, cancel_at,"
        " static, created_ms, pace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def add_job(self, job: Job) -> Job:
        """Insert a new job; Conflict if its id is taken."""
        try:
            with self._tx(ADDED) as db:
                cur = db.execute(self._INSERT.format(verb=""), self._row(job))
        except sqlite3.IntegrityError:
            raise Conflict(f"job {job.job_id} already exists") from None
        return replace(job, seq=int(cur.lastrowid or 0))

    def seed_jobs(self, jobs: Iterable[Job]) -> None:
        """Insert the jobs whose ids are not taken yet (static jobs at start-up)."""
        rows = [self._row(j) for j in jobs]
        if rows:
            with self._tx(ADDED) as db:
                db.executemany(self._INSERT.format(verb="OR IGNORE"), rows)

    def get_job(self, job_id: str) -> Job | None:
        """One job by id."""
        # Adding rows never changes one that exists; an absent job may be added any moment.
        return self._cached(("job", job_id), lambda: self._read_job(job_id), keep_none=False)

    def _read_job(self, job_id: str) -> Job | None:
        row = self._db().execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def jobs(self, offset: int = 0, limit: int | None = None) -> list[Job]:
        """Every job (or limit of them, after offset), in creation order."""
        query = f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY seq LIMIT ? OFFSET ?"
        return [self._job(r) for r in self._db().execute(query, (-1 if limit is None else limit, offset))]

    def job_ids(self) -> list[str]:
        """Every job id, in creation order."""
        query = "SELECT job_id FROM jobs ORDER BY seq"
        ids = self._cached("job_ids", lambda: [r[0] for r in self._db().execute(query)], (CHANGED, ADDED))
        return list(ids)

    def count_jobs(self) -> int:
        """How many jobs there are."""
        return int(self._db().execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def update_job(self, job: Job, *, start_ms: int | None = None, cancel_at: float | None = None) -> Job:
        """Move a job's start or cancel it, if nobody changed it since it was read."""
        new = replace(
            job,
            start_ms=job.start_ms if start_ms is None else start_ms,
            cancel_at=job.cancel_at if cancel_at is None else cancel_at,
            rev=job.rev + 1,
        )
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET start_ms = ?, cancel_at = ?, rev = ? WHERE seq = ? AND rev = ?",
                (new.start_ms, new.cancel_at, new.rev, job.seq, job.rev),
            )
        if cur.rowcount != 1:
            if self.get_job(job.job_id) is None:
                raise NotFound(f"no job {job.job_id}")
            raise Stale(f"job {job.job_id} changed meanwhile; try again")
        return new

    def delete_job(self, job_id: str) -> bool:
        """Remove a job; False if there was none."""
        with self._tx() as db:
            return db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount == 1

    # ------------------------------------------------------------------ scenarios

    def put_source(self, version: str, name: str, file: str, text: str) -> None:
        """Keep a scenario text so any worker can replay jobs bound to it."""
        with self._tx(ADDED) as db:
            db.execute(
                "INSERT OR IGNORE INTO sources (version, name, file, text) VALUES (?, ?, ?, ?)",
                (version, name, file, text),
            )

    def get_source(self, version: str) -> tuple[str, str, str] | None:
        """(name, file, text) of a kept scenario version."""
        kept = self._sources.get(version)  # a version's text never changes
        if kept is None:
            row = self._db().execute("SELECT name, file, text FROM sources WHERE version = ?", (version,)).fetchone()
            if row is None:
                return None
            kept = self._sources[version] = (row[0], row[1], row[2])
        return kept

    def add_scenario(self, name: str, version: str) -> None:
        """Register a scenario added through the API (its text kept by put_source)."""
        with self._tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM added_scenarios").fetchone()[0]
            db.execute(
                "INSERT OR REPLACE INTO added_scenarios (name, version, seq) VALUES (?, ?, ?)",
                (name, version, seq),
            )

    def added_scenarios(self) -> list[tuple[str, str]]:
        """(name, version) of the scenarios added through the API, oldest first."""
        query = "SELECT name, version FROM added_scenarios ORDER BY seq"
        return list(self._cached("added", lambda: [(r[0], r[1]) for r in self._db().execute(query)]))

    # ------------------------------------------------------------------ clock and meta

    def clock(self) -> ClockState:
        """The mock clock's state."""
        return self._cached("clock", self._read_clock)

    def _read_clock(self) -> ClockState:
        row = self._db().execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        return ClockState(*json.loads(row[0])) if row else ClockState()

    def set_clock(self, state: ClockState) -> None:
        """Replace the mock clock's state."""
        self.update_clock(lambda _: state)

    def update_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState:
        """Apply change to the clock's state in one transaction (no other writer in between)."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
            state = change(ClockState(*json.loads(row[0])) if row else ClockState())
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)",
                (json.dumps([state.offset_ms, state.frozen_at]),),
            )
        return state

    def meta_default(self, key: str, value: str) -> str:
        """The value kept under key, storing value first if there is none."""
        with self._tx(ADDED) as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            return str(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    def reset(self, static_jobs: Iterable[Job]) -> None:
        """Drop every job and added scenario, put the static jobs back, real clock."""
        rows = [self._row(j) for j in static_jobs]
        with self._tx() as db:
            db.execute("DELETE FROM jobs")
            db.execute("DELETE FROM added_scenarios")
            db.execute("DELETE FROM meta WHERE key = 'clock'")
            db.execute("DELETE FROM removed_resources")
            db.executemany(self._INSERT.format(verb="OR IGNORE"), rows)

    # ------------------------------------------------------------------ faults and shared counters (issue 11)

    def incr(self, key: str) -> int:
        """Atomically add 1 to the shared counter key (created at 0) and return the new value."""
        # No generation bump: nothing is cached from this table, so no reader's cache expires.
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO counters (key, value) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET value = value + 1",
                (key,),
            )
            value = int(db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return value

    def clear_counters(self) -> None:
        """Drop every counter (reset)."""
        self._db().execute("DELETE FROM counters")

    def put_fault(self, fault_id: str, doc: dict[str, Any]) -> None:
        """Store (or replace, keeping its place) one fault, a JSON-able mapping, in creation order."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO faults (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                (fault_id, json.dumps(doc)),
            )

    def faults(self) -> list[dict[str, Any]]:
        """Every stored fault, in creation order; the mappings are this worker's cache: read, don't change them.

        Cached until a write, as it is read on every poll: while nothing changed, every call
        gives the very same mappings (a caller may compare them by identity).
        """
        return list(self._cached("faults", self._read_faults))

    def _read_faults(self) -> tuple[dict[str, Any], ...]:
        return tuple(json.loads(r[0]) for r in self._db().execute("SELECT doc FROM faults ORDER BY seq"))

    def delete_fault(self, fault_id: str) -> bool:
        """Remove one fault; False if there was none."""
        with self._tx() as db:
            return db.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount == 1

    def clear_faults(self) -> None:
        """Remove every fault (reset)."""
        with self._tx() as db:
            db.execute("DELETE FROM faults")

    # ------------------------------------------------------------------ resources (issue 13)
    # A job's resources are derived from it and its scenario; only a removal (an operation with
    # `removes: true`) is stored, by the resource's key (job id, job seq, index). reset clears them.

    def remove_resource(self, key: str, at_ms: int) -> bool:
        """Mark a resource removed at mock time at_ms; False if it already was (by any worker)."""
        with self._tx() as db:
            cur = db.execute("INSERT OR IGNORE INTO removed_resources (key, at_ms) VALUES (?, ?)", (key, at_ms))
            return cur.rowcount == 1

    def removed_resources(self) -> dict[str, int]:
        """key -> mock time of removal, of every removed resource (this worker's cache: don't change it)."""
        query = "SELECT key, at_ms FROM removed_resources"
        return self._cached("removed_resources", lambda: {r[0]: int(r[1]) for r in self._db().execute(query)})
