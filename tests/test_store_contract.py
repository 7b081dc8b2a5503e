"""The store contract, run against every engine: this suite is what a Store must do.

Two store objects on one URL stand for two workers (or two hosts): what one writes, the other
reads, whatever it cached.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from mockjobs.clock import ClockState
from mockjobs.errors import Conflict, NotFound, Stale
from mockjobs.store import Store, batching, open_store
from mockjobs.timeline import Job


def job(job_id: str = "j1", start: int = 1000, **extra: object) -> Job:
    """A plain job."""
    return Job(
        job_id=job_id, scenario="s", version="v1", vars={"a": [1, {}]}, params={"p": []}, start_ms=start, **extra
    )  # type: ignore[arg-type]


@pytest.fixture
def two(store_url: str) -> tuple[Store, Store]:
    """Two stores on one URL, as two workers or two hosts have."""
    return open_store(store_url), open_store(store_url)


def test_a_job_round_trips_with_its_values(two) -> None:
    a, _ = two
    added = a.add_job(job(static=True, speed=2.5, created_ms=7, cancel_at=1.5, pace="poll"))
    got = a.get_job("j1")
    assert got == added and added.seq > 0 and added.rev == 0
    assert dict(got.vars) == {"a": [1, {}]} and dict(got.params) == {"p": []}
    assert (got.static, got.speed, got.created_ms, got.cancel_at, got.pace) == (True, 2.5, 7, 1.5, "poll")
    assert a.add_job(job("j2")).pace is None and a.get_job("j2").pace is None


def test_a_write_through_one_store_is_read_by_the_other_despite_its_cache(two) -> None:
    a, b = two
    assert b.get_job("j1") is None
    added = a.add_job(job())
    assert b.get_job("j1") == added
    moved = a.update_job(added, start_ms=500)
    assert b.get_job("j1").start_ms == 500 == moved.start_ms
    a.set_clock(ClockState(0, 42))
    assert b.clock() == ClockState(0, 42)
    assert a.delete_job("j1") is True
    assert b.get_job("j1") is None
    assert b.job_ids() == []
    assert a.delete_job("j1") is False


def test_a_pinned_block_reads_one_moment_and_its_own_writes(two) -> None:
    a, b = two
    a.add_job(job())
    with b.pinned():
        assert b.get_job("j1").start_ms == 1000
        a.update_job(a.get_job("j1"), start_ms=500)  # another worker, meanwhile
        assert b.get_job("j1").start_ms == 1000  # the moment the block first read
        b.add_job(job("j2"))  # a write of its own: the block reads afresh from here
        assert b.get_job("j2") is not None and b.get_job("j1").start_ms == 500
        stale = b.get_job("j1")
        a.update_job(stale, start_ms=400)
        with pytest.raises(Stale):
            b.update_job(stale, start_ms=300)  # learning it was stale, the block reads afresh
        assert b.get_job("j1").start_ms == 400
    assert b.get_job("j1").start_ms == 400


def test_reads_without_writes_come_from_the_cache(two) -> None:
    a, b = two
    a.add_job(job())
    first = b.get_job("j1")
    assert b.get_job("j1") is first  # the same object: no new read
    a.set_clock(ClockState(5, None))
    assert b.get_job("j1") is not first and b.get_job("j1") == first


def test_adding_a_job_keeps_the_other_workers_cached_rows_and_shows_the_new_one(two) -> None:
    a, b = two
    a.add_job(job("j1"))
    first = b.get_job("j1")
    assert b.job_ids() == ["j1"]
    a.add_job(job("j2"))
    assert b.get_job("j1") is first  # adding touches no existing row
    assert b.get_job("j2") is not None
    assert b.job_ids() == ["j1", "j2"]
    a.update_job(first, start_ms=1)
    assert b.get_job("j1").start_ms == 1  # a change expires it


def test_a_taken_job_id_conflicts_and_seeding_skips_it(two) -> None:
    a, b = two
    a.add_job(job("j1", start=1))
    with pytest.raises(Conflict):
        b.add_job(job("j1", start=2))
    b.seed_jobs([job("j1", start=3), job("j2", start=4)])
    assert [(j.job_id, j.start_ms) for j in a.jobs()] == [("j1", 1), ("j2", 4)]


def test_jobs_page_in_creation_order(two) -> None:
    a, _ = two
    for i in range(5):
        a.add_job(job(f"j{i}"))
    assert a.count_jobs() == 5
    assert [j.job_id for j in a.jobs(1, 2)] == ["j1", "j2"]
    assert [j.job_id for j in a.jobs(3)] == ["j3", "j4"]
    assert a.job_ids() == [f"j{i}" for i in range(5)]


def test_a_stale_update_is_refused_and_a_gone_job_is_not_found(two) -> None:
    a, b = two
    added = a.add_job(job())
    a.update_job(added, start_ms=1)
    with pytest.raises(Stale):
        b.update_job(added, start_ms=2)  # one revision behind
    a.delete_job("j1")
    with pytest.raises(NotFound):
        b.update_job(added, cancel_at=3.0)


def test_concurrent_updates_of_one_job_lose_none(two) -> None:
    a, b = two
    a.add_job(job(start=0))

    def move(store: Store) -> None:
        for _ in range(20):
            while True:
                current = store.get_job("j1")
                try:
                    store.update_job(current, start_ms=current.start_ms + 1)
                    break
                except Stale:
                    continue

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(move, [a, b, a, b]))
    assert b.get_job("j1").start_ms == 80 and b.get_job("j1").rev == 80


def test_scenario_versions_are_kept_by_content_hash(two) -> None:
    a, b = two
    assert b.get_source("abc") is None
    a.put_source("abc", "steps", "steps.yaml", "name: steps\n")
    a.put_source("abc", "other", "x.yaml", "ignored: the first text of a version stays\n")
    assert b.get_source("abc") == ("steps", "steps.yaml", "name: steps\n")


def test_adding_one_scenario_name_twice_at_once_succeeds_once(two) -> None:
    a, b = two

    def add(args: tuple[Store, str]) -> str:
        store, version = args
        try:
            store.add_scenario("same", version)
            return "added"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(add, [(a, "v1"), (b, "v2")] * 3))
    assert sorted(outcomes) == ["added"] + ["conflict"] * 5
    a.add_scenario("later", "v3")
    assert [name for name, _ in b.added_scenarios()] == ["same", "later"]


def _advance(url: str, times: int) -> None:
    store = open_store(url)
    for _ in range(times):
        store.update_clock(lambda state: state.advance(1))
        store.incr("poll:j1")


def in_processes(target: Callable[[str, int], None], url: str, times: int, processes: int = 3) -> None:
    """Run target(url, times) in forked processes at once, as workers and hosts would."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=target, args=(url, times)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0


def test_clock_and_counter_changes_from_several_processes_are_never_lost(store_url: str) -> None:
    store = open_store(store_url)
    store.set_clock(ClockState(0, 1000))  # frozen, so the sum is exact
    in_processes(_advance, store_url, 30)
    assert store.clock() == ClockState(0, 1000 + 90)
    assert store.incr("poll:j1") == 91


def test_meta_default_keeps_the_first_value(two) -> None:
    a, b = two
    assert a.meta_default("token_secret", "one") == "one"
    assert b.meta_default("token_secret", "two") == "one"


def test_counters_count_atomically_and_clear(two) -> None:
    a, b = two
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda s: [s.incr("poll:j1") for _ in range(25)], [a, b, a, b]))
    assert a.incr("poll:j1") == 101
    assert b.incr("fired:f1:j1") == 1
    a.clear_counters()
    assert b.incr("poll:j1") == 1


def test_faults_keep_creation_order_and_every_worker_sees_changes(two) -> None:
    a, b = two
    assert b.faults() == []
    a.put_fault("f1", {"id": "f1", "n": 1})
    a.put_fault("f2", {"id": "f2", "n": 2})
    assert b.faults() == [{"id": "f1", "n": 1}, {"id": "f2", "n": 2}]
    a.put_fault("f1", {"id": "f1", "n": 3})  # replaced in place
    assert b.faults() == [{"id": "f1", "n": 3}, {"id": "f2", "n": 2}]
    assert b.delete_fault("f1") is True and b.delete_fault("f1") is False
    assert a.faults() == [{"id": "f2", "n": 2}]
    b.clear_faults()
    assert a.faults() == []


def test_resource_removals_are_shared_counted_once_and_cleared_by_reset(two) -> None:
    a, b = two
    assert b.removed_resources() == {}
    assert a.remove_resource("j1#1/0", 1000) is True
    assert b.remove_resource("j1#1/0", 2000) is False  # another worker removed it first: its time stays
    b.remove_resource("j2#2/1", 3000)
    assert a.removed_resources() == {"j1#1/0": 1000, "j2#2/1": 3000}
    assert b.removed_resources() == {"j1#1/0": 1000, "j2#2/1": 3000}
    b.reset([])
    assert a.removed_resources() == {} and b.removed_resources() == {}
    assert a.remove_resource("j1#1/0", 4000) is True  # a static job's resource returns after reset


def test_servers_are_listed_while_they_beat(two) -> None:
    a, b = two
    a.heartbeat("h:1:10", {"host": "h", "port": 1, "pid": 10, "version": "x"}, 1000.0)
    b.heartbeat("h:2:20", {"host": "h", "port": 2, "pid": 20, "version": "x"}, 1010.0)
    listed = a.servers(1020.0)
    assert [(s["port"], s["lastSeen"]) for s in listed] == [(1, 1000.0), (2, 1010.0)]
    assert [s["port"] for s in b.servers(1035.0)] == [2]  # the first was not heard of for 35 s
    b.forget_server("h:2:20")
    assert a.servers(1035.0) == []


def test_reset_keeps_only_the_static_jobs_and_the_real_clock(two) -> None:
    a, b = two
    a.add_job(job("j1"))
    a.add_scenario("added", "v9")
    a.set_clock(ClockState(5, 6))
    b.get_job("j1")
    b.reset([job("static", static=True)])
    assert a.job_ids() == ["static"] and a.get_job("j1") is None
    assert a.added_scenarios() == [] and a.clock() == ClockState()
    a.add_scenario("added", "v9")  # the name is free again


def test_the_journal_is_shared_indexed_by_job_and_cleared(two) -> None:
    a, b = two
    a.journal.record({"n": 1, "jobId": "j1", "kind": "poll"})
    b.journal.record({"n": 2, "kind": "root"})
    b.journal.record({"n": 3, "jobId": "j2", "kind": "poll"})
    a.journal.record({"n": 4, "jobId": "j1", "kind": "poll"})
    assert [e["n"] for e in b.journal.entries()] == [1, 2, 3, 4]
    assert [e["n"] for e in b.journal.entries("j1")] == [1, 4]
    assert a.journal.entries("nope") == []
    assert a.journal.stats() == {"entries": 4, "max": 100_000, "dropped": 0}
    b.journal.clear()
    assert a.journal.entries() == [] and a.journal.entries("j1") == []


def _record_in_a_child(url: str, n: int, done: multiprocessing.synchronize.Event, how: str) -> None:
    """Record entry n through a store of a forked child, then end as `how` says."""
    store = open_store(url)
    if how == "killed":
        batching.FLUSH_DELAY_S = 60.0  # still held when the process dies
    store.journal.record({"n": n, "jobId": "j1"})
    done.set()  # the request is answered: a reader starting now must see it
    if how == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "waits":
        time.sleep(0.5)  # alive, its batch written by the flushing thread (not at exit)


def test_a_read_sees_what_another_process_answered_before_it(store_url: str) -> None:
    reader = open_store(store_url)
    ctx = multiprocessing.get_context("fork")
    for n in range(3):
        done = ctx.Event()
        child = ctx.Process(target=_record_in_a_child, args=(store_url, n, done, "waits"))
        child.start()
        assert done.wait(10)
        assert [e["n"] for e in reader.journal.entries("j1")] == list(range(n + 1))
        child.join(10)
    assert reader.journal.stats()["entries"] == 3


def test_a_process_that_exits_writes_what_it_held(store_url: str) -> None:
    code = (
        "import sys; from mockjobs.store import batching, open_store\n"
        "batching.FLUSH_DELAY_S = 60.0\n"  # only the exit writes it
        "store = open_store(sys.argv[1])\n"
        "store.journal.record({'n': 7, 'jobId': 'j1'})\n"
        "print('answered', flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, store_url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "answered\n"
    reader = open_store(store_url)
    assert [e["n"] for e in reader.journal.entries()] == [7]
    assert child.wait(10) == 0


def test_a_busy_journal_keeps_one_mark_and_counts_its_batches(store_url: str, monkeypatch) -> None:
    monkeypatch.setattr(batching, "FLUSH_DELAY_S", 60.0)  # only the test flushes
    store = open_store(store_url)
    journal = store.journal
    journal.record({"n": 1})  # from quiet to busy: the one write on the request path
    (mark,) = journal.log.marks()  # type: ignore[attr-defined]
    assert journal.log.marks()[mark][1] == 0  # type: ignore[attr-defined]
    journal.flush()
    journal.record({"n": 2})  # busy: nothing written, the mark stands
    assert list(journal.log.marks()) == [mark] and journal.log.marks()[mark][1] == 1  # type: ignore[attr-defined]
    journal.flush()
    assert journal.log.marks()[mark][1] == 2  # type: ignore[attr-defined]
    journal.flush()  # nothing held: quiet again, the mark goes
    assert journal.log.marks() == {}  # type: ignore[attr-defined]
    assert [e["n"] for e in journal.entries()] == [1, 2]


def test_entries_held_by_a_killed_process_do_not_hold_readers_up(store_url: str) -> None:
    reader = open_store(store_url)
    reader.journal.record({"n": 0, "jobId": "j1"})
    ctx = multiprocessing.get_context("fork")
    done = ctx.Event()
    child = ctx.Process(target=_record_in_a_child, args=(store_url, 1, done, "killed"))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL and done.is_set()
    started = time.monotonic()
    assert [e["n"] for e in reader.journal.entries()] == [0]  # entry 1 died with its process
    assert time.monotonic() - started < batching.WAIT_S  # its mark was seen as abandoned, not waited out
    left = reader.journal.log.marks()  # type: ignore[attr-defined]
    assert [m for m in left if m.split("/")[1] == str(child.pid)] == []  # the dead one's mark is removed


def test_a_forked_child_does_not_write_its_parents_held_entries_again(store_url: str) -> None:
    parent = open_store(store_url)
    parent.journal.record({"n": 0, "jobId": "j1"})  # held when the child is forked
    ctx = multiprocessing.get_context("fork")
    done = ctx.Event()

    def child_records() -> None:  # multiprocessing ends a child with os._exit: no exit handlers, so close()
        parent.journal.record({"n": 1, "jobId": "j1"})
        parent.journal.close()
        done.set()

    child = ctx.Process(target=child_records)
    child.start()
    child.join(10)
    assert child.exitcode == 0 and done.is_set()
    assert [e["n"] for e in parent.journal.entries()] == [0, 1]


def test_the_journal_keeps_the_newest_entries_and_counts_the_dropped(store_url: str) -> None:
    a, b = open_store(store_url, journal_max=10), open_store(store_url, journal_max=10)
    for n in range(1, 16):
        (a if n % 2 else b).journal.record({"n": n, "jobId": "j1" if n % 3 else "j0"})
    a.journal.entries()  # both writers' batches are in (the bound counts what reached the store)
    for n in range(16, 26):
        b.journal.record({"n": n, "jobId": "j1" if n % 3 else "j0"})
    assert [e["n"] for e in a.journal.entries()] == list(range(16, 26))
    assert [e["n"] for e in b.journal.entries("j0")] == [18, 21, 24]
    assert b.journal.stats() == {"entries": 10, "max": 10, "dropped": 15}
