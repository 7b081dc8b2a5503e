"""The fixture's resources (SPEC section 11): job.resources, mockjobs.resource(path), a test's own scenario."""

from __future__ import annotations

import pytest
import requests

from mockjobs.pytest_plugin import MockJobs

pytest_plugins = ["pytester"]

EXPORT_YAML = """\
name: export-file
job: {type: exportFile}
vars:
  fileId: {generate: hex32}
trigger: {method: POST, path: /rest/services/exportFile}
timeline:
  - {at: 0, status: EXECUTING}
  - {at: 20s, status: COMPLETED}
resources:
  - path: /rest/files/{fileId}
    aliases: ["/rest/downloads/{fileId}"]
    listed: {name: "{fileId}", type: File, title: "{params.title}"}
    document: {fileId: "{fileId}", title: "{params.title}", size: 1024}
    children: {info: {job: "{jobId}"}}
    operations:
      discard: {response: {success: true}, removes: true}
"""


def test_job_resources_and_resource_by_path_follow_the_job(mockjobs: MockJobs) -> None:
    mockjobs.add_scenario(EXPORT_YAML)
    r = requests.post(f"{mockjobs.rest_url}/services/exportFile", data={"f": "json", "title": "T1"}, timeout=10)
    job = mockjobs.job(r.json()["jobId"])
    (res,) = job.resources
    file_id = job.vars["fileId"]
    assert res.path == f"/rest/files/{file_id}" and res.aliases == (f"/rest/downloads/{file_id}",)
    assert res.url == f"{mockjobs.url}/arcgis/rest/files/{file_id}"
    assert res.state == "pending" and not res.live
    assert requests.get(res.url, params={"f": "json"}, timeout=10).json()["error"]["code"] == 404

    job.advance(to="end")
    assert res.live
    assert res.document == {"fileId": file_id, "title": "T1", "size": 1024}
    assert requests.get(res.url, params={"f": "json"}, timeout=10).json() == res.document
    assert res.listed == {"name": file_id, "type": "File", "title": "T1"}
    assert res.child("info") == {"job": job.id}

    same = mockjobs.resource(f"/rest/downloads/{file_id}")
    assert same.key == res.key
    assert mockjobs.resource(f"{mockjobs.url}/arcgis/rest/files/{file_id}?f=json").key == res.key
    with pytest.raises(KeyError):
        mockjobs.resource("/rest/files/none")

    gone = requests.post(f"{res.url}/discard", data={"f": "json"}, timeout=10)
    assert gone.json() == {"success": True}
    assert res.state == "removed"
    assert [e["path"] for e in res.requests] == [f"/arcgis/rest/files/{file_id}"] * 2 + [
        f"/arcgis/rest/files/{file_id}/discard"
    ]


def test_remove_from_the_test_and_the_next_test_starts_without_them(mockjobs: MockJobs) -> None:
    job = mockjobs.start("create-mission", params={"title": "T"})
    job.advance(to="end")
    (mission,) = job.resources
    assert mission.live and mission.document["missionId"] == job.vars["missionId"]
    mission.remove()
    assert requests.get(mission.url, params={"f": "json"}, timeout=10).json()["error"]["code"] == 404
    mockjobs.reset()
    assert requests.get(mission.url, params={"f": "json"}, timeout=10).json()["error"]["code"] == 404  # job gone
    assert requests.get(f"{mockjobs.rest_url}/services", params={"f": "json"}, timeout=10).json()["total"] == 0


def test_a_test_file_of_its_own_drives_its_scenarios_resources(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("scen")
    (folder / "export.yaml").write_text(EXPORT_YAML)
    pytester.makeini("[pytest]\nmockjobs_scenarios = scen\n")
    pytester.makepyfile(
        """
        import json, urllib.request

        def get(url):
            with urllib.request.urlopen(url + "?f=json") as r:
                return json.load(r)

        def test_client_downloads_the_export(mockjobs):
            job = mockjobs.start("export-file", params={"title": "Quarterly"})
            (export,) = job.resources
            assert get(export.url)["error"]["code"] == 404
            job.advance(to="end")
            assert get(export.url)["title"] == "Quarterly"
            catalog = get(mockjobs.rest_url + "/services")
            assert catalog["services"] == [{"name": job.vars["fileId"], "type": "File", "title": "Quarterly"}]

        def test_next_test_has_no_resources(mockjobs):
            assert get(mockjobs.rest_url + "/services")["total"] == 0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
