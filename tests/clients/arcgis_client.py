"""Esri's Python client (`arcgis` 2.4.4) against a live `mockjobs serve --tls --auth`.

Runs in the client's own venv (``make clients-arcgis``), not in the test venv:

    ARCGIS_VENV/bin/python arcgis_client.py '{"logins": ["connection", "server"], "ctx": "https://...", ...}'

For each login (in one process, so the package is imported once), on a server freshly reset
through the mock's control API: logs in with username and password one of the two ways a
stand-alone server allows, creates a mission with ``MissionCatalog.create_mission``, polls
``MissionJob.status`` until the job is terminal (moving it on through the control API between
polls, so nothing sleeps) and calls ``MissionJob.result()``; then goes on with what the job
left behind, as a client would: ``result().properties``, ``MissionCatalog.missions``,
``Mission.add_report`` and ``Mission.delete``, and reads the mission again afterwards. Prints
one JSON object: per login, what the client saw, which of its modules did the login, and the
server's request journal. Certificates are verified against the server's own (``ca``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import requests
from arcgis.gis._impl._con import Connection
from arcgis.gis.mission import MissionCatalog
from arcgis.gis.mission.api import Mission
from arcgis.gis.server import Server

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


class StandAlone:
    """What MissionCatalog needs of a `GIS`: the connection, and where Mission Server is.

    A portal lists its federated servers; a stand-alone Mission Server has no portal, so this
    lists the one server the client logged in to.
    """

    def __init__(self, con: Connection, ctx: str) -> None:
        self._con = con
        self._ctx = ctx

    def _registered_servers(self) -> dict[str, Any]:
        return {"servers": [{"serverType": "ARCGIS_MISSION_SERVER", "url": self._ctx, "adminUrl": self._ctx}]}


def login(how: str, ctx: str, username: str, password: str, ca: str) -> tuple[Any, Connection]:
    """A logged-in Connection, by `Connection(product="SERVER")` or by `Server(url=<ctx>/admin)`.

    The client verifies no certificate unless told to (its `verify_cert` defaults to False):
    it is told to, trusting the server's self-signed certificate through its `ca_bundles`.
    """
    tls = {"verify_cert": True, "ca_bundles": ca}
    if how == "connection":
        con = Connection(baseurl=ctx, username=username, password=password, product="SERVER", **tls)
        return con, con
    if how == "server":
        server = Server(url=f"{ctx}/admin", username=username, password=password, **tls)
        return server, server._con
    raise ValueError(f"unknown login {how!r}")


def control(args: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    """One call of the mock's control API (not the client's: the test's own hand on the mock)."""
    r = requests.request(method, args["mock"] + path, json=body, timeout=10, verify=args["ca"])
    r.raise_for_status()
    return r.json()


def mission_run(how: str, args: dict[str, Any]) -> dict[str, Any]:
    """Log in the given way, create a mission, poll it to its end, ask for its result."""
    ctx = args["ctx"]
    entry, con = login(how, ctx, args["username"], args["password"], args["ca"])
    catalog = MissionCatalog(StandAlone(con, ctx))
    title = f"{args['title']} ({how})"
    job = catalog.create_mission(title=title, snippet="From Esri's Python client", tags="mockjobs,arcgis")
    job_id = job._url.rsplit("/", 1)[-1]
    statuses = []
    for _ in range(50):
        statuses.append(job.status)
        if statuses[-1] in TERMINAL:
            break
        control(args, "POST", f"/__mock/jobs/{job_id}/advance", {"to": "next"})
    mission = job.result()
    auth = con._session.auth
    left = None if mission is None else left_behind(catalog, mission, StandAlone(con, ctx), con, ctx)
    return {
        "mission": left,
        "jobUrl": job._url,
        "statuses": statuses,
        "properties": dict(job.properties),
        "result": None if mission is None else {"class": type(mission).__name__, "url": mission._url},
        "jobs": [j._url for j in catalog.jobs],
        "connection": {
            "login": f"{type(entry).__module__}.{type(entry).__name__}",
            "module": type(con).__module__,
            "baseurl": con.baseurl,
            "product": con._product,
            "token_url": getattr(con, "_token_url", None),
            "auth": f"{type(auth).__module__}.{type(auth).__name__}",
            "auth_token_url": getattr(auth, "token_url", None),
            "verify": con._session.verify,
        },
    }


def left_behind(catalog: MissionCatalog, mission: Mission, gis: Any, con: Connection, ctx: str) -> dict[str, Any]:
    """What the job left behind, through the client: properties, the catalog, a report, the delete."""
    properties = mission.properties
    listed = catalog.missions
    raw_catalog = con.get(f"{ctx}/rest/services", {"f": "json"})  # the title: the client keeps no more than the URL
    from_catalog = next(m for m in listed if properties["missionId"] in m._url)
    catalog_properties = from_catalog.properties
    report = from_catalog.add_report(
        title="Sighting",
        service_name="sighting_report",
        questions=[{"type": "esriQuestionTypeText", "name": "what", "label": "What did you see?"}],
    )
    deleted = mission.delete()
    after = [m._url for m in catalog.missions]
    again = {}
    for url in (mission._url, from_catalog._url):
        try:
            again[url] = Mission(url=url, gis=gis).properties
        except Exception as exc:  # the client raises on the 404 envelope
            again[url] = f"raised: {exc}"
    return {
        "properties": properties,
        "listed": [m._url for m in listed],
        "catalog": raw_catalog,
        "catalogProperties": catalog_properties,
        "report": report,
        "deleted": deleted,
        "listedAfter": after,
        "again": again,
    }


def main(args: dict[str, Any]) -> dict[str, Any]:
    """Every login of args["logins"] on a freshly reset server, each with the requests the server saw."""
    runs = {}
    for how in args["logins"]:
        control(args, "POST", "/__mock/reset", {})
        run = mission_run(how, args)
        run["journal"] = control(args, "GET", "/__mock/requests")["requests"]
        runs[how] = run
    return runs


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1])), default=str))
