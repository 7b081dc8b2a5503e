"""The SQLite engine's own duties (the shared contract is in test_store_contract.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from mockjobs.store import SqliteStore, open_store, store_url
from mockjobs.store.base import CHANGED
from mockjobs.timeline import Job


def job(job_id: str = "j1", start: int = 1000) -> Job:
    """A plain job."""
    return Job(job_id=job_id, scenario="s", version="v1", vars={"a": 1}, params={}, start_ms=start)


def test_a_state_file_is_short_for_a_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert store_url(None, "state.db") == f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(store_url(None, "state.db"))
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "state.db"
    assert open_store("sqlite:///rel.db").path == Path("rel.db")  # type: ignore[attr-defined]


def test_a_cached_read_costs_one_pragma_until_another_connection_commits(tmp_path: Path) -> None:
    a, b = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    a.add_job(job())
    before = b._stamp((CHANGED,))
    b.journal.record({"n": 1})  # a commit that changes nothing cached
    assert a._stamp((CHANGED,)) == before  # data_version moved, so the counters were re-read: unchanged
    a.delete_job("j1")
    assert b._stamp((CHANGED,)) == (before[0] + 1,)


def test_a_job_moved_by_another_worker_is_advanced_from_where_it_now_is(make_app) -> None:
    first, second = make_app(), make_app()  # two workers of one server
    one, two = first.extensions["mockjobs"], second.extensions["mockjobs"]
    job = one.create("add-mission")
    stale = two.get(job.job_id)  # the second worker has read the job...
    one.advance(job.job_id, by_ms=5000)  # ...and the first moves it meanwhile
    reads = two.store._reads
    reads.clear()
    reads._cache[("job", job.job_id)] = (two.store._stamp((CHANGED,)), stale)  # still the stale copy
    moved = two.advance(job.job_id, by_ms=1000)
    assert moved.start_ms == job.start_ms - 6000  # both moves count


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
    assert [f for f in _open_files(str(tmp_path)) if "state.db" in f] == []


def test_the_journal_leaves_no_files_beside_the_database(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    for n in range(5):
        store.journal.record({"n": n, "jobId": "j1"})
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("state.db-")) == ["state.db"]


def test_the_journal_table_is_trimmed_to_its_bound(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db", journal_max=10)
    for n in range(1, 301):
        store.journal.record({"n": n, "jobId": f"j{n % 2}"})
    assert [e["n"] for e in store.journal.entries()] == list(range(291, 301))
    assert store._db().execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 10  # the rows beyond really go
    assert [e["n"] for e in store.journal.entries("j1")] == [291, 293, 295, 297, 299]
    assert store.journal.stats() == {"entries": 10, "max": 10, "dropped": 290}


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


def test_a_journal_written_one_entry_at_a_time_is_kept_in_its_order(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT, entry TEXT NOT NULL);"
        " CREATE INDEX journal_by_job ON journal (job_id, id);"
        """ INSERT INTO journal (job_id, entry) VALUES ('j1', '{"n": 1}'), (NULL, '{"n": 2}'), ('j1', '{"n": 3}');"""
    )
    db.close()
    store = SqliteStore(path, journal_max=3)
    assert [e["n"] for e in store.journal.entries("j1")] == [1, 3]
    store.journal.record({"n": 4, "jobId": "j1"})  # newer than any old entry; the oldest goes
    assert [e["n"] for e in store.journal.entries()] == [2, 3, 4]
    assert store.journal.stats() == {"entries": 3, "max": 3, "dropped": 1}
