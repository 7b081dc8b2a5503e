"""The README's examples are real: its scenario loads and replays as the README says."""

from __future__ import annotations

import re

from mockjobs.scenarios import load_text
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    """The README's fenced code blocks of one language."""
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_scenario_is_valid_and_replays(client, clock) -> None:
    text = next(b for b in blocks("yaml") if "name: add-mission-short" in b)
    sc = load_text(text, "README.md")
    assert sc.name == "add-mission-short"
    r = client.post("/__mock/scenarios", data=text, content_type="application/yaml")
    assert r.status_code == 201, r.json
    job = client.post("/__mock/jobs", json={"scenario": sc.name, "vars": {"missionId": "abc"}}).json
    clock.advance(56_000)
    doc = client.get(f"/arcgis/rest/jobs/{job['jobId']}?f=json").json
    assert doc["status"] == "EXECUTING"
    assert doc["customAttributes"]["stepsCompleted"] == 4  # 1, then "+3"
    clock.advance(11_000)
    doc = client.get(f"/arcgis/rest/jobs/{job['jobId']}?f=json").json
    assert doc["status"] == "COMPLETED"
    assert doc["messages"][-1] == "Finished creating mission abc."
    assert doc["endTime"] == job["startTime"] + 66_311


def test_readme_error_example_has_the_documented_shape() -> None:
    (text,) = blocks("text")[:1]
    assert re.fullmatch(r"\S+\.yaml:\d+: [\w.\[\]]+: .+\n", text)


def test_readme_quickstart_names_the_two_commands() -> None:
    (sh,) = blocks("sh")[:1]
    assert "make serve" in sh and "make test" in sh


def test_readme_bad_days_example_is_the_example_test_verbatim() -> None:
    test = (REPO / "tests" / "examples" / "test_bad_days.py").read_text()
    marked = test.split('# README: "Testing a client\'s bad days"\n', 1)[1].split("# README end", 1)[0]
    assert marked.rstrip() + "\n" in blocks("python")


def test_readme_resources_scenario_is_valid_and_answers_as_described(client, clock) -> None:
    text = next(b for b in blocks("yaml") if "resources:" in b)
    assert client.post("/__mock/scenarios", data=text, content_type="application/yaml").status_code == 201
    job_id = client.post("/arcgis/rest/services/exportReport", data={"f": "json", "title": "Q3"}).json["jobId"]
    report_id = client.get(f"/__mock/jobs/{job_id}").json["vars"]["reportId"]
    path = f"/arcgis/rest/reports/{report_id}"
    assert client.get(path, query_string={"f": "json"}).json["error"]["code"] == 404
    clock.advance(30_000)
    assert client.get(path, query_string={"f": "json"}).json == {"reportId": report_id, "owner": "admin", "title": "Q3"}
    assert client.get(f"{path}/status", query_string={"f": "json"}).json == {"ready": True}
    shares = [client.post(f"{path}/share", data={"f": "json"}).json["shareId"] for _ in range(2)]
    assert shares[0] != shares[1]
    entry = {"name": report_id, "type": "ReportServer", "title": "Q3"}
    assert client.get("/arcgis/rest/services", query_string={"f": "json"}).json["services"] == [entry]
    assert client.post(f"/arcgis/rest/services/{report_id}/ReportServer/delete", data={"f": "json"}).json == {
        "success": True
    }
    assert client.get(path, query_string={"f": "json"}).json["error"]["code"] == 404


def test_readme_resources_example_is_the_example_test_verbatim() -> None:
    test = (REPO / "tests" / "examples" / "test_mission_resources.py").read_text()
    marked = test.split('# README: "Resources: what a finished job leaves behind"\n', 1)[1].split("# README end", 1)[0]
    assert marked.rstrip() + "\n" in blocks("python")
