"""The store contract: everything mutable that the workers and hosts of one mock share.

Every engine (SQLite embedded, Redis distributed) implements `Store`; the contract tests in
tests/test_store_contract.py, run against every engine, are its definition. The rest of the
package talks to a store only through these methods and opens one with `open_store(url)`.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from ..clock import ClockState
from ..timeline import Job

T = TypeVar("T")
JOURNAL_MAX = 100_000  # request journal entries kept by default
SERVER_TTL_S = 30.0  # a server not heard of for this long is no longer listed
_CACHE_MAX = 50_000  # cached reads per process before the cache starts afresh

CHANGED, ADDED = 0, 1  # the change signal's two counters: rows changed or removed; rows only added
ALL_SLOTS = (CHANGED, ADDED)


class Journal(Protocol):
    """The request journal of every worker and host, bounded, newest last."""

    def record(self, entry: dict[str, Any]) -> None: ...
    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]: ...
    def clear(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def close(self) -> None: ...


class Store(Protocol):
    """What the app needs of shared state; every method is safe from any worker on any host.

    Raises `StoreUnavailable` when the engine cannot be reached; `Conflict` on a taken id or
    name; `Stale` when a job changed between reading and writing it.
    """

    url: str
    journal: Journal

    # jobs
    def add_job(self, job: Job) -> Job: ...
    def seed_jobs(self, jobs: Iterable[Job]) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def jobs(self, offset: int = 0, limit: int | None = None) -> list[Job]: ...
    def job_ids(self) -> list[str]: ...
    def count_jobs(self) -> int: ...
    def update_job(self, job: Job, *, start_ms: int | None = None, cancel_at: float | None = None) -> Job: ...
    def delete_job(self, job_id: str) -> bool: ...
    # scenario versions (by content hash) and scenarios added while serving
    def put_source(self, version: str, name: str, file: str, text: str) -> None: ...
    def get_source(self, version: str) -> tuple[str, str, str] | None: ...
    def add_scenario(self, name: str, version: str) -> None: ...
    def added_scenarios(self) -> list[tuple[str, str]]: ...
    # clock and settings kept once for all (token secret, server start)
    def clock(self) -> ClockState: ...
    def set_clock(self, state: ClockState) -> None: ...
    def update_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState: ...
    def meta_default(self, key: str, value: str) -> str: ...
    # faults and counters (issue 11)
    def incr(self, key: str) -> int: ...
    def clear_counters(self) -> None: ...
    def put_fault(self, fault_id: str, doc: dict[str, Any]) -> None: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def delete_fault(self, fault_id: str) -> bool: ...
    def clear_faults(self) -> None: ...
    # servers attached to this store
    def heartbeat(self, server_id: str, info: dict[str, Any], now_s: float) -> None: ...
    def servers(self, now_s: float) -> list[dict[str, Any]]: ...
    def forget_server(self, server_id: str) -> None: ...
    # resources (issue 13): derived from a job and its scenario; only removals are stored, by
    # the resource's key; reset clears them
    def remove_resource(self, key: str, at_ms: int) -> bool: ...
    def removed_resources(self) -> dict[str, int]: ...
    # whole state
    def pinned(self) -> AbstractContextManager[None]:
        """A block (one request) whose reads see the store as of its first read, and this thread's own writes."""
        ...

    def reset(self, static_jobs: Iterable[Job]) -> None: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class ReadCache:
    """This process's cached reads, trusted while the store's change counters stand still.

    stamp() reads the counters (cheaply: SQLite's data_version, one Redis round trip); a value
    is cached with the counters read before loading it, and only if nobody wrote meanwhile.
    Inside pinned() a thread reads the counters once (again only after a write of its own), so
    a request's reads cost one look at the change signal, however many they are.
    """

    def __init__(self, stamp: Callable[[tuple[int, ...]], tuple[int, ...]]) -> None:
        method = weakref.WeakMethod(stamp)  # type: ignore[arg-type]  # no cycle: a dropped store closes at once
        self._read_counters: Callable[[tuple[int, ...]], tuple[int, ...]] = lambda slots: method()(slots)  # type: ignore[misc]
        self._cache: dict[Any, tuple[tuple[int, ...], Any]] = {}
        self._lock = threading.Lock()
        self._pins = threading.local()  # depth: pinned() blocks entered; counters: read once inside them

    def _stamp(self, slots: tuple[int, ...]) -> tuple[int, ...]:
        pins = self._pins
        if not getattr(pins, "depth", 0):
            return self._read_counters(slots)
        counters = pins.counters
        if counters is None:
            counters = pins.counters = self._read_counters(ALL_SLOTS)
        return tuple(counters[s] for s in slots)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Reads in this block (of this thread) trust the change counters as first read in it."""
        pins = self._pins
        depth = getattr(pins, "depth", 0)
        if not depth:
            pins.counters = None
        pins.depth = depth + 1
        try:
            yield
        finally:
            pins.depth = depth

    def forget_pin(self) -> None:
        """This thread wrote (or learned that others did): read the counters again at the next read."""
        self._pins.counters = None

    def get(self, key: Any, load: Callable[[], T], slots: tuple[int, ...] = (CHANGED,), keep_none: bool = True) -> T:
        """load(), or what it gave while the slots' counters stood where they stand."""
        stamp = self._stamp(slots)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = load()
        if self._stamp(slots) == stamp and (keep_none or value is not None):
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = (stamp, value)
        return value

    def clear(self) -> None:
        """Forget everything cached."""
        self._cache.clear()


def moved(job: Job, start_ms: int | None, cancel_at: float | None) -> Job:
    """job with a new start and/or cancel time (None: kept), one revision on: what update_job writes."""
    return replace(
        job,
        start_ms=job.start_ms if start_ms is None else start_ms,
        cancel_at=job.cancel_at if cancel_at is None else cancel_at,
        rev=job.rev + 1,
    )


def job_doc(job: Job) -> dict[str, Any]:
    """A job as JSON-able fields (seq and rev are the store's)."""
    return {
        "job_id": job.job_id,
        "scenario": job.scenario,
        "version": job.version,
        "vars": dict(job.vars),
        "params": dict(job.params),
        "start_ms": job.start_ms,
        "speed": job.speed,
        "cancel_at": job.cancel_at,
        "static": job.static,
        "created_ms": job.created_ms,
        "seq": job.seq,
        "rev": job.rev,
        "pace": job.pace,
    }


def job_from(doc: dict[str, Any]) -> Job:
    """A job from job_doc's fields."""
    return Job(
        job_id=str(doc["job_id"]),
        scenario=str(doc["scenario"]),
        version=str(doc["version"]),
        vars=MappingProxyType(doc["vars"]),
        params=MappingProxyType(doc["params"]),
        start_ms=int(doc["start_ms"]),
        speed=float(doc["speed"]),
        cancel_at=None if doc["cancel_at"] is None else float(doc["cancel_at"]),
        static=bool(doc["static"]),
        seq=int(doc["seq"]),
        rev=int(doc["rev"]),
        created_ms=int(doc["created_ms"]),
        pace=None if doc.get("pace") is None else str(doc["pace"]),
    )


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def compact(value: Any) -> str:
    """value as compact JSON."""
    return _COMPACT.encode(value)


StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class OneMomentPerRequest:
    """WSGI middleware: each request's reads of the store see one moment (one look at the change signal)."""

    def __init__(self, app: WsgiApp, store: Store) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self.store.pinned():
            return self.app(environ, start_response)
