"""Esri's Python client (`arcgis` 2.4.4, in its own cached venv) against `mockjobs serve --tls --auth`.

Both username/password logins a stand-alone server offers, each through createMission ->
COMPLETED -> `result()` -> `.properties` -> `MissionCatalog.missions` -> `add_report` ->
`delete` (SPEC section 11); tests/clients/arcgis_client.py runs in the client's venv and prints
what it saw, the server's request journal shows what it asked for.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import servers
from tests.clients.conftest import HERE, PASSWORD, USER, need
from tests.servers import Server
from tests.test_resources import MISSION_KEYS  # Esri's documented mission service example, in order

pytestmark = pytest.mark.slow

ARCGIS_VENV = Path(os.environ.get("ARCGIS_VENV") or Path.home() / ".cache" / "mockjobs" / "arcgis-venv")
ARCGIS_PYTHON = ARCGIS_VENV / "bin" / "python"
ARCGIS_STAMP = ARCGIS_VENV / ".installed-arcgis-2.4.4"
CLIENT_TIMEOUT = 120.0  # seconds for one login + mission (importing arcgis alone takes a few)


class TlsServer(Server):
    """A `mockjobs serve --tls` process: requests go over HTTPS, verified against its certificate."""

    certfile = ""

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.certfile)
        return super().request(method, path, **kwargs)


@pytest.fixture(scope="module")
def tls_server(request: pytest.FixtureRequest) -> TlsServer:
    """`mockjobs serve --tls --auth --user alice:s3cret` for the module; its certificate path as printed."""
    need(ARCGIS_STAMP.exists(), f"needs Esri's arcgis in {ARCGIS_VENV}: make clients-arcgis")
    launch = servers.launcher(request)
    argv = [servers.MOCKJOBS, "serve", "--port", "0", "--reload-interval", "0", "--tls", "--auth"]
    server = TlsServer([*argv, "--user", f"{USER}:{PASSWORD}"], cwd=servers.REPO, env=servers.clean_env())
    launch.servers.append(server)  # stopped when the module ends
    server.url = server.wait_for(r"serving on (https://\S+)").group(1)
    server.certfile = server.wait_for(r"certificate: (\S+) \(SHA-256 [0-9A-F:]{95}\)").group(1)
    servers.wait_until(lambda: _healthy(server), timeout=servers.START_TIMEOUT, what=f"{server.url} to answer")
    return server


def _healthy(server: Server) -> bool:
    try:
        return server.get("/__mock/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


LOGINS = ("connection", "server")


def run_client(server: TlsServer) -> dict[str, Any]:
    """arcgis_client.py in the arcgis venv, once per login; what it printed."""
    args = {
        "logins": LOGINS,
        "ctx": server.url + "/arcgis",
        "mock": server.url,
        "username": USER,
        "password": PASSWORD,
        "title": "Harbour patrol",
        "ca": server.certfile,
    }
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    proc = subprocess.run(
        [str(ARCGIS_PYTHON), str(HERE / "arcgis_client.py"), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
        env=env,
    )
    assert proc.returncode == 0, f"arcgis client failed:\n{proc.stderr[-4000:]}\n{server.output[-2000:]}"
    return json.loads(proc.stdout)


def test_both_logins_create_mission_poll_to_completed_and_result(tls_server: TlsServer) -> None:
    started = time.time() * 1000
    runs = run_client(tls_server)
    assert list(runs) == list(LOGINS)
    for login, seen in runs.items():
        check_run(login, seen, tls_server.url, started)


def check_run(login: str, seen: dict[str, Any], base: str, started: float) -> None:
    """What one login's run saw, and what it asked the server for."""
    # the login: which of the client's modules did it, and with what
    con = seen["connection"]
    assert (
        con["login"]
        == {
            "connection": "arcgis.gis._impl._con._connection.Connection",
            "server": "arcgis.gis.server.admin.administration.Server",
        }[login]
    )
    assert con["module"] == "arcgis.gis._impl._con._connection"
    assert con["auth"] == "arcgis.auth._auth._token.EsriGenTokenAuth"
    assert con["product"] == "SERVER"
    assert con["verify"] is True
    # the client's own guess at the token service, which it then replaces by rest/info's tokenServicesUrl
    assert con["token_url"] == f"{base}/arcgis/admin/generateToken"

    # the mission
    job_id = seen["properties"]["jobId"]
    assert seen["jobUrl"] == f"{base}/arcgis/rest/jobs/{job_id}"
    assert seen["statuses"][0] == "EXECUTING" and seen["statuses"][-1] == "COMPLETED", login
    assert set(seen["statuses"][:-1]) == {"EXECUTING"}
    props = seen["properties"]
    assert props["type"] == "createNewMissionService" and props["status"] == "COMPLETED"
    assert f'Created mission group for "Harbour patrol ({login})".' in props["messages"]
    assert props["startTime"] <= props["endTime"]
    mission_id = props["customAttributes"]["missionId"]
    assert seen["result"] == {"class": "Mission", "url": f"{base}/arcgis/rest/missions/{mission_id}"}
    assert seen["jobUrl"] in seen["jobs"]

    # what it asked the server for
    entries = seen["journal"]
    asked = [(e["method"], e["path"], e.get("error")) for e in entries if e["kind"] != "poll"]
    assert asked[:3] == [  # the login: EsriGenTokenAuth looks for tokenServicesUrl, then POSTs the credentials
        ("GET", "/arcgis/info", 499),
        ("GET", "/arcgis/rest/info", None),
        ("POST", "/arcgis/tokens/generateToken", None),
    ], login
    assert [a for a in asked if "generateToken" in a[1]] == [asked[2]]  # one token for the whole run
    assert all(not path.startswith("/arcgis/admin") for _, path, _ in asked), asked
    assert ("POST", "/arcgis/rest/services/createMission", None) in asked
    assert ("GET", "/arcgis/rest/jobs", None) in asked
    polls = [e for e in entries if e["kind"] == "poll" and e.get("jobId") == job_id]
    assert polls and all((e["method"], e["f"], e.get("error")) == ("GET", "json", None) for e in polls)
    assert all("token" not in e["query"] for e in polls)  # the token travels in X-Esri-Authorization
    assert all(e["real"] >= started - 1000 for e in entries)

    check_mission(login, seen["mission"], base, mission_id, entries)


def check_mission(login: str, left: dict[str, Any], base: str, mission_id: str, entries: list[dict[str, Any]]) -> None:
    """What the finished job left behind, as Esri's client used it."""
    props = left["properties"]
    assert list(props) == MISSION_KEYS, login
    assert props["missionId"] == mission_id and props["type"] == "MissionServer"
    assert props["owner"] == "admin" and props["summary"] == "From Esri's Python client"
    assert props["tags"] == ["Mission"] and props["currentVersion"] == "11.3"
    service_url = f"{base}/arcgis/rest/services/{mission_id}/MissionServer"
    assert left["listed"] == [service_url]
    assert left["catalog"]["services"] == [
        {"name": mission_id, "type": "MissionServer", "title": f"Harbour patrol ({login})"}
    ]
    assert [left["catalog"][k] for k in ("total", "folders", "num", "start", "nextStart")] == [1, [], 100, 1, -1]
    assert left["catalogProperties"] == props  # the catalog's URL and result()'s answer the same mission
    assert left["report"]["success"] is True and len(left["report"]["reportId"]) == 32
    assert left["deleted"] is True
    assert left["listedAfter"] == []
    for url in (f"{base}/arcgis/rest/missions/{mission_id}", service_url):
        assert left["again"][url].startswith("raised: ") and "(Error Code: 404)" in left["again"][url], url

    asked = [(e["method"], e["path"], e.get("error")) for e in entries if e["kind"] == "resource"]
    assert asked == [
        ("GET", f"/arcgis/rest/missions/{mission_id}", None),
        ("GET", f"/arcgis/rest/services/{mission_id}/MissionServer", None),
        ("POST", f"/arcgis/rest/services/{mission_id}/MissionServer/addReport", None),
        ("POST", f"/arcgis/rest/missions/{mission_id}/delete", None),
        ("GET", f"/arcgis/rest/missions/{mission_id}", 404),
        ("POST", f"/arcgis/rest/missions/{mission_id}", 404),
        ("GET", f"/arcgis/rest/services/{mission_id}/MissionServer", 404),
        ("POST", f"/arcgis/rest/services/{mission_id}/MissionServer", 404),
    ], login


def test_every_worker_answers_the_same_resources_and_sees_their_removal(tls_server: TlsServer) -> None:
    """The resources live in the store: whichever worker answers, the same document; a delete on one shows on all."""
    tls_server.post("/__mock/reset", json={})
    token = tls_server.post(
        "/arcgis/tokens/generateToken", data={"username": USER, "password": PASSWORD, "f": "json"}
    ).json()["token"]
    job = tls_server.post("/__mock/jobs", json={"scenario": "create-mission", "params": {"title": "Shared"}}).json()
    tls_server.post(f"/__mock/jobs/{job['jobId']}/advance", json={"to": "end"})
    (res,) = tls_server.get("/__mock/resources", params={"jobId": job["jobId"]}).json()["resources"]
    mission_id = res["path"].split("/")[3]
    paths = [f"/arcgis/rest/missions/{mission_id}", f"/arcgis/rest/services/{mission_id}/MissionServer"]

    def by_worker(path: str, method: str = "GET") -> dict[str, Any]:
        """The answers of path by worker pid, from fresh connections, until two workers answered."""
        seen: dict[str, Any] = {}
        for _ in range(200):
            r = tls_server.request(method, path, params={"f": "json", "token": token})
            seen.setdefault(r.headers["X-Mockjobs-Worker"], r.json())
            if len(seen) >= 2:
                return seen
        raise AssertionError(f"only worker {list(seen)} answered {path}")

    for path in paths:
        docs = list(by_worker(path).values())
        assert docs[0] == docs[1] and docs[0]["missionId"] == mission_id
    catalogs = list(by_worker("/arcgis/rest/services").values())
    assert catalogs[0] == catalogs[1] and catalogs[0]["services"][0]["title"] == "Shared"

    deleted = tls_server.post(f"{paths[0]}/delete", data={"f": "json", "token": token})
    assert deleted.json() == {"success": True}
    for path in paths:
        for doc in by_worker(path).values():
            assert doc["error"]["code"] == 404, (path, doc)
    for catalog in by_worker("/arcgis/rest/services").values():
        assert catalog["services"] == []
    workers = {e["worker"] for e in tls_server.get("/__mock/requests", params={"kind": "resource"}).json()["requests"]}
    assert len(workers) >= 2
