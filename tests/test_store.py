"""The SQLite store: what one worker writes, every other worker reads, caches or not."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mockjobs.clock import ClockState
from mockjobs.errors import Conflict
from mockjobs.generation import Generation
from mockjobs.store import SqliteStore
from mockjobs.timeline import Job


def job(job_id: str = "j1", start: int = 1000) -> Job:
    """A plain job."""
    return Job(job_id=job_id, scenario="s", version="v1", vars={"a": 1}, params={}, start_ms=start)


@pytest.fixture
def two(tmp_path: Path) -> tuple[SqliteStore, SqliteStore]:
    """Two stores on one file, as two workers of one server have."""
    path = tmp_path / "state.db"
    return SqliteStore(path), SqliteStore(path)


def test_a_write_through_one_store_is_read_by_the_other_despite_its_cache(two) -> None:
    a, b = two
    assert b.get_job("j1") is None  # cached as absent
    added = a.add_job(job())
    assert b.get_job("j1") == added
    moved = a.update_job(added, start_ms=500)
    assert b.get_job("j1").start_ms == 500 == moved.start_ms
    a.set_clock(ClockState(0, 42))
    assert b.clock() == ClockState(0, 42)
    assert a.delete_job("j1") is True
    assert b.get_job("j1") is None
    assert b.job_ids() == []


def test_reads_without_writes_come_from_the_cache(two) -> None:
    a, b = two
    a.add_job(job())
    first = b.get_job("j1")
    assert b.get_job("j1") is first  # the same object: no new read
    gen = b.generation.value()
    a.set_clock(ClockState(5, None))
    assert b.generation.value() == gen + 1
    assert b.get_job("j1") is not first and b.get_job("j1") == first


def test_stale_update_is_refused(two) -> None:
    a, b = two
    added = a.add_job(job())
    a.update_job(added, start_ms=1)
    with pytest.raises(Conflict):
        b.update_job(added, start_ms=2)  # b's copy is one revision behind


def in_processes(target: Callable[[str, int], None], path: str, times: int, processes: int = 3) -> None:
    """Run target(path, times) in forked processes at once, as workers would; each must succeed."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=target, args=(path, times)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0


def _bump(path: str, times: int) -> None:
    store = SqliteStore(path)
    for i in range(times):
        store.set_clock(ClockState(i, None))


def test_concurrent_writers_in_other_processes_lose_no_generation(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    SqliteStore(path)
    in_processes(_bump, path, 50)
    assert Generation(path + ".gen").value() == 150  # each write counted once


def _advance_clock(path: str, times: int) -> None:
    store = SqliteStore(path)
    for _ in range(times):
        store.update_clock(lambda state: state.advance(1))


def test_clock_changes_from_several_processes_are_never_lost(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    SqliteStore(path).set_clock(ClockState(0, 1000))  # frozen, so the sum is exact
    in_processes(_advance_clock, path, 40)
    assert SqliteStore(path).clock() == ClockState(0, 1000 + 120)


def test_a_job_moved_by_another_worker_is_advanced_from_where_it_now_is(make_app) -> None:
    first, second = make_app(), make_app()  # two workers of one server
    one, two = first.extensions["mockjobs"], second.extensions["mockjobs"]
    job = one.create("add-mission")
    stale = two.get(job.job_id)  # the second worker has read the job...
    one.advance(job.job_id, by_ms=5000)  # ...and the first moves it meanwhile
    two.store._cache.clear()
    two.store._cache[("job", job.job_id)] = (two.store.generation.value(), stale)  # still the stale copy
    moved = two.advance(job.job_id, by_ms=1000)
    assert moved.start_ms == job.start_ms - 6000  # both moves count


def test_adding_a_job_keeps_the_other_workers_cached_rows_and_shows_the_new_one(two) -> None:
    a, b = two
    a.add_job(job("j1"))
    first = b.get_job("j1")
    assert b.get_job("j2") is None  # absent: never cached, since it may be added any moment
    assert b.job_ids() == ["j1"]
    a.add_job(job("j2"))
    assert b.get_job("j1") is first  # still the cached row: adding touches no existing row
    assert b.get_job("j2") is not None
    assert b.job_ids() == ["j1", "j2"]
    a.update_job(first, start_ms=1)
    assert b.get_job("j1").start_ms == 1  # a change expires it


def _open_files(name: str) -> list[str]:
    """Files of this process whose path holds name."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if name in target:
                out.append(target)
    return out


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_dropped_store_closes_its_database_at_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.add_job(job())
    assert any(f.endswith("state.db") for f in _open_files(str(tmp_path)))
    del store  # no close(), no garbage collection: a fork now must not inherit the files
    assert [f for f in _open_files(str(tmp_path)) if "state.db" in f and not f.endswith(".gen")] == []


# --------------------------------------------------------------------------- faults and shared counters


def _count_polls(path: str, times: int) -> None:
    store = SqliteStore(path)
    for _ in range(times):
        store.incr("poll:j1")


def test_incr_from_several_processes_counts_every_increment_once(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = SqliteStore(path)
    assert store.incr("poll:j1") == 1
    gen = Generation(path + ".gen").value()
    in_processes(_count_polls, path, 40)
    assert store.incr("poll:j1") == 1 + 120 + 1
    assert store.incr("poll:other") == 1
    assert Generation(path + ".gen").value() == gen  # counting expires nobody's cache
    store.clear_counters()
    assert store.incr("poll:j1") == 1


def test_faults_keep_creation_order_and_every_worker_sees_changes_through_its_cache(two) -> None:
    a, b = two
    assert b.faults() == []  # cached as empty
    a.put_fault("f1", {"id": "f1", "do": {"http": 503}})
    a.put_fault("f2", {"id": "f2", "do": {"drop": True}})
    assert [f["id"] for f in b.faults()] == ["f1", "f2"]
    a.put_fault("f1", {"id": "f1", "do": {"http": 502}})  # replaced in place
    assert b.faults()[0] == {"id": "f1", "do": {"http": 502}}
    assert all(x is y for x, y in zip(b.faults(), b.faults(), strict=True))  # unchanged: the cached mappings
    assert a.delete_fault("f1") is True
    assert a.delete_fault("f1") is False
    assert [f["id"] for f in b.faults()] == ["f2"]
    a.clear_faults()
    assert b.faults() == []


def test_a_state_file_without_the_pace_column_gets_it(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL UNIQUE, scenario TEXT NOT NULL,"
        " version TEXT NOT NULL, vars TEXT NOT NULL, params TEXT NOT NULL, start_ms INTEGER NOT NULL,"
        " speed REAL NOT NULL, cancel_at REAL, static INTEGER NOT NULL, rev INTEGER NOT NULL DEFAULT 0,"
        " created_ms INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO jobs (job_id, scenario, version, vars, params, start_ms, speed, static, created_ms)"
        " VALUES ('old', 's', 'v', '{}', '{}', 5, 1.0, 0, 0)"
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    assert store.get_job("old").pace is None
    from dataclasses import replace

    assert store.add_job(replace(job("new"), pace="poll")).pace == "poll"
    assert store.get_job("new").pace == "poll"
