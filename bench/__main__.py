"""`make bench` / `python -m bench`: mockjobs under gunicorn against baselines, with wrk.

Every contender runs as a separate gunicorn server with the settings of `mockjobs serve`
(gthread, 2 workers x 4 threads, preload): mockjobs itself (started with the `mockjobs serve`
command), a bare Flask app and a raw WSGI callable answering mockjobs' own bytes for the same
job. wrk drives them over loopback in alternating A/B rounds (the order flips every round);
figures are medians over the rounds and ratios of medians from this one run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import polls, scenarios, servers, wrk
from .report import Report, at_least, at_most, info, median
from .servers import Server

ROOT = Path(__file__).resolve().parent.parent
CTX = "/arcgis"


@dataclass(frozen=True)
class Probe:
    """One wrk target: a contender's URL with a connection count (and an optional script)."""

    key: str
    server: Server
    url: str
    connections: int
    script: Path | None = None


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--rounds", type=int, default=6, help="A/B rounds per comparison, order flipped each round (default 6)"
    )
    p.add_argument("--seconds", type=float, default=3, help="seconds per wrk run (default 3)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections for throughput (default 16)")
    p.add_argument("--p99-connections", type=int, default=64, help="wrk connections for the p99 test (default 64)")
    p.add_argument("--jobs", type=int, default=100_000, help="jobs in the big store (default 100000)")
    p.add_argument("--files", type=int, default=1000, help="scenario files for the start-up test (default 1000)")
    p.add_argument(
        "--retries", type=int, default=4, help="redo a run in which a worker got no connection, this often (4)"
    )
    p.add_argument("--polls-only", action="store_true", help="only the poll-form rows (GET, form POST, tokens, Origin)")
    p.add_argument("--quick", action="store_true", help="a fast smoke run: 2 rounds of 1 s, 10k jobs, 200 files")
    p.add_argument("--profile", action="store_true", help="also profile GET f=json with py-spy (if installed)")
    p.add_argument("--out", type=Path, help="JSON record of the run (default bench/results/latest.json)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    a = p.parse_args(argv)
    if a.quick:
        a.rounds, a.seconds, a.jobs, a.files = 2, 1.0, 10_000, 200
    return a


class Bench:
    """One run: temporary folder, servers, rounds, figures."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.report = Report()
        self.servers: list[Server] = []
        self.results: dict[str, list[wrk.WrkResult]] = {}
        self.cpu: dict[str, list[float]] = {}  # probe -> server CPU microseconds per request
        self.runs_total = self.runs_redone = 0
        self.redis: servers.RedisProcess | None = None

    # ------------------------------------------------------------------ servers

    def start(self, server: Server, ready_path: str, ready: Callable[[bytes], bool] | None = None) -> Server:
        self.servers.append(server)
        server.start(ready_path, ready=ready)
        self.report.note(f"  {server.name}: ready in {server.ready_after:.2f} s on {server.base}")
        return server

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()
        if self.redis is not None:
            self.redis.stop()

    # ------------------------------------------------------------------ wrk

    def wrk(self, probe: Probe, seconds: float | None = None) -> wrk.WrkResult:
        return wrk.run(
            probe.url,
            connections=probe.connections,
            seconds=seconds or self.args.seconds,
            script=probe.script,
        )

    def measure(self, probe: Probe) -> tuple[wrk.WrkResult, float]:
        """A wrk run in which every worker holds some of the connections; and server CPU us/request.

        wrk opens its connections in one burst and keeps them alive; gunicorn's first worker to
        wake often accepts all of them, leaving the other idle for the whole run (half the
        throughput, for every contender alike). Such a run is stopped and started again, so
        that A/B rounds compare like with like; how many were restarted is reported.
        """
        for attempt in range(self.args.retries + 1):
            cpu0 = probe.server.cpu_seconds()
            running = wrk.start(
                probe.url, connections=probe.connections, seconds=self.args.seconds, script=probe.script
            )
            time.sleep(min(0.3, self.args.seconds / 4))
            split = probe.server.connections()
            self.runs_total += 1
            skewed = len(split) > 1 and min(split.values()) == 0
            if skewed:
                self.runs_redone += 1
                if attempt < self.args.retries:
                    running.abort()
                    continue
                self.report.note(f"    ! {probe.key}: a worker held no connection in {attempt + 1} tries; kept")
            res = running.finish()
            return res, (probe.server.cpu_seconds() - cpu0) / max(res.requests, 1) * 1e6
        raise AssertionError("unreachable")

    def rounds(self, groups: list[list[Probe]], rounds: int | None = None) -> None:
        """Every group's probes one after another, order flipped every round (A/B/A/B...)."""
        rounds = rounds or self.args.rounds
        for group in groups:  # warm-up: caches, threads, connections
            for probe in group:
                self.wrk(probe, seconds=1)
        for r in range(rounds):
            line = []
            for group in groups:
                order = group if r % 2 == 0 else list(reversed(group))
                for probe in order:
                    res, cpu_us = self.measure(probe)
                    self.cpu.setdefault(probe.key, []).append(cpu_us)
                    if not res.clean:
                        self.report.note(f"    ! {probe.key}: {res.errors} socket errors, {res.non_2xx} non-2xx")
                    self.results.setdefault(probe.key, []).append(res)
                    line.append(f"{probe.key} {res.rps:,.0f}")
            self.report.note(f"  round {r + 1}/{rounds}: " + ", ".join(line))

    def rps(self, key: str) -> float:
        return median([r.rps for r in self.results.get(key, [])])

    def p99(self, key: str) -> float:
        return median([r.p99 for r in self.results.get(key, [])])

    def cpu_per_request(self, key: str) -> float:
        return median(self.cpu.get(key, []))

    def ratio(self, a: str, b: str) -> float:
        return self.rps(a) / self.rps(b)

    def spread(self, a: str, b: str) -> str:
        per_round = [x.rps / y.rps for x, y in zip(self.results[a], self.results[b], strict=False)]
        return f"rounds {min(per_round):.2f}-{max(per_round):.2f}x"

    # ------------------------------------------------------------------ the run

    def run(self) -> Report:
        a, rep = self.args, self.report
        rep.meta.update(
            {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "command": "make bench" + (f" ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""),
                "wrk": wrk.version(),
                "wrk_command": " ".join(wrk.command("URL", connections=a.connections, seconds=a.seconds)),
                "cores": os.cpu_count(),
                "rounds": a.rounds,
                "seconds": a.seconds,
            }
        )
        rep.note(f"mockjobs bench: {a.rounds} rounds x {a.seconds:g} s per contender, {os.cpu_count()} cores")
        rep.note(f"  load generator: {rep.meta['wrk_command']}  ({rep.meta['wrk']})")
        sc_dir = self.tmp / "scenarios"
        files = scenarios.write_main_scenarios(sc_dir)

        # seeded stores: 1 job and N jobs of the same scenario, written straight into SQLite
        rep.note("seeding state databases ...")
        small_ids = scenarios.seed_state(self.tmp / "small.db", files["bench-10"], 1)
        t0 = time.perf_counter()
        big_ids = [] if a.polls_only else scenarios.seed_state(self.tmp / "big.db", files["bench-10"], a.jobs)
        seed_s = time.perf_counter() - t0

        rep.note("starting servers ...")
        health = "/__mock/health"
        main = self.start(servers.mockjobs_server("mockjobs", self.tmp, [sc_dir], self.tmp / "main.db"), health)
        job10 = self._create(main, "bench-10")
        job10k = self._create(main, "bench-10k")
        secured = self.start(
            servers.mockjobs_server("mockjobs-auth", self.tmp, [sc_dir], self.tmp / "auth.db", "--auth"), health
        )
        job_auth = self._create(secured, "bench-10")
        token = self._token(secured)
        if a.polls_only:
            rep.note("A/B rounds of the poll forms only (--polls-only) ...")
            self.rounds([self._poll_group(main, job10, secured, job_auth, token)])
            self._poll_figures()
            self.stop_all()
            return rep
        docs = self._documents(main, job10)
        flask = self.start(servers.baseline_server("flask", "flask", self.tmp, docs), f"{CTX}/rest/jobs/x?f=json")
        raw = self.start(servers.baseline_server("wsgi", "wsgi", self.tmp, docs), f"{CTX}/rest/jobs/x?f=json")
        self.redis = servers.RedisProcess(self.tmp / "redis")
        on_redis = self.start(
            servers.mockjobs_server("mockjobs-redis", self.tmp, [sc_dir], None, "--store", self.redis.url), health
        )
        job_redis = self._create(on_redis, "bench-10")

        def has_jobs(n: int) -> Callable[[bytes], bool]:
            return lambda body: json.loads(body).get("jobs") == n

        small = self.start(
            servers.mockjobs_server("mockjobs-1job", self.tmp, [sc_dir], self.tmp / "small.db"), health, has_jobs(1)
        )
        big = self.start(
            servers.mockjobs_server(f"mockjobs-{a.jobs}jobs", self.tmp, [sc_dir], self.tmp / "big.db"),
            health,
            has_jobs(a.jobs),
        )
        faulty, faulty_job = self._faulty_server(sc_dir)
        small_job, big_job = small_ids[0], big_ids[len(big_ids) // 2]
        for srv, jid in ((main, job10), (main, job10k), (small, small_job), (big, big_job), (faulty, faulty_job)):
            self._check_running(srv, jid)

        def job_url(srv: Server, jid: str, f: str) -> str:
            return f"{srv.base}{CTX}/rest/jobs/{jid}?f={f}"

        c, c99 = a.connections, a.p99_connections
        groups: list[list[Probe]] = []
        for f in ("json", "pjson", "html"):
            groups.append(
                [
                    Probe(f"{f}/mockjobs", main, job_url(main, job10, f), c),
                    Probe(f"{f}/flask", flask, job_url(flask, job10, f), c),
                    Probe(f"{f}/wsgi", raw, job_url(raw, job10, f), c),
                ]
            )
        groups.append(
            [
                Probe("events/10", main, job_url(main, job10, "json"), c),
                Probe("events/10k", main, job_url(main, job10k, "json"), c),
            ]
        )
        groups.append(
            [
                Probe("engine/sqlite", main, job_url(main, job10, "json"), c),
                Probe("engine/redis", on_redis, job_url(on_redis, job_redis, "json"), c),
            ]
        )
        groups.append(
            [
                Probe("store/1", small, job_url(small, small_job, "json"), c),
                Probe(f"store/{a.jobs}", big, job_url(big, big_job, "json"), c),
            ]
        )
        groups.append(self._poll_group(main, job10, secured, job_auth, token))
        groups.append(
            [
                Probe("faults/none", main, job_url(main, job10, "json"), c),
                Probe("faults/elsewhere", faulty, job_url(faulty, faulty_job, "json"), c),
            ]
        )
        groups.append(
            [
                Probe("c64/mockjobs", main, job_url(main, job10, "json"), c99),
                Probe("c64/flask", flask, job_url(flask, job10, "json"), c99),
                Probe("c64/wsgi", raw, job_url(raw, job10, "json"), c99),
            ]
        )
        rep.note(f"A/B rounds ({sum(len(g) for g in groups)} wrk runs per round) ...")
        self.rounds(groups)
        rep.note(f"  {self.runs_redone} of {self.runs_total} runs restarted: a gunicorn worker held no connection")
        rep.meta["runs_redone"] = [self.runs_redone, self.runs_total]
        for srv, jid in ((main, job10), (main, job10k), (big, big_job)):
            self._check_running(srv, jid)

        # ---------------------------------------------------------------- throughput figures
        rep.add(
            at_least(
                "get.json",
                "GET running job f=json / Flask",
                self.ratio("json/mockjobs", "json/flask"),
                0.8,
                note=f"aim 1.0x; {self.spread('json/mockjobs', 'json/flask')}",
            )
        )
        rep.add(at_least("get.pjson", "GET f=pjson / Flask", self.ratio("pjson/mockjobs", "pjson/flask"), 0.75))
        rep.add(at_least("get.html", "GET f=html / Flask", self.ratio("html/mockjobs", "html/flask"), 0.5))
        rep.add(
            info("ceiling.mockjobs", "GET f=json / raw WSGI (ceiling)", self.ratio("json/mockjobs", "json/wsgi"), "x")
        )
        rep.add(info("ceiling.flask", "Flask baseline / raw WSGI", self.ratio("json/flask", "json/wsgi"), "x"))
        for f in ("json", "pjson", "html"):
            for who in ("mockjobs", "flask", "wsgi"):
                rep.add(info(f"rps.{f}.{who}", f"  req/s f={f} {who}", self.rps(f"{f}/{who}"), "req/s"))
        for f in ("json", "pjson", "html"):
            cm, cf, cw = (self.cpu_per_request(f"{f}/{who}") for who in ("mockjobs", "flask", "wsgi"))
            rep.add(
                info(
                    f"cpu.{f}",
                    f"  server CPU per request f={f}: mockjobs",
                    cm,
                    "us",
                    note=f"Flask {cf:.0f} us, raw WSGI {cw:.0f} us; CPU ratio Flask/mockjobs {cf / cm:.2f}x, "
                    f"WSGI/mockjobs {cw / cm:.2f}x (master+workers utime+stime / requests)",
                )
            )
        rep.add(
            at_least(
                "events.10k",
                "10,000-event job / 10-event job",
                self.ratio("events/10k", "events/10"),
                0.9,
                note=f"{self.spread('events/10k', 'events/10')}",
            )
        )
        rep.add(
            at_least(
                "store.big",
                f"GET with {a.jobs:,} jobs / with 1 job",
                self.ratio(f"store/{a.jobs}", "store/1"),
                0.9,
                note=f"{self.spread(f'store/{a.jobs}', 'store/1')}",
            )
        )
        rep.add(
            at_least(
                "engine.redis",
                "Redis-backed GET f=json / SQLite-backed",
                self.ratio("engine/redis", "engine/sqlite"),
                0.8,
                note=f"{self.spread('engine/redis', 'engine/sqlite')}",
            )
        )
        for a_key, b_key, label in (
            ("events/10k", "events/10", "10,000-event / 10-event job"),
            (f"store/{a.jobs}", "store/1", f"{a.jobs:,} jobs / 1 job"),
        ):
            ca, cb = self.cpu_per_request(a_key), self.cpu_per_request(b_key)
            rep.add(
                info(
                    f"cpu.{a_key}", f"  server CPU per request, {label}", ca / cb, "x", note=f"{ca:.0f} vs {cb:.0f} us"
                )
            )
        rep.add(
            at_least(
                "faults.none",
                "GET a job no fault covers, faults elsewhere / none anywhere",
                self.ratio("faults/elsewhere", "faults/none"),
                0.95,
                note=f"{self.spread('faults/elsewhere', 'faults/none')}",
            )
        )
        cfe, cfn = self.cpu_per_request("faults/elsewhere"), self.cpu_per_request("faults/none")
        rep.add(
            info(
                "cpu.faults",
                "  server CPU per request, faults elsewhere / none",
                cfe / cfn,
                "x",
                note=f"{cfe:.0f} vs {cfn:.0f} us",
            )
        )
        p99m, p99f, p99w = self.p99("c64/mockjobs"), self.p99("c64/flask"), self.p99("c64/wsgi")
        rep.add(
            at_most(
                "p99.c64",
                f"p99 latency at {c99} connections / Flask",
                p99m / p99f,
                1.5,
                note=f"mockjobs {p99m:.1f} ms, Flask {p99f:.1f} ms, raw WSGI {p99w:.1f} ms",
            )
        )
        for who, v in (("mockjobs", p99m), ("flask", p99f), ("wsgi", p99w)):
            rep.add(info(f"p99.{who}", f"  p99 at {c99} connections, {who}", v, "ms"))

        self._poll_figures()

        # ---------------------------------------------------------------- the big store
        rep.note(f"jobs list and memory with {a.jobs:,} jobs ...")
        polled = {s.name: s.memory() for s in (main, flask, raw, small, big)}
        for f, target in (("json", 0.5), ("pjson", 0.5)):
            timed = [servers.timed_get(f"{big.base}{CTX}/rest/jobs?f={f}") for _ in range(5)]
            assert all(st == 200 for _, st, _ in timed), timed
            rep.add(
                at_most(
                    f"list.{f}",
                    f"GET {CTX}/rest/jobs?f={f}, {a.jobs:,} jobs",
                    median([t for t, _, _ in timed]),
                    target,
                    "s",
                    note=f"median of 5; slowest {max(t for t, _, _ in timed):.3f} s; {timed[0][2]:,} bytes",
                )
            )
        for label, path in (
            ("html", f"{CTX}/rest/jobs"),
            ("control", "/__mock/jobs?polls=false"),  # with polls, it reads the whole journal once per job
        ):
            try:
                t, st, size = servers.timed_get(big.base + path, timeout=120)
                rep.add(info(f"list.{label}", f"  GET {path}, {a.jobs:,} jobs", t, "s", note=f"{size:,} bytes"))
            except OSError as exc:
                rep.add(info(f"list.{label}", f"  GET {path}, {a.jobs:,} jobs", float("nan"), "s", note=repr(exc)))
        listed = {s.name: s.memory() for s in (main, flask, raw, small, big)}
        for key, label, mem in (
            ("memory.per10k", "server memory per 10k jobs (RSS), serving polls", polled),
            ("memory.per10k.listed", "  server memory per 10k jobs (RSS), after the lists", listed),
        ):
            per10k = (mem[big.name]["rss_mib"] - mem[small.name]["rss_mib"]) / (a.jobs / 10_000)
            per10k_pss = (mem[big.name]["pss_mib"] - mem[small.name]["pss_mib"]) / (a.jobs / 10_000)
            rep.add(
                info(
                    key,
                    label,
                    per10k,
                    "MiB",
                    note=f"PSS {per10k_pss:.2f} MiB; master+workers RSS: "
                    + ", ".join(f"{k} {v['rss_mib']:.0f}" for k, v in mem.items())
                    + " MiB",
                )
            )
        rep.add(info("seed.big", f"  seeding {a.jobs:,} jobs into SQLite (bench set-up)", seed_s, "s"))
        rep.add(info("startup.big", f"  server start-up with {a.jobs:,} jobs", big.ready_after, "s"))

        # ---------------------------------------------------------------- control API writes
        rep.note("creating jobs through the control API ...")
        before = self._job_count(main)
        script = wrk.post_script(self.tmp, json.dumps({"scenario": "bench-10"}))
        post = Probe("create", main, f"{main.base}/__mock/jobs", c, script)
        runs = [self.measure(post)[0] for _ in range(max(3, a.rounds // 2))]
        self.results["create"] = runs
        created = self._job_count(main) - before
        rep.add(
            info(
                "create.rps",
                "POST /__mock/jobs (jobs created per second)",
                median([r.rps for r in runs]),
                "jobs/s",
                note=f"{created:,} jobs created, {sum(r.non_2xx + r.errors for r in runs)} failed",
            )
        )
        rep.add(info("create.p99", f"  POST /__mock/jobs p99 at {c} connections", median([r.p99 for r in runs]), "ms"))
        before = self._job_count(on_redis)
        post = Probe("create.redis", on_redis, f"{on_redis.base}/__mock/jobs", c, script)
        runs = [self.measure(post)[0] for _ in range(max(3, a.rounds // 2))]
        self.results["create.redis"] = runs
        rep.add(
            info(
                "create.rps.redis",
                "  POST /__mock/jobs on Redis (jobs created per second)",
                median([r.rps for r in runs]),
                "jobs/s",
                note=f"{self._job_count(on_redis) - before:,} jobs created, "
                f"{sum(r.non_2xx + r.errors for r in runs)} failed",
            )
        )
        reset_ms = self._reset_cost(main)
        rep.add(info("reset.http", "  POST /__mock/reset under gunicorn (1 job to drop)", reset_ms, "ms"))
        self.stop_all()
        self._journal_bound(sc_dir)

        # ---------------------------------------------------------------- start-up and scenario files
        self._startup_scaling()
        self._fixture()
        if a.profile:
            self._profile(sc_dir)

        for key, runs_ in self.results.items():
            rep.runs[key] = [asdict(r) for r in runs_]
        return rep

    # ------------------------------------------------------------------ pieces

    def _create(self, srv: Server, scenario: str) -> str:
        start = int(time.time() * 1000) - scenarios.HALF_HOUR_MS
        status, body = servers.post_json(f"{srv.base}/__mock/jobs", {"scenario": scenario, "startTime": start})
        if status != 201:
            raise RuntimeError(f"could not create a {scenario} job: {status} {body}")
        return str(body["jobId"])

    def _faulty_server(self, sc_dir: Path) -> tuple[Server, str]:
        """A server like main whose faults cover other jobs (another job, another scenario); a job they don't cover."""
        srv = self.start(
            servers.mockjobs_server("mockjobs-faults", self.tmp, [sc_dir], self.tmp / "faults.db"), "/__mock/health"
        )
        job, other = self._create(srv, "bench-10"), self._create(srv, "bench-10")
        for fault in (
            {"jobId": other, "when": {"every": 2}, "do": {"http": 503}},
            {"scenario": "bench-10k", "when": {"probability": 0.5, "seed": 1}, "do": {"drop": True}},
        ):
            status, body = servers.post_json(f"{srv.base}/__mock/faults", fault)
            if status != 201:
                raise RuntimeError(f"could not add a fault: {status} {body}")
        return srv, job

    def _poll_group(self, main: Server, job: str, secured: Server, secured_job: str, token: str) -> list[Probe]:
        """The plain GET poll and every other poll form (bench/polls.py), each checked once first."""
        c = self.args.connections
        group = [Probe("poll/get", main, f"{main.base}{CTX}/rest/jobs/{job}?f=json", c)]
        for form in polls.FORMS:
            srv, jid = (secured, secured_job) if form.auth else (main, job)
            polls.check(srv.base, form, jid, token)
            group.append(Probe(form.key, srv, form.url(srv.base, jid, token), c, polls.script(self.tmp, form, token)))
        return group

    def _poll_figures(self) -> None:
        """One row per poll form: its requests/s over the plain GET poll's, target 0.9x; CPU per request beside."""
        base_cpu = self.cpu_per_request("poll/get")
        for form in polls.FORMS:
            cpu = self.cpu_per_request(form.key)
            self.report.add(
                at_least(
                    form.key.replace("/", "."),
                    f"{form.label} / plain GET poll",
                    self.ratio(form.key, "poll/get"),
                    0.9,
                    note=f"{self.rps(form.key):,.0f} vs {self.rps('poll/get'):,.0f} req/s; "
                    f"{self.spread(form.key, 'poll/get')}; server CPU per request {cpu:.0f} vs {base_cpu:.0f} us",
                )
            )

    def _token(self, srv: Server) -> str:
        """A token for the default user, good for a year (the bench never moves the clock)."""
        req = urllib.request.Request(
            f"{srv.base}{CTX}/tokens/generateToken",
            data=b"username=admin&password=admin&expiration=525600&f=json",
            headers={"Content-Type": polls.FORM},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return str(json.loads(r.read())["token"])

    def _check_running(self, srv: Server, job_id: str) -> None:
        status, body = servers.get(f"{srv.base}{CTX}/rest/jobs/{job_id}?f=json")
        doc = json.loads(body)
        if status != 200 or doc.get("jobId") != job_id or doc.get("status") != "EXECUTING":
            raise RuntimeError(f"{srv.name}: job {job_id} is not a running job: {body[:300]!r}")

    def _documents(self, srv: Server, job_id: str) -> Path:
        """mockjobs' bytes for the job in every format, as files the baselines serve."""
        paths = {}
        sizes = []
        for f in ("json", "pjson", "html"):
            status, body = servers.get(f"{srv.base}{CTX}/rest/jobs/{job_id}?f={f}")
            assert status == 200, (status, body[:200])
            path = self.tmp / f"doc.{f}"
            path.write_bytes(body)
            paths[f] = str(path)
            sizes.append(f"{f} {len(body):,} B")
        self.report.note("  job document: " + ", ".join(sizes) + " (the baselines answer these bytes)")
        self.report.meta["document_bytes"] = {f: Path(p).stat().st_size for f, p in paths.items()}
        out = self.tmp / "docs.json"
        out.write_text(json.dumps(paths))
        return out

    def _job_count(self, srv: Server) -> int:
        return int(json.loads(servers.get(f"{srv.base}/__mock/health")[1])["jobs"])

    def _reset_cost(self, srv: Server, times: int = 10) -> float:
        servers.post_json(f"{srv.base}/__mock/reset", {})  # drop what the creation test made
        costs = []
        for _ in range(times):
            self._create(srv, "bench-10")
            t0 = time.perf_counter()
            status, _ = servers.post_json(f"{srv.base}/__mock/reset", {})
            costs.append((time.perf_counter() - t0) * 1000)
            assert status == 200
        return median(costs)

    def _journal_bound(self, sc_dir: Path) -> None:
        """Server memory before and after polls = 100,000 (10,000 with --quick), the journal kept to a fifth."""
        polls = 10_000 if self.args.quick else 100_000
        bound = polls // 5
        self.report.note(f"{polls:,} polls per engine with --journal-max {bound:,} ...")
        self.redis = servers.RedisProcess(self.tmp / "redis-journal")
        for engine, store in (("sqlite", f"sqlite:///{self.tmp / 'journal.db'}"), ("redis", self.redis.url)):
            srv = self.start(
                servers.mockjobs_server(
                    f"journal-{engine}", self.tmp, [sc_dir], None, "--store", store, "--journal-max", str(bound)
                ),
                "/__mock/health",
            )
            job = self._create(srv, "bench-10")
            probe = Probe(f"journal/{engine}", srv, f"{srv.base}{CTX}/rest/jobs/{job}?f=json", self.args.connections)
            self.wrk(probe, seconds=1)  # warm: caches, threads, connections
            before, redis_before = srv.memory()["rss_mib"], self.redis.memory_mib()
            done = 0
            while done < polls:
                self.wrk(probe, seconds=2)
                kept = json.loads(servers.get(f"{srv.base}/__mock/health")[1])["journal"]
                done = kept["entries"] + kept["dropped"]
            after, redis_after = srv.memory()["rss_mib"], self.redis.memory_mib()
            extra = f"; Redis used_memory {redis_before:.1f} -> {redis_after:.1f} MiB" if engine == "redis" else ""
            self.report.add(
                at_most(
                    f"journal.rss.{engine}",
                    f"server RSS after / before {done:,} polls, {engine} (journal bound {bound:,})",
                    after / before,
                    1.1,
                    note=f"{before:.0f} -> {after:.0f} MiB (master+workers); {kept['entries']:,} kept, "
                    f"{kept['dropped']:,} dropped{extra}",
                )
            )
            srv.stop()
        self.redis.stop()

    def _startup_scaling(self) -> None:
        """`mockjobs serve DIR` start-up (to the first health answer) for growing file counts."""
        rep, n = self.report, self.args.files
        sizes = sorted({10, max(n // 10, 20), n})
        rep.note(f"start-up with {', '.join(map(str, sizes))} scenario files ...")
        took: dict[int, float] = {}
        for size in sizes:
            folder = scenarios.write_many(self.tmp / f"many-{size}", size)
            times = []
            for attempt in range(2):
                srv = servers.mockjobs_server(f"mockjobs-{size}files-{attempt}", self.tmp, [folder])
                try:
                    srv.start("/__mock/health", ready=lambda body, k=size: json.loads(body).get("scenarios") == k)
                    times.append(srv.ready_after)
                finally:
                    srv.stop()
            took[size] = min(times)  # start-up noise only ever adds
            rep.note(f"  {size} files: {took[size]:.2f} s")
        from mockjobs.catalog import Registry

        t0 = time.perf_counter()
        Registry([self.tmp / f"many-{n}"], None)
        load_s = time.perf_counter() - t0
        small, mid, big = sizes[0], sizes[1], sizes[-1]
        slope_mid = (took[mid] - took[small]) / (mid - small)
        slope_big = (took[big] - took[small]) / (big - small)
        growth = slope_big / slope_mid if slope_mid > 0 else float("nan")
        rep.add(info("files.startup", f"server start-up with {big:,} scenario files", took[big], "s"))
        rep.add(info("files.load", f"  loading {big:,} scenario files in-process (Registry scan)", load_s, "s"))
        rep.add(
            at_most(
                "files.linear",
                f"start-up growth: per-file cost at {big} / at {mid} files",
                growth,
                1.5,
                note=f"{slope_big * 1000:.2f} ms/file vs {slope_mid * 1000:.2f} ms/file; "
                + ", ".join(f"{k} files {v:.2f} s" for k, v in took.items())
                + " (1.0x = linear)",
            )
        )

    def _fixture(self) -> None:
        """bench/fixture_bench.py's figures (fixture start-up and per-test reset), if present."""
        if importlib.util.find_spec("bench.fixture_bench") is None:
            self.report.add(
                info("fixture", "pytest fixture figures", float("nan"), "", note="bench/fixture_bench.py absent")
            )
            return
        self.report.note("pytest fixture ...")
        from . import fixture_bench

        try:
            figures = fixture_bench.run()
        except Exception as exc:  # report, don't lose the rest of the run
            self.report.add(info("fixture", "pytest fixture figures", float("nan"), "", note=f"failed: {exc!r}"))
            return
        for name, value in figures.items():
            unit = "ms" if name.endswith("_ms") else "s" if name.endswith("_s") else ""
            self.report.add(info(f"fixture.{name}", f"pytest fixture: {name}", float(value), unit))

    def _profile(self, sc_dir: Path) -> None:
        from . import profile

        try:
            top = profile.profile_get(sc_dir, self.tmp, seconds=max(5.0, self.args.seconds * 2))
        except profile.ProfileError as exc:
            self.report.note(f"profile skipped: {exc}")
            return
        self.report.note("profile of GET f=json (py-spy, % of on-CPU samples in the workers):")
        for line in profile.format_top(top):
            self.report.note("  " + line)


@contextlib.contextmanager
def _tempdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mockjobs-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    try:
        wrk.wrk_path()
    except wrk.WrkError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    with _tempdir(args.keep) as tmp:
        bench = Bench(args, tmp)
        try:
            report = bench.run()
        finally:
            bench.stop_all()
    report.meta["wall_s"] = round(time.perf_counter() - t0, 1)
    print()
    print(f"mockjobs bench, {report.meta['date']}: `{report.meta['command']}`, {report.meta['wall_s']:.0f} s")
    print(f"wrk: {report.meta['wrk_command']}, {args.rounds} alternating rounds, medians")
    if "runs_redone" in report.meta:
        redone, total = report.meta["runs_redone"]
        print(f"{redone} of {total} wrk runs restarted because a gunicorn worker got no connection")
    print()
    print(report.table())
    print()
    print(report.summary())
    out = args.out or ROOT / "bench" / "results" / "latest.json"
    report.save(out)
    print(f"record: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
