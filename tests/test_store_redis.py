"""The Redis engine's own duties (the shared contract is in test_store_contract.py)."""

from __future__ import annotations

import multiprocessing

import redis

from mockjobs.store import open_store
from mockjobs.timeline import Job


def job(job_id: str = "j1", start: int = 1000) -> Job:
    """A plain job."""
    return Job(job_id=job_id, scenario="s", version="v1", vars={}, params={}, start_ms=start)


def calls(client: redis.Redis, command: str) -> int:
    """How often Redis ran command so far."""
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def test_cached_reads_cost_no_round_trip_while_nothing_changes(redis_url: str) -> None:
    store = open_store(redis_url)
    store.add_job(job())
    store.get_job("j1"), store.clock()  # cached now
    probe = redis.Redis.from_url(redis_url)
    before = calls(probe, "mget"), calls(probe, "hgetall"), calls(probe, "get")
    for _ in range(50):
        assert store.get_job("j1").job_id == "j1"
        store.clock()
    assert (calls(probe, "mget"), calls(probe, "hgetall"), calls(probe, "get")) == before


def _move(url: str) -> None:
    store = open_store(url)
    store.update_job(store.get_job("j1"), start_ms=5)


def test_a_change_made_by_another_process_is_read_at_once(redis_url: str) -> None:
    store = open_store(redis_url)
    store.add_job(job())
    assert store.get_job("j1").start_ms == 1000  # cached
    child = multiprocessing.get_context("fork").Process(target=_move, args=(redis_url,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert store.get_job("j1").start_ms == 5  # its message reached this process before the child's answer


def test_the_password_never_shows_in_the_store_url(redis_url: str) -> None:
    shown = open_store(redis_url.replace("redis://", "redis://:secret@") + "?prefix=other:").url
    assert "secret" not in shown and shown == redis_url


def test_per_job_journal_streams_shrink_with_the_window(redis_url: str) -> None:
    store = open_store(redis_url, journal_max=10)
    for n in range(5):
        store.journal.record({"n": n, "jobId": "old"})
    for n in range(300):
        store.journal.record({"n": n, "jobId": f"new{n % 3}"})
    probe = redis.Redis.from_url(redis_url)
    assert probe.xlen("mockjobs:journal:job:old") == 0  # emptied and removed by the random sweeps
    assert store.journal.entries("old") == []
    assert sum(probe.xlen(f"mockjobs:journal:job:new{i}") for i in range(3)) <= 10 + 3 * 10
