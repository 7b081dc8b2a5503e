"""The SQLite engine: the store in one embedded database file (WAL mode) that every worker opens.

How a worker learns that another changed something: every changing transaction bumps a counter
row (`changes`), and a reader asks SQLite's `PRAGMA data_version` (which moves only when another
connection committed) before re-reading those counters, so a cached read costs one pragma.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..clock import ClockState
from ..errors import Conflict, NotFound, Stale, StoreUnavailable
from ..timeline import Job
from .base import ADDED, CHANGED, JOURNAL_MAX, SERVER_TTL_S, ReadCache, compact, moved
from .batching import BatchedJournal, Row

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
CREATE TABLE IF NOT EXISTS changes (
    slot  INTEGER PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO changes (slot, value) VALUES (0, 0), (1, 0);
CREATE TABLE IF NOT EXISTS counters (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    fault_id TEXT NOT NULL UNIQUE,
    doc      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS removed_resources (
    key   TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
    server_id TEXT PRIMARY KEY,
    info      TEXT NOT NULL,
    seen      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,  -- when the request was recorded, epoch ns: the order entries are read in
    job_id TEXT,
    entry  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_marks (
    mark    TEXT PRIMARY KEY,
    since   INTEGER NOT NULL,  -- last written, epoch ms
    batches INTEGER NOT NULL DEFAULT 0
);
"""
JOURNAL_INDEXES = """
DROP INDEX IF EXISTS journal_at;
CREATE INDEX IF NOT EXISTS journal_job_at ON journal (job_id, at);
"""

_JOB_COLUMNS = "job_id, scenario, version, vars, params, start_ms, speed, cancel_at, static, seq, rev, created_ms, pace"


# --------------------------------------------------------------------------- fork safety
# SQLite forbids carrying an open connection across fork(): a child that closes (or garbage
# collects) a copy drops the parent's POSIX locks on the file. gunicorn's pre_fork hook only
# runs in servers started with our gunicorn settings, while a user's `gunicorn --preload
# app:app` or multiprocessing fork as well; so this one os.register_at_fork pair covers all:
# idle connections close before any fork, and a child never closes what it inherited.


class _Conn:
    """A connection with the process that opened it (sqlite3 connections take no weak references)."""

    __slots__ = ("db", "pid", "closed", "__weakref__")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.pid = os.getpid()
        self.closed = False


_OPEN: weakref.WeakSet[_Conn] = weakref.WeakSet()  # every live connection of this process
_INHERITED: list[_Conn] = []  # a forked child's copies of connections busy at fork: never closed


def _before_fork() -> None:
    for held in list(_OPEN):
        if not held.db.in_transaction:
            held.db.close()
            held.closed = True  # reopened on next use
            _OPEN.discard(held)


def _after_fork_in_child() -> None:
    _INHERITED.extend(_OPEN)
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def _close_in(pid: int, fd: int) -> None:
    """Close fd, only in the process that opened it."""
    if os.getpid() == pid:
        with contextlib.suppress(OSError):
            os.close(fd)


class _WriteTurn:
    """Writers take turns on a lock file before SQLite's own lock (which the bench proved necessary).

    SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5, ... ms), so
    with every request journalled, threads and workers that collide lose milliseconds each
    time. flock(2) queues them in the kernel and wakes the next one the moment the lock is free.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = -1
        self._pid = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the turn (this process's threads first take a thread lock)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked worker locks through its own open file
                self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
                weakref.finalize(self, _close_in, self._pid, self._fd)  # closed when the store goes
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class SqliteStore:
    """The Store in one SQLite file, one connection per process and thread."""

    def __init__(self, path: str | os.PathLike[str], *, journal_max: int = JOURNAL_MAX) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # private; SQLite gives -wal and -shm its mode
        self._local = threading.local()
        self._turn = _WriteTurn(self.path.with_name(self.path.name + "-lock"))
        self._reads = ReadCache(self._stamp)
        self._sources: dict[str, tuple[str, str, str]] = {}
        self.journal = BatchedJournal(SqliteJournalLog(self, journal_max))
        db = self._db()
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # the file keeps it once set
                db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            if "pace" not in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}:  # a state file of 0.1.0
                db.execute("ALTER TABLE jobs ADD COLUMN pace TEXT")
            if "at" not in {row[1] for row in db.execute("PRAGMA table_info(journal)")}:  # journalled one by one
                db.executescript(
                    "ALTER TABLE journal ADD COLUMN at INTEGER NOT NULL DEFAULT 0;"
                    " UPDATE journal SET at = id; DROP INDEX IF EXISTS journal_by_job;"
                )
            db.executescript(JOURNAL_INDEXES)
        except sqlite3.Error:
            self.close()
            raise

    # ------------------------------------------------------------------ connections

    def _db(self) -> sqlite3.Connection:
        """This process's and thread's connection (a forked worker opens its own)."""
        local = self._local
        held: _Conn | None = getattr(local, "conn", None)
        if held is None or held.pid != os.getpid() or held.closed:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")  # per connection; WAL mode is the file's, set once
            held = local.conn = _Conn(conn)
            local.seen = None  # (data_version, counters) this connection last saw
            _OPEN.add(held)
            weakref.finalize(held, conn.close)  # closed the moment its holder goes
        return held.db

    @contextmanager
    def _tx(self, *slots: int) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from the start; it bumps the given change counters."""
        db = self._db()
        with self._turn.held():
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                for slot in slots:
                    db.execute("UPDATE changes SET value = value + 1 WHERE slot = ?", (slot,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back itself (a full disk); else never keep the lock
                    db.execute("ROLLBACK")
                raise
        if slots:
            self._local.seen = None  # our own commits leave our data_version as it was
            self._reads.forget_pin()

    def _stamp(self, slots: tuple[int, ...]) -> tuple[int, ...]:
        """The change counters of slots, re-read only when another connection committed."""
        db = self._db()
        version = db.execute("PRAGMA data_version").fetchone()[0]
        seen = self._local.seen
        if seen is None or seen[0] != version:
            counters = tuple(v for (v,) in db.execute("SELECT value FROM changes ORDER BY slot"))
            seen = self._local.seen = (version, counters)
        return tuple(seen[1][s] for s in slots)

    def pinned(self) -> AbstractContextManager[None]:
        """A block whose reads trust the change counters as first read in it (one pragma per request)."""
        return self._reads.pinned()

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.url}: {exc}") from None

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
        return replace(job, seq=int(cur.lastrowid or 0), rev=0)

    def seed_jobs(self, jobs: Iterable[Job]) -> None:
        """Insert the jobs whose ids are not taken yet (static jobs at start-up)."""
        rows = [self._row(j) for j in jobs]
        if rows:
            with self._tx(ADDED) as db:
                db.executemany(self._INSERT.format(verb="OR IGNORE"), rows)

    def get_job(self, job_id: str) -> Job | None:
        """One job by id."""
        # Adding rows never changes one that exists; an absent job may be added any moment.
        return self._reads.get(("job", job_id), lambda: self._read_job(job_id), keep_none=False)

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
        return list(self._reads.get("job_ids", lambda: [r[0] for r in self._db().execute(query)], (CHANGED, ADDED)))

    def count_jobs(self) -> int:
        """How many jobs there are."""
        return int(self._db().execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def update_job(self, job: Job, *, start_ms: int | None = None, cancel_at: float | None = None) -> Job:
        """Move a job's start or cancel it, if nobody changed it since it was read (else Stale)."""
        new = moved(job, start_ms, cancel_at)
        with self._tx(CHANGED) as db:
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
        with self._tx(CHANGED) as db:
            return db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount == 1

    # ------------------------------------------------------------------ scenarios

    def put_source(self, version: str, name: str, file: str, text: str) -> None:
        """Keep a scenario text so any worker can replay jobs bound to it."""
        with self._tx() as db:
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
        """Register a scenario added through the API (its text kept by put_source); Conflict if the name is taken."""
        try:
            with self._tx(CHANGED) as db:
                seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM added_scenarios").fetchone()[0]
                db.execute("INSERT INTO added_scenarios (name, version, seq) VALUES (?, ?, ?)", (name, version, seq))
        except sqlite3.IntegrityError:
            raise Conflict(f"scenario {name!r} already exists") from None

    def added_scenarios(self) -> list[tuple[str, str]]:
        """(name, version) of the scenarios added through the API, oldest first."""
        query = "SELECT name, version FROM added_scenarios ORDER BY seq"
        return list(self._reads.get("added", lambda: [(r[0], r[1]) for r in self._db().execute(query)]))

    # ------------------------------------------------------------------ clock and meta

    def clock(self) -> ClockState:
        """The mock clock's state."""
        return self._reads.get("clock", lambda: self._read_clock(self._db()))

    @staticmethod
    def _read_clock(db: sqlite3.Connection) -> ClockState:
        row = db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        return ClockState(*json.loads(row[0])) if row else ClockState()

    def set_clock(self, state: ClockState) -> None:
        """Replace the mock clock's state."""
        self.update_clock(lambda _: state)

    def update_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState:
        """Apply change to the clock's state in one transaction (no other writer in between)."""
        with self._tx(CHANGED) as db:
            state = change(self._read_clock(db))
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)",
                (json.dumps([state.offset_ms, state.frozen_at]),),
            )
        return state

    def meta_default(self, key: str, value: str) -> str:
        """The value kept under key, storing value first if there is none."""
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            return str(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    # ------------------------------------------------------------------ faults and counters

    def incr(self, key: str) -> int:
        """Atomically add 1 to the shared counter key (created at 0) and return the new value."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO counters (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
                (key,),
            )
            return int(db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0])

    def clear_counters(self) -> None:
        """Drop every counter (reset)."""
        with self._tx() as db:
            db.execute("DELETE FROM counters")

    def put_fault(self, fault_id: str, doc: dict[str, Any]) -> None:
        """Store (or replace) one fault, a JSON-able mapping, keeping creation order."""
        with self._tx(CHANGED) as db:
            db.execute(
                "INSERT INTO faults (fault_id, doc) VALUES (?, ?)"
                " ON CONFLICT (fault_id) DO UPDATE SET doc = excluded.doc",
                (fault_id, compact(doc)),
            )

    def faults(self) -> list[dict[str, Any]]:
        """Every stored fault, in creation order (cached until something changes)."""
        query = "SELECT doc FROM faults ORDER BY seq"
        docs = self._reads.get("faults", lambda: [r[0] for r in self._db().execute(query)])
        return [json.loads(d) for d in docs]

    def delete_fault(self, fault_id: str) -> bool:
        """Remove one fault; False if there was none."""
        with self._tx(CHANGED) as db:
            return db.execute("DELETE FROM faults WHERE fault_id = ?", (fault_id,)).rowcount == 1

    def clear_faults(self) -> None:
        """Remove every fault (reset)."""
        with self._tx(CHANGED) as db:
            db.execute("DELETE FROM faults")

    # ------------------------------------------------------------------ resources (issue 13)
    # A job's resources are derived from it and its scenario; only a removal (an operation with
    # `removes: true`) is stored, by the resource's key (job id, job seq, index). reset clears them.

    def remove_resource(self, key: str, at_ms: int) -> bool:
        """Mark a resource removed at mock time at_ms; False if it already was (by any worker)."""
        with self._tx(CHANGED) as db:
            cur = db.execute("INSERT OR IGNORE INTO removed_resources (key, at_ms) VALUES (?, ?)", (key, at_ms))
            return cur.rowcount == 1

    def removed_resources(self) -> dict[str, int]:
        """key -> mock time of removal, of every removed resource (cached until something changes)."""
        query = "SELECT key, at_ms FROM removed_resources"
        return dict(
            self._reads.get("removed_resources", lambda: [(r[0], int(r[1])) for r in self._db().execute(query)])
        )

    # ------------------------------------------------------------------ servers

    def heartbeat(self, server_id: str, info: dict[str, Any], now_s: float) -> None:
        """Say that server_id (described by info) is attached and alive at now_s."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO servers (server_id, info, seen) VALUES (?, ?, ?)",
                (server_id, compact(info), now_s),
            )

    def servers(self, now_s: float, ttl_s: float = SERVER_TTL_S) -> list[dict[str, Any]]:
        """The servers heard of within ttl_s seconds before now_s, with lastSeen."""
        rows = self._db().execute("SELECT info, seen FROM servers WHERE seen >= ? ORDER BY server_id", (now_s - ttl_s,))
        return [{**json.loads(info), "lastSeen": seen} for info, seen in rows]

    def forget_server(self, server_id: str) -> None:
        """Remove a server that leaves (and any not heard of for a long time)."""
        with self._tx() as db:
            db.execute("DELETE FROM servers WHERE server_id = ?", (server_id,))

    # ------------------------------------------------------------------ reset

    def reset(self, static_jobs: Iterable[Job]) -> None:
        """Drop every job and added scenario, put the static jobs back, real clock."""
        rows = [self._row(j) for j in static_jobs]
        with self._tx(CHANGED, ADDED) as db:
            db.execute("DELETE FROM jobs")
            db.execute("DELETE FROM added_scenarios")
            db.execute("DELETE FROM meta WHERE key = 'clock'")
            db.execute("DELETE FROM removed_resources")
            db.executemany(self._INSERT.format(verb="OR IGNORE"), rows)


class SqliteJournalLog:
    """The request journal as a table: bounded (the first rows to arrive go first), indexed by job, written in batches.

    meta keeps how many rows there are (`journal_rows`) and how many were dropped to stay within
    the bound (`journal_dropped`), so a batch's write never counts the table.
    """

    def __init__(self, store: SqliteStore, limit: int) -> None:
        self.store = weakref.proxy(store)  # no cycle: a dropped store closes its file at once
        self.limit = max(1, int(limit))

    def append(self, rows: list[Row], mark: str | None) -> None:
        """Write rows, drop the oldest beyond the bound and count a batch on mark, in one transaction."""
        with self.store._tx() as db:
            if rows:
                kept = self._count(db) + len(rows)
                db.executemany("INSERT INTO journal (at, job_id, entry) VALUES (?, ?, ?)", rows)
                if kept > self.limit:
                    excess, kept = kept - self.limit, self.limit
                    oldest = "SELECT id FROM journal ORDER BY id LIMIT ?"  # the first to arrive go first
                    db.execute(f"DELETE FROM journal WHERE id IN ({oldest})", (excess,))
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('journal_dropped', ?)"
                        " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                        (excess,),
                    )
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_rows', ?)", (kept,))
            if mark is not None:
                db.execute(
                    "INSERT INTO journal_marks (mark, since, batches) VALUES (?, ?, 1) ON CONFLICT (mark)"
                    " DO UPDATE SET since = excluded.since, batches = batches + 1",
                    (mark, int(time.time() * 1000)),
                )

    @staticmethod
    def _count(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = 'journal_rows'").fetchone()
        return int(row[0]) if row else int(db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])

    def mark(self, mark: str, since_ms: int) -> None:
        """Leave a mark for held entries."""
        with self.store._tx() as db:
            db.execute("INSERT OR REPLACE INTO journal_marks (mark, since, batches) VALUES (?, ?, 0)", (mark, since_ms))

    def marks(self) -> dict[str, tuple[int, int]]:
        """Every mark: (when it was last written, batches counted on it)."""
        rows = self.store._db().execute("SELECT mark, since, batches FROM journal_marks")
        return {m: (int(since), int(batches)) for m, since, batches in rows}

    def unmark(self, marks: Iterable[str]) -> None:
        """Remove marks."""
        with self.store._tx() as db:
            db.executemany("DELETE FROM journal_marks WHERE mark = ?", [(m,) for m in marks])

    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every kept request (of one job, by its index, if given), in the order they were recorded."""
        db = self.store._db()
        if job_id is None:
            rows = db.execute("SELECT entry FROM journal ORDER BY at")
        else:
            rows = db.execute("SELECT entry FROM journal WHERE job_id = ? ORDER BY at", (job_id,))
        return [json.loads(r[0]) for r in rows]

    def clear(self) -> None:
        """Forget every request."""
        with self.store._tx() as db:
            db.execute("DELETE FROM journal")
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_rows', 0)")

    def stats(self) -> dict[str, int]:
        """Entries kept, the bound, and how many were dropped to keep it."""
        db = self.store._db()
        db.execute("BEGIN")  # one snapshot of both counts
        try:
            kept = self._count(db)
            row = db.execute("SELECT value FROM meta WHERE key = 'journal_dropped'").fetchone()
        finally:
            db.execute("COMMIT")
        return {"entries": kept, "max": self.limit, "dropped": int(row[0]) if row else 0}
