"""SPEC section 9 over HTTP: several `mockjobs serve` processes on one store, SQLite file or Redis."""

from __future__ import annotations

import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import scenario_folder
from tests.redis_server import RedisServer
from tests.servers import Launcher, Server, wait_until

pytestmark = pytest.mark.slow

CLOCK = 1_800_000_000_000


def steps(message: str = "Started.") -> str:
    """A scenario whose first message tells its version apart."""
    return textwrap.dedent(
        f"""\
        name: steps
        job: {{type: stepJob}}
        timeline:
          - {{at: 0, message: "{message}", status: EXECUTING}}
          - {{at: 10s, message: Half., steps: 1}}
          - {{at: 20s, message: Done., steps: 2, status: COMPLETED}}
        """
    )


def two_hosts(launch: Launcher, tmp_path: Path, store: str, *extra: str) -> tuple[Server, Server, Path, Path]:
    """Two servers, each with its own copy of the scenario folder, sharing one store."""
    folder_a = scenario_folder(tmp_path / "a", {"steps.yaml": steps()})
    folder_b = scenario_folder(tmp_path / "b", {"steps.yaml": steps()})
    a = launch.serve(str(folder_a), "--store", store, "--workers", "2", "--threads", "2", *extra)
    b = launch.serve(str(folder_b), "--store", store, "--workers", "1", "--threads", "2", *extra)
    return a, b, folder_a, folder_b


def test_two_servers_on_one_store_serve_the_same_jobs_clock_cancels_and_journal(
    launch: Launcher, tmp_path: Path, store_url: str
) -> None:
    a, b, _, _ = two_hosts(launch, tmp_path, store_url)
    assert a.url != b.url
    assert a.post("/__mock/clock", json={"freeze": True, "set": CLOCK}).status_code == 200
    assert b.get("/__mock/clock").json()["now"] == CLOCK  # clock moved on one moves both
    assert a.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jshared"}).status_code == 201
    assert b.get("/arcgis/rest/jobs/jshared?f=json").json()["status"] == "EXECUTING"  # made on a, polled on b
    b.post("/__mock/clock", json={"advance": "12s"})
    assert a.get("/arcgis/rest/jobs/jshared?f=json").json()["messages"][-1] == "Half."
    assert b.post("/__mock/jobs/jshared/cancel").status_code == 200
    assert a.get("/arcgis/rest/jobs/jshared?f=json").json()["customAttributes"]["isCancelled"] is True
    assert a.get("/__mock/jobs/jshared").json()["isCancelled"] is True  # cancel seen on both

    ports = {a.url.rsplit(":", 1)[1], b.url.rsplit(":", 1)[1]}
    polls = a.get("/__mock/requests?jobId=jshared&kind=poll").json()["requests"]
    assert len(polls) == 3 and len({p["worker"] for p in polls}) >= 2  # both hosts' polls in one journal
    assert b.get("/__mock/jobs/jshared/polls").json()["count"] == 3
    servers = wait_until(
        lambda: {str(s["port"]) for s in a.get("/__mock/health").json()["servers"]} >= ports and 1,
        what="both servers listed",
    )
    assert servers
    listed = a.get("/__mock/health").json()["servers"]
    assert all({"host", "port", "pid", "version", "lastSeen"} <= s.keys() for s in listed)

    assert a.post("/__mock/reset").status_code == 200  # a reset on one is a reset of all: the health says who
    assert b.get("/__mock/jobs/jshared").status_code == 404


def test_a_job_keeps_its_scenario_version_while_another_host_reloads_a_newer_file(
    launch: Launcher, tmp_path: Path, store_url: str
) -> None:
    a, b, _, folder_b = two_hosts(launch, tmp_path, store_url)
    assert a.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jold"}).status_code == 201
    (folder_b / "steps.yaml").write_text(steps("Started anew."))
    wait_until(
        lambda: (
            b.get("/__mock/scenarios/steps").json().get("version")
            != a.get("/__mock/scenarios/steps").json().get("version")
        ),
        what="b reloads",
    )
    assert b.get("/arcgis/rest/jobs/jold?f=json").json()["messages"][0] == "Started."
    assert b.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jnew"}).status_code == 201
    assert a.get("/arcgis/rest/jobs/jnew?f=json").json()["messages"][0] == "Started anew."
    assert a.get("/arcgis/rest/jobs/jold?f=json").json()["messages"][0] == "Started."


def test_two_concurrent_adds_of_one_scenario_name_give_one_201_and_one_409(
    launch: Launcher, tmp_path: Path, store_url: str
) -> None:
    a, b, _, _ = two_hosts(launch, tmp_path, store_url)
    texts = [steps().replace("name: steps", "name: added") + f"# {n}\n" for n in range(6)]
    codes = Server.parallel(
        lambda n: (
            (a if n % 2 else b)
            .post("/__mock/scenarios", data=texts[n], headers={"Content-Type": "application/yaml"})
            .status_code
        ),
        range(6),
        threads=6,
    )
    assert Counter(codes) == {201: 1, 409: 5}
    assert a.post("/__mock/jobs", json={"scenario": "added"}).status_code == 201
    assert b.post("/__mock/jobs", json={"scenario": "added"}).status_code == 201


def test_the_journal_keeps_journal_max_entries_and_health_counts_the_dropped(
    launch: Launcher, tmp_path: Path, store_url: str
) -> None:
    a, b, _, _ = two_hosts(launch, tmp_path, store_url, "--journal-max", "5")
    a.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jj"})
    for n in range(8):
        assert (a if n % 2 else b).get("/arcgis/rest/jobs/jj?f=json").status_code == 200
    kept = b.get("/__mock/requests").json()
    assert kept["count"] == 5 and all(e["jobId"] == "jj" for e in kept["requests"])
    assert a.get("/__mock/health").json()["journal"] == {"entries": 5, "max": 5, "dropped": 3}


def test_redis_stopped_and_started_mid_run(
    launch: Launcher, tmp_path: Path, redis_url: str, redis_server: RedisServer
) -> None:
    a, b, _, _ = two_hosts(launch, tmp_path, redis_url)
    assert a.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jsurvives"}).status_code == 201
    redis_server.stop()
    try:
        started = time.monotonic()
        health = b.get("/__mock/health")
        assert health.status_code == 503 and "cannot be reached" in health.json()["error"]
        assert time.monotonic() - started < 10  # within seconds, never a hang
        doc = a.get("/arcgis/rest/jobs/jsurvives?f=json")
        assert doc.status_code == 200 and doc.json()["error"]["code"] == 503  # the ArcGIS error envelope
        assert "Traceback" not in doc.text
        html = a.get("/arcgis/rest/jobs/jsurvives")
        assert "Traceback" not in html.text and "503" in html.text
        control = b.post("/__mock/jobs", json={"scenario": "steps"})
        assert control.status_code == 503 and control.headers["Content-Type"] == "application/json"
        assert "error" in control.json()
    finally:
        redis_server.start()
    for srv in (a, b):  # back by itself, with what was stored before
        wait_until(lambda srv=srv: srv.get("/__mock/health").status_code == 200, timeout=15, what="recovery")
        assert srv.get("/arcgis/rest/jobs/jsurvives?f=json").json()["jobId"] == "jsurvives"
    assert b.post("/__mock/jobs", json={"scenario": "steps"}).status_code == 201


def test_a_resource_made_on_one_host_answers_and_is_removed_on_the_other(
    launch: Launcher, tmp_path: Path, store_url: str
) -> None:
    shelf = steps() + textwrap.dedent(
        """\
        resources:
          - path: /rest/shelves/{jobId}
            listed: {name: "{jobId}", type: Shelf}
            document: {job: "{jobId}"}
            operations:
              drop: {response: {success: true}, removes: true}
        """
    )
    folder_a = scenario_folder(tmp_path / "a", {"steps.yaml": shelf})
    folder_b = scenario_folder(tmp_path / "b", {"steps.yaml": shelf})
    a = launch.serve(str(folder_a), "--store", store_url, "--workers", "1")
    b = launch.serve(str(folder_b), "--store", store_url, "--workers", "1")
    assert a.post("/__mock/jobs", json={"scenario": "steps", "jobId": "jshelf"}).status_code == 201
    assert b.get("/arcgis/rest/shelves/jshelf?f=json").json()["error"]["code"] == 404  # not completed yet
    a.post("/__mock/jobs/jshelf/advance", json={"to": "end"})
    assert b.get("/arcgis/rest/shelves/jshelf?f=json").json() == {"job": "jshelf"}
    assert b.get("/arcgis/rest/services?f=json").json()["services"] == [{"name": "jshelf", "type": "Shelf"}]
    assert b.post("/arcgis/rest/shelves/jshelf/drop", data={"f": "json"}).json() == {"success": True}
    assert a.get("/arcgis/rest/shelves/jshelf?f=json").json()["error"]["code"] == 404
    assert a.post("/arcgis/rest/shelves/jshelf/drop", data={"f": "json"}).json()["error"]["code"] == 404
    assert a.get("/__mock/resources").json()["resources"][0]["state"] == "removed"
