"""The control API's heavy calls in-process, this checkout against another revision, side by side.

``python -m bench.control_api [--against REV] [--jobs N] [--creates K] [--rounds R] [--served]``: exports
REV (default ``main``) with ``git archive`` and starts one worker process per checkout, each
with an app built by ``create_app`` (Flask's test client, no sockets): the same seeded SQLite
state of N jobs (bench/scenarios.py), the same scenario files. Rounds alternate the two (the
order flips every round) so that a busy machine slows both alike; it reports medians and the
ratios, as figures of bench/report.py:

- ``GET /__mock/jobs?polls=false`` over N jobs (``list.control`` of ``make bench`` measures it
  under gunicorn), seconds per answer;
- ``POST /__mock/jobs`` ({"scenario": "bench-10"}), K jobs per round, jobs per second
  (``create.rps`` of ``make bench``, which measures it under gunicorn with wrk).

``--served`` runs both checkouts under `mockjobs serve` instead (gunicorn, 2 workers x 4
threads, the command users run), times one GET of the list and drives the POST with wrk
(16 connections, --seconds per round), as `make bench` does for those two rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from . import scenarios, servers, wrk
from .report import Report, info, median

ROOT = Path(__file__).resolve().parent.parent

# A worker: one app on its own copy of the state; a command per line on stdin, one JSON answer per line.
_WORKER = """
import json, sys, time
from mockjobs import create_app
scenarios, state = sys.argv[1], sys.argv[2]
app = create_app({"SCENARIOS": [scenarios], "STATE": state, "RELOAD_INTERVAL": 0})
client = app.test_client()
body = {"scenario": "bench-10"}
assert client.get("/__mock/jobs?polls=false&limit=1").status_code == 200
print(json.dumps({"ready": __import__("mockjobs").__file__}), flush=True)
for line in sys.stdin:
    what, count = line.split()
    t0 = time.perf_counter()
    if what == "list":
        r = client.get("/__mock/jobs?polls=false")
        took = time.perf_counter() - t0
        listed = r.json
        assert r.status_code == 200 and listed["total"] == len(listed["jobs"]), r.status_code
        del r, listed  # not kept alive into the next round (the collector would walk them)
        print(json.dumps({"s": took}), flush=True)
    else:
        for _ in range(int(count)):
            r = client.post("/__mock/jobs", json=body)
            assert r.status_code == 201, r.data
        print(json.dumps({"s": time.perf_counter() - t0}), flush=True)
"""


class Worker:
    """A Python process serving one checkout's app, driven over its stdin."""

    def __init__(self, name: str, root: Path, sc_dir: Path, state: Path) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(sc_dir), str(state)],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._answer()
        if not str(ready["ready"]).startswith(str(root)):
            raise RuntimeError(f"{name}: imported mockjobs from {ready['ready']}, not from {root}")

    def _answer(self) -> dict[str, float]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker exited ({self.proc.wait()})")
        return dict(json.loads(line))

    def ask(self, what: str, count: int = 1) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{what} {count}\n")
        self.proc.stdin.flush()
        return self._answer()

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


@contextmanager
def exported(rev: str) -> Iterator[Path]:
    """The files of rev (git archive) in a temporary folder."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="mockjobs-against-"))
    try:
        with tarfile.open(fileobj=BytesIO(tar)) as archive:
            archive.extractall(folder, filter="data")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Served:
    """One checkout under `mockjobs serve` (gunicorn, as `make bench` runs it): GET timed, POSTs driven by wrk."""

    def __init__(self, name: str, root: Path | None, tmp: Path, state: Path, seconds: float) -> None:
        self.name, self.seconds = name, seconds
        label = name.replace("/", "_")
        self.server = servers.mockjobs_server(f"control-{label}", tmp, [tmp / "scenarios"], state)
        if root is not None:  # the console script puts its own folder first, so PYTHONPATH decides
            self.server.env = {"PYTHONPATH": str(root)}
        self.server.start("/__mock/health", timeout=300)
        self.script = wrk.post_script(tmp, json.dumps({"scenario": "bench-10"}))

    def ask(self, what: str, count: int = 1) -> dict[str, float]:
        if what == "list":
            took, status, _ = servers.timed_get(f"{self.server.base}/__mock/jobs?polls=false", timeout=600)
            assert status == 200, status
            return {"s": took}
        res = wrk.run(f"{self.server.base}/__mock/jobs", connections=16, seconds=self.seconds, script=self.script)
        assert res.clean, res
        return {"s": count / res.rps}

    def stop(self) -> None:
        self.server.stop()


def run(against: str, jobs: int, creates: int, rounds: int, served: bool = False, seconds: float = 3) -> Report:
    rep = Report()
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", against], capture_output=True, text=True)
    how = "under `mockjobs serve`" if served else "in-process"
    rep.note(f"control API {how}: this checkout vs {against} ({rev.stdout.strip()}), {rounds} alternating rounds")
    with tempfile.TemporaryDirectory(prefix="mockjobs-control-") as tmp_name, exported(against) as old_root:
        tmp = Path(tmp_name)
        files = scenarios.write_main_scenarios(tmp / "scenarios")
        seeded = tmp / "seeded.db"
        scenarios.seed_state(seeded, files["bench-10"], jobs)
        workers: dict[str, Worker | Served] = {}
        listed: dict[str, list[float]] = {}
        created: dict[str, list[float]] = {}
        try:
            for name, root in (("this", ROOT), (against, old_root)):
                state = tmp / f"{name.replace('/', '_')}.db"
                shutil.copyfile(seeded, state)
                if served:
                    workers[name] = Served(name, None if root == ROOT else root, tmp, state, seconds)
                else:
                    workers[name] = Worker(name, root, tmp / "scenarios", state)
                listed[name], created[name] = [], []
            for w in workers.values():  # warm-up: imports, caches, the first SQLite pages
                w.ask("create", 20)
            for r in range(rounds):
                order = list(workers) if r % 2 == 0 else list(reversed(workers))
                for name in order:
                    listed[name].append(workers[name].ask("list")["s"])
                for name in order:
                    created[name].append(creates / workers[name].ask("create", creates)["s"])
                rep.note(
                    f"  round {r + 1}/{rounds}: "
                    + ", ".join(f"{n}: list {listed[n][-1]:.3f} s, create {created[n][-1]:,.0f}/s" for n in order)
                )
        finally:
            for w in workers.values():
                w.stop()
    new_list, old_list = median(listed["this"]), median(listed[against])
    new_create, old_create = median(created["this"]), median(created[against])
    key = "served" if served else "inproc"
    path = "GET /__mock/jobs?polls=false"
    rep.add(info(f"{key}.list.this", f"{path}, {jobs:,} jobs, this checkout", new_list, "s"))
    rep.add(info(f"{key}.list.against", f"  the same, {against}", old_list, "s"))
    rep.add(info(f"{key}.list.ratio", f"  {against} / this (x faster)", old_list / new_list, "x"))
    rep.add(info(f"{key}.create.this", "POST /__mock/jobs, this checkout", new_create, "jobs/s"))
    rep.add(info(f"{key}.create.against", f"  the same, {against}", old_create, "jobs/s"))
    rep.add(info(f"{key}.create.ratio", f"  this / {against} (x faster)", new_create / old_create, "x"))
    return rep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.control_api", description=__doc__.splitlines()[0])
    p.add_argument("--against", default="main", help="the git revision to compare with (default main)")
    p.add_argument("--jobs", type=int, default=100_000, help="jobs in the seeded state (default 100000)")
    p.add_argument("--creates", type=int, default=1000, help="POST /__mock/jobs per round (default 1000)")
    p.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    p.add_argument("--served", action="store_true", help="under `mockjobs serve` (gunicorn) with wrk instead")
    p.add_argument("--seconds", type=float, default=3, help="seconds of wrk per create round, --served (default 3)")
    a = p.parse_args(argv)
    if a.served:
        try:
            wrk.wrk_path()
        except wrk.WrkError as exc:
            print(f"bench.control_api: {exc}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    rep = run(a.against, a.jobs, a.creates, a.rounds, a.served, a.seconds)
    print()
    print(rep.table())
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
