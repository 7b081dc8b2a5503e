"""Scenario files and seeded state databases for the bench, written into a temporary folder.

Every bench job runs for an hour of scenario time and is started half an hour in the past,
so it stays EXECUTING for the whole run and its document changes rarely (as a real job's
does between polls).
"""

from __future__ import annotations

import time
from pathlib import Path

HOUR_MS = 3_600_000
HALF_HOUR_MS = HOUR_MS // 2


def _event(at_ms: float, message: str | None, code: int | None, extra: str = "") -> str:
    parts = [f"at: {round(at_ms / 1000, 3)!r}"]
    if message is not None:
        parts.append(f'message: "{message}"')
    if code is not None:
        parts.append(f"code: {code}")
    if extra:
        parts.append(extra)
    return "  - {" + ", ".join(parts) + "}"


def scenario_text(name: str, events: int, messages_every: int = 1) -> str:
    """A scenario of `events` events spread over one hour; the last one COMPLETES it.

    Every event adds a step; every `messages_every`-th event also adds a message and a code,
    so a long timeline can keep its documents as small as a short one's.
    """
    lines = [
        f"name: {name}",
        f"description: Bench scenario with {events} events over one hour.",
        "job:",
        "  type: addMission",
        "  username: admin",
        f"  totalSteps: {events}",
        "  status: SUBMITTED",
        "  customAttributes:",
        '    missionId: "{missionId}"',
        "vars:",
        "  missionId: {generate: hex32}",
        "timeline:",
    ]
    step = HOUR_MS / max(events - 1, 1)
    for i in range(events):
        last = i == events - 1
        at = HOUR_MS if last else round(i * step, 3)
        with_message = i % messages_every == 0 or last
        message = f"Finished mission {{missionId}} step {i}." if with_message else None
        code = 1500 + (i // messages_every) % 100 if with_message else None
        extra = 'steps: "+1"' + (", status: EXECUTING" if i == 0 else "") + (", status: COMPLETED" if last else "")
        lines.append(_event(at, message, code, extra))
    return "\n".join(lines) + "\n"


def write_main_scenarios(folder: Path) -> dict[str, Path]:
    """bench-10 (10 events, each with a message) and bench-10k (10,000 events, one message per 1,000)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "bench-10": folder / "bench-10.yaml",
        "bench-10k": folder / "bench-10k.yaml",
    }
    files["bench-10"].write_text(scenario_text("bench-10", 10))
    files["bench-10k"].write_text(scenario_text("bench-10k", 10_000, messages_every=1000))
    return files


def write_many(folder: Path, count: int) -> Path:
    """count scenario files of 10 events each, named bench-file-NNNNN."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name = f"bench-file-{i:05d}"
        (folder / f"{name}.yaml").write_text(scenario_text(name, 10))
    return folder


def seed_state(state: Path, scenario_file: Path, count: int, start_ms: int | None = None) -> list[str]:
    """A state database holding `count` running jobs of one scenario, inserted in one batch.

    Uses mockjobs' own SqliteStore (executemany), so the rows are exactly what the server
    would have written; returns the job ids in creation order.
    """
    from mockjobs.scenarios import load_file
    from mockjobs.store import SqliteStore
    from mockjobs.timeline import Job

    sc = load_file(scenario_file)
    store = SqliteStore(state)
    store.put_source(sc.version, sc.name, sc.source.file, sc.source.text)
    now = int(time.time() * 1000)
    start = now - HALF_HOUR_MS if start_ms is None else start_ms
    ids = [f"jbench{i:08d}-0000-4000-8000-000000000000" for i in range(count)]
    jobs = (
        Job(
            job_id=job_id,
            scenario=sc.name,
            version=sc.version,
            vars={"missionId": f"{i:032x}"},
            params={},
            start_ms=start,
            speed=1.0,
            created_ms=now,
        )
        for i, job_id in enumerate(ids)
    )
    store.seed_jobs(jobs)
    store.close()
    return ids
