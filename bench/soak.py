"""`make soak`: a real server under 64 connections while jobs are created, advanced, cancelled and
scenarios edited, with a worker SIGKILLed mid-run; then every job answered 201 must still be there.

Loopback only, bounded (``--seconds``, default 60). Prints the figures RELIABILITY.md quotes and
exits 1 if anything was lost or any answer was a 5xx.

    python -m bench.soak [--seconds 60] [--connections 64] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.servers import Server, children, free_port, mockjobs_command

SOAK = """\
name: soak
job: {type: soakJob, totalSteps: 4}
timeline:
  - {at: 0, message: Started., status: EXECUTING}
  - {at: 5s, steps: 1}
  - {at: 10s, steps: 2}
  - {at: 15s, steps: 3}
  - {at: 20s, steps: 4, message: Done., status: COMPLETED}
on_cancel:
  - {at: 0, status: CANCELLING}
  - {at: 2s, status: CANCELLED, message: Cancelled.}
"""
EDITED = (
    "name: edited\ndescription: edit {n}\njob: {{type: editedJob}}\n"
    "timeline:\n  - {{at: 0, status: EXECUTING}}\n  - {{at: {n}s, status: COMPLETED}}\n"
)


class Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"} if method == "POST" else {}
        data = json.dumps({} if body is None else body).encode() if method == "POST" else None
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        try:
            return response.status, json.loads(raw or b"null")
        except ValueError:
            return response.status, None


class Soak:
    """The shared tallies of one run."""

    def __init__(self, port: int, seconds: float) -> None:
        self.port = port
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.created: set[str] = set()
        self.cancelled: set[str] = set()
        self.statuses: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = {}
        self.connection_errors = 0
        self.server_errors: list[str] = []
        self.edits = 0
        self.added = 0

    def note(self, op: str, status: int, seconds: float, detail: Any = None) -> None:
        with self.lock:
            self.statuses[f"{op} {status}"] += 1
            self.latencies.setdefault(op, []).append(seconds)
            if status >= 500:
                self.server_errors.append(f"{op} {status} {str(detail)[:200]}")

    def pick(self) -> str | None:
        with self.lock:
            return random.choice(tuple(self.created)) if self.created else None

    def connection(self, index: int) -> None:
        """One of the connections: a mix of creates, polls, advances, cancels and reads."""
        client = Client(self.port)
        rng = random.Random(index)
        while time.monotonic() < self.deadline:
            job = self.pick()
            roll = rng.random()
            if job is None or roll < 0.25:
                op, method, path, body = "create", "POST", "/__mock/jobs", {"scenario": "soak"}
            elif roll < 0.65:
                op, method, path, body = "poll", "GET", f"/arcgis/rest/jobs/{job}?f=json", None
            elif roll < 0.8:
                op, method, path, body = "advance", "POST", f"/__mock/jobs/{job}/advance", {"by": "3s"}
            elif roll < 0.9:
                op, method, path, body = "cancel", "POST", f"/__mock/jobs/{job}/cancel", None
            else:
                op, method, path, body = "read", "GET", f"/__mock/jobs/{job}", None
            started = time.perf_counter()
            try:
                status, answer = client.call(method, path, body)
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.connection_errors += 1
                time.sleep(0.05)
                continue
            self.note(op, status, time.perf_counter() - started, answer)
            with self.lock:
                if op == "create" and status == 201:
                    self.created.add(answer["jobId"])
                elif op == "cancel" and status == 200:
                    self.cancelled.add(job)

    def editor(self, folder: Path) -> None:
        """Edits a scenario file (and sometimes breaks it) and adds scenarios through the API."""
        client = Client(self.port)
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            text = EDITED.format(n=n % 50 + 1) if n % 7 else "name: edited\njob: {type: [broken\n"
            (folder / "edited.yaml").write_text(text)
            self.edits += 1
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = client.call(
                    "POST", "/__mock/scenarios", {"name": f"added-{n}", "job": {"type": "x"}, "timeline": [{"at": 0}]}
                )
                self.note("add-scenario", status, 0.0)
                self.added += status == 201
            time.sleep(0.5)


def run(seconds: float, connections: int, out: Path | None) -> int:
    folder = Path(tempfile.mkdtemp(prefix="mockjobs-soak-"))
    scenarios = folder / "scenarios"
    scenarios.mkdir()
    (scenarios / "soak.yaml").write_text(SOAK)
    (scenarios / "edited.yaml").write_text(EDITED.format(n=1))
    port = free_port()
    cmd = [*mockjobs_command(), "serve", str(scenarios), "--port", str(port), "--state", str(folder / "state.db")]
    cmd += ["--workers", "2", "--threads", "8", "--reload-interval", "0.5", "--log-level", "warning"]
    server = Server("soak", cmd, port, folder / "server.log").start("/__mock/health")
    soak = Soak(port, seconds)
    threads = [threading.Thread(target=soak.connection, args=(i,), daemon=True) for i in range(connections)]
    threads.append(threading.Thread(target=soak.editor, args=(scenarios,), daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    workers_before = children(server.pids()[0])
    victim = workers_before[0]
    os.kill(victim, signal.SIGKILL)  # mid-run: gunicorn starts another; no job may be lost
    killed_at = time.monotonic() - started
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.monotonic() - started
    workers_after = children(server.pids()[0])

    client = Client(port)
    _, listing = client.call("GET", "/__mock/jobs?polls=false")
    present = {j["jobId"] for j in listing["jobs"]}
    lost = sorted(soak.created - present)
    flags = {j["jobId"]: j["isCancelled"] for j in listing["jobs"]}
    not_cancelled = sorted(j for j in soak.cancelled if j in flags and not flags[j])
    memory = server.memory()
    server.stop()

    requests_done = sum(soak.statuses.values())
    figures = {
        "seconds": round(elapsed, 1),
        "connections": connections,
        "requests": requests_done,
        "requests_per_second": round(requests_done / elapsed, 1),
        "latency_ms": {
            op: {
                "median": round(statistics.median(v) * 1000, 1),
                "p99": round(sorted(v)[int(len(v) * 0.99) - 1] * 1000, 1) if len(v) > 1 else round(v[0] * 1000, 1),
            }
            for op, v in sorted(soak.latencies.items())
            if op != "add-scenario"
        },
        "statuses": dict(sorted(soak.statuses.items())),
        "jobs_created": len(soak.created),
        "jobs_cancelled": len(soak.cancelled),
        "jobs_lost": len(lost),
        "cancels_lost": len(not_cancelled),
        "server_errors": len(soak.server_errors),
        "connection_errors": soak.connection_errors,
        "scenario_edits": soak.edits,
        "scenarios_added": soak.added,
        "worker_killed_at_s": round(killed_at, 1),
        "workers_before_after": [len(workers_before), len(workers_after)],
        "memory_mib_at_end": round(memory["rss_mib"], 1),
    }
    print(json.dumps(figures, indent=2))
    if out:
        out.write_text(json.dumps(figures, indent=2) + "\n")
    problems = []
    if lost:
        problems.append(f"{len(lost)} created job(s) lost, e.g. {lost[:3]}")
    if not_cancelled:
        problems.append(f"{len(not_cancelled)} cancel(s) lost, e.g. {not_cancelled[:3]}")
    if soak.server_errors:
        problems.append(f"{len(soak.server_errors)} 5xx answer(s), e.g. {soak.server_errors[:3]}")
    if not soak.created:
        problems.append("no job was created: the load never reached the server")
    for problem in problems:
        print(f"soak: FAILED: {problem}", file=sys.stderr)
    if problems:
        print(f"soak: the server's log is {server.log}", file=sys.stderr)
    else:
        shutil.rmtree(folder, ignore_errors=True)
        print("soak: ok: nothing lost, no 5xx")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent keep-alive connections (default 64)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    return run(args.seconds, args.connections, args.json)


if __name__ == "__main__":
    sys.exit(main())
