"""The OpenAPI 3.1 document of the control API (served at GET /__mock/openapi.json)."""

from __future__ import annotations

from typing import Any

from . import __version__

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    """A reference to a schema in components."""
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response with schema."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    """An error response: {"error": "..."}."""
    return {"$ref": f"#/components/responses/{description}"}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """A JSON request body."""
    return {"required": required, "content": {JSON: {"schema": schema}}}


_JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "description": "A job id, e.g. j522676d9-983a-48e2-a51c-5066966160f0.",
    "schema": {"type": "string"},
}

_DURATION = {
    "description": "Seconds as a number, or a text such as 250ms, 12s, 1m30s, 1h.",
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, in one line."},
            "errors": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Scenario validation errors, one `file:line: field: message` each.",
            },
        },
    },
    "Duration": _DURATION,
    "Clock": {
        "type": "object",
        "properties": {
            "now": {"type": "integer", "description": "Mock time, epoch ms."},
            "real": {"type": "boolean", "description": "True when the clock follows real time exactly."},
            "frozen": {"type": "boolean"},
            "offsetMs": {"type": "integer", "description": "Mock time minus real time."},
        },
    },
    "ClockChange": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "Applied in the order real, freeze, set, advance, unfreeze.",
        "properties": {
            "freeze": {"type": "boolean", "description": "true stops the clock; false lets it run on from there."},
            "set": {"type": "integer", "description": "Show this epoch ms now."},
            "advance": {
                "description": "Move by a duration (may be negative).",
                "oneOf": [{"type": "number"}, {"type": "string"}],
            },
            "real": {"type": "boolean", "description": "true returns to real time."},
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "pid": {"type": "integer"},
            "scenarios": {"type": "integer"},
            "scenarioFiles": {"type": "integer"},
            "jobs": {"type": "integer"},
            "errors": {"type": "array", "items": {"type": "string"}},
            "clock": _ref("Clock"),
            "store": {"type": "string", "description": "The store's URL (sqlite:///PATH or redis://HOST:PORT/DB)."},
            "journal": {
                "type": "object",
                "properties": {n: {"type": "integer"} for n in ("entries", "max", "dropped")},
                "description": "Request journal entries kept, the bound (--journal-max), and how many were dropped.",
            },
            "servers": {
                "type": "array",
                "description": "Server processes attached to the store, heard of in the last 30 s.",
                "items": {
                    "type": "object",
                    "properties": {
                        "host": {"type": "string"},
                        "port": {"type": "integer"},
                        "pid": {"type": "integer"},
                        "version": {"type": "string"},
                        "lastSeen": {"type": "number", "description": "Epoch seconds of its last heartbeat."},
                    },
                },
            },
        },
    },
    "ScenarioSummary": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string"},
            "file": {"type": "string"},
            "version": {"type": "string"},
            "events": {"type": "integer"},
            "duration": {"type": "number", "description": "Offset of the last event, seconds."},
            "trigger": {"type": ["string", "null"], "description": "e.g. POST /rest/services/createMission"},
            "staticJobs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Scenario": {
        "description": "A scenario normalised: every default filled in, offsets in seconds.",
        "allOf": [
            _ref("ScenarioSummary"),
            {
                "type": "object",
                "properties": {
                    "job": {"type": "object"},
                    "vars": {"type": "object"},
                    "trigger": {"type": ["object", "null"]},
                    "timeline": {"type": "array", "items": {"type": "object"}},
                    "on_cancel": {"type": "array", "items": {"type": "object"}},
                    "jobs": {"type": "array", "items": {"type": "object"}},
                },
            },
        ],
    },
    "NewJob": {
        "type": "object",
        "additionalProperties": False,
        "required": ["scenario"],
        "properties": {
            "scenario": {"type": "string"},
            "jobId": {"type": "string", "description": "Default: j + a new UUID."},
            "vars": {"type": "object", "description": "Values of the scenario's vars."},
            "params": {"type": "object", "description": "Trigger parameters, used as {params.NAME}."},
            "speed": {"type": "number", "exclusiveMinimum": 0},
            "startTime": {"type": "integer", "description": "Epoch ms; default: now on the mock clock."},
            "pace": {
                "enum": ["clock", "poll"],
                "description": "poll: the Nth poll shows the state after the Nth event; default: the scenario's.",
            },
        },
    },
    "CreatedJob": {
        "type": "object",
        "properties": {
            "jobId": {"type": "string"},
            "url": {"type": "string", "description": "The job resource under the context path."},
            "scenario": {"type": "string"},
            "startTime": {"type": "integer"},
            "speed": {"type": "number"},
        },
    },
    "Polls": {
        "type": "object",
        "description": "Poll cadence: a poll is any GET or POST of the job resource, any f.",
        "properties": {
            "count": {"type": "integer"},
            "intervals": {
                "type": "object",
                "description": "Real seconds between polls.",
                "properties": {k: {"type": ["number", "null"]} for k in ("min", "median", "max")},
            },
            "afterTerminal": {"type": "integer", "description": "Polls after the first that saw a terminal status."},
            "terminalSeen": {"type": "boolean"},
            "firstDelay": {"type": ["number", "null"], "description": "Real seconds from creation to first poll."},
            "formats": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Job": {
        "type": "object",
        "properties": {
            "jobId": {"type": "string"},
            "url": {"type": "string"},
            "scenario": {"type": "string"},
            "version": {"type": "string"},
            "static": {"type": "boolean"},
            "status": {"type": "string"},
            "stepsCompleted": {"type": "integer"},
            "isCancelled": {"type": "boolean"},
            "startTime": {"type": "integer"},
            "speed": {"type": "number"},
            "elapsed": {"type": "number", "description": "Scenario seconds elapsed."},
            "nextEventAt": {"type": ["number", "null"], "description": "Scenario seconds of the next event."},
            "nextEventTime": {"type": ["integer", "null"], "description": "Mock epoch ms of the next event."},
            "vars": {"type": "object"},
            "params": {"type": "object"},
            "polls": _ref("Polls"),
        },
    },
    "JobDocument": {
        "type": "object",
        "description": "The ArcGIS job document, keys in the documented order.",
        "properties": {
            "jobId": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "string"}},
            "startTime": {"type": "integer"},
            "endTime": {"type": "integer"},
            "type": {"type": "string"},
            "status": {"type": "string"},
            "username": {"type": "string"},
            "customAttributes": {"type": "object"},
        },
    },
    "Advance": {
        "type": "object",
        "additionalProperties": False,
        "description": "Exactly one of by or to; durations are in the job's scenario time.",
        "properties": {
            "by": _ref("Duration"),
            "to": {
                "description": "next (the next event), end (the last event), or an offset.",
                "oneOf": [{"type": "string", "enum": ["next", "end"]}, _ref("Duration")],
            },
        },
    },
    "Request": {
        "type": "object",
        "description": "One request under the context path, as the journal kept it.",
        "properties": {
            "n": {"type": "integer"},
            "real": {"type": "integer", "description": "Real epoch ms."},
            "time": {"type": "integer", "description": "Mock epoch ms."},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "query": {"type": "string"},
            "f": {"type": "string"},
            "http": {"type": "integer"},
            "worker": {"type": "integer"},
            "kind": {"type": "string", "enum": ["root", "jobs", "poll", "trigger", "other"]},
            "jobId": {"type": "string"},
            "status": {"type": "string"},
            "terminal": {"type": "boolean"},
            "error": {"type": "integer", "description": "The ArcGIS error code answered, if any."},
        },
    },
}

_RESPONSES: dict[str, Any] = {
    name: _json(_ref("Error"), text)
    for name, text in {
        "BadRequest": "A body or parameter that cannot be used.",
        "NotFound": "No such job or scenario.",
        "Conflict": "A duplicate, or an operation the job's state refuses.",
    }.items()
}


def _paths() -> dict[str, Any]:
    """Every control route: path (OpenAPI template syntax) -> operations."""
    job = [_JOB_ID]
    return {
        "/__mock/health": {
            "get": {
                "summary": "Status, counts and scenario load errors",
                "operationId": "health",
                "responses": {"200": _json(_ref("Health"), "Health.")},
            }
        },
        "/__mock/scenarios": {
            "get": {
                "summary": "Every scenario",
                "operationId": "listScenarios",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"scenarios": {"type": "array", "items": _ref("ScenarioSummary")}},
                        },
                        "Scenarios, files first, then those added through the API.",
                    )
                },
            },
            "post": {
                "summary": "Add a scenario while serving (YAML text or a JSON object); its static jobs start",
                "operationId": "addScenario",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/yaml": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}},
                        JSON: {"schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "201": _json(_ref("ScenarioSummary"), "Added."),
                    "400": _error("BadRequest"),
                    "409": _error("Conflict"),
                },
            },
        },
        "/__mock/scenarios/{name}": {
            "get": {
                "summary": "One scenario, normalised",
                "operationId": "getScenario",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json(_ref("Scenario"), "The scenario."), "404": _error("NotFound")},
            }
        },
        "/__mock/jobs": {
            "get": {
                "summary": "Every job with its current state, next event and poll summary",
                "operationId": "listJobs",
                "parameters": [
                    {
                        "name": "polls",
                        "in": "query",
                        "description": "false leaves out the poll summaries.",
                        "schema": {"type": "boolean", "default": True},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "description": "Jobs to skip, in creation order.",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "description": "At most this many jobs (default: all).",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "total": {"type": "integer", "description": "Jobs in all."},
                                "jobs": {"type": "array", "items": _ref("Job")},
                            },
                        },
                        "Jobs in creation order.",
                    ),
                    "400": _error("BadRequest"),
                },
            },
            "post": {
                "summary": "Start a job of a scenario",
                "operationId": "createJob",
                "requestBody": _body(_ref("NewJob")),
                "responses": {
                    "201": _json(_ref("CreatedJob"), "Started."),
                    "400": _error("BadRequest"),
                    "404": _error("NotFound"),
                    "409": _error("Conflict"),
                },
            },
        },
        "/__mock/jobs/{job_id}": {
            "get": {
                "summary": "One job with its current state",
                "operationId": "getJob",
                "parameters": job,
                "responses": {"200": _json(_ref("Job"), "The job."), "404": _error("NotFound")},
            },
            "delete": {
                "summary": "Remove a job",
                "operationId": "deleteJob",
                "parameters": job,
                "responses": {
                    "200": _json({"type": "object", "properties": {"deleted": {"type": "string"}}}, "Removed."),
                    "404": _error("NotFound"),
                },
            },
        },
        "/__mock/jobs/{job_id}/at": {
            "get": {
                "summary": "The job document at an elapsed scenario time (scrubbing; changes nothing)",
                "operationId": "jobAt",
                "parameters": [
                    *job,
                    {
                        "name": "t",
                        "in": "query",
                        "required": True,
                        "description": "Elapsed scenario time, e.g. 12s.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(_ref("JobDocument"), "The document."),
                    "400": _error("BadRequest"),
                    "404": _error("NotFound"),
                },
            }
        },
        "/__mock/jobs/{job_id}/advance": {
            "post": {
                "summary": "Move one job forward in its scenario time (no other job moves)",
                "operationId": "advanceJob",
                "parameters": job,
                "requestBody": _body(_ref("Advance")),
                "responses": {
                    "200": _json(_ref("Job"), "The job after the move."),
                    "400": _error("BadRequest"),
                    "404": _error("NotFound"),
                },
            }
        },
        "/__mock/jobs/{job_id}/cancel": {
            "post": {
                "summary": "Cancel a running job: isCancelled flips and on_cancel replays from now",
                "operationId": "cancelJob",
                "parameters": job,
                "responses": {
                    "200": _json(_ref("Job"), "The job, cancelling."),
                    "404": _error("NotFound"),
                    "409": _error("Conflict"),
                },
            }
        },
        "/__mock/jobs/{job_id}/polls": {
            "get": {
                "summary": "How the job was polled",
                "operationId": "jobPolls",
                "parameters": job,
                "responses": {"200": _json(_ref("Polls"), "Poll cadence."), "404": _error("NotFound")},
            }
        },
        "/__mock/jobs/{job_id}/timeline.svg": {
            "get": {
                "summary": "A picture of the job: its events and its polls on one time axis",
                "operationId": "jobTimeline",
                "parameters": job,
                "responses": {
                    "200": {
                        "description": "The picture.",
                        "content": {"image/svg+xml": {"schema": {"type": "string"}}},
                    },
                    "404": _error("NotFound"),
                },
            }
        },
        "/__mock/clock": {
            "get": {
                "summary": "The server's mock clock",
                "operationId": "getClock",
                "responses": {"200": _json(_ref("Clock"), "The clock.")},
            },
            "post": {
                "summary": "Freeze, unfreeze, set, advance the clock, or return it to real time",
                "operationId": "changeClock",
                "requestBody": _body(_ref("ClockChange")),
                "responses": {"200": _json(_ref("Clock"), "The clock after the change."), "400": _error("BadRequest")},
            },
        },
        "/__mock/requests": {
            "get": {
                "summary": "The request journal (requests under the context path), oldest first",
                "operationId": "listRequests",
                "parameters": [
                    {"name": name, "in": "query", "description": text, "schema": {"type": "string"}}
                    for name, text in (
                        ("jobId", "Only requests about this job."),
                        ("method", "Only this HTTP method."),
                        ("kind", "Only this kind: root, jobs, poll, trigger, other."),
                        ("f", "Only this format."),
                        ("path", "Only paths containing this text."),
                    )
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "count": {"type": "integer"},
                                "requests": {"type": "array", "items": _ref("Request")},
                            },
                        },
                        "Matching requests.",
                    )
                },
            },
            "delete": {
                "summary": "Empty the journal",
                "operationId": "clearRequests",
                "responses": {
                    "200": _json({"type": "object", "properties": {"cleared": {"type": "boolean"}}}, "Emptied.")
                },
            },
        },
        "/__mock/reset": {
            "post": {
                "summary": "Drop dynamic jobs and added scenarios, restore static jobs, real clock, empty journal",
                "operationId": "reset",
                "responses": {
                    "200": _json({"type": "object", "properties": {"reset": {"type": "boolean"}}}, "Reset done.")
                },
            }
        },
        "/__mock/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
            }
        },
        "/": {
            "get": {
                "summary": "HTML dashboard: health, scenario errors, scenarios, jobs",
                "operationId": "dashboard",
                "responses": {"200": {"description": "HTML page.", "content": {"text/html": {}}}},
            }
        },
    }


def document(context: str = "/arcgis", server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the control API of a server with this context path."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "mockjobs control API",
            "version": __version__,
            "description": (
                "Mock-only endpoints of mockjobs, a mock of ArcGIS Mission Server's Job resource. "
                f"The ArcGIS surface itself lives under {context or '/'} and is not described here. "
                'JSON in and out, ordinary HTTP statuses, errors as {"error": "<message>"}.'
            ),
        },
        "paths": {**_paths(), **_fault_paths(), **_resource_paths()},
        "components": {"schemas": _SCHEMAS, "responses": _RESPONSES},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _fault_paths() -> dict[str, Any]:
    """/__mock/faults (SPEC section 8); the shapes are mockjobs.fault_schemas'."""
    fault = {
        "type": "object",
        "required": ["id", "when", "do", "source"],
        "properties": {
            "id": {"type": "string"},
            "jobId": {"type": "string", "description": "Only this job's polls."},
            "scenario": {"type": "string", "description": "Only the polls of this scenario's jobs."},
            "when": {
                "type": "object",
                "description": "poll, every, times, after, before, probability, seed; all given must hold.",
            },
            "do": {
                "type": "object",
                "description": "One effect: http (+ retry_after), error, delay, drop, truncate or stale.",
            },
            "source": {"enum": ["api", "scenario"]},
        },
    }
    new_fault = {
        "type": "object",
        "required": ["do"],
        "additionalProperties": False,
        "properties": {k: v for k, v in fault["properties"].items() if k in ("jobId", "scenario", "when", "do")},
    }
    return {
        "/__mock/faults": {
            "get": {
                "summary": "Every fault: those added here, then those of scenario files",
                "operationId": "listFaults",
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"faults": {"type": "array", "items": fault}}}, "Faults."
                    )
                },
            },
            "post": {
                "summary": "Add a fault for one job, one scenario's jobs, or every job",
                "operationId": "addFault",
                "requestBody": _body(new_fault),
                "responses": {"201": _json(fault, "Added."), "400": _error("BadRequest")},
            },
            "delete": {
                "summary": "Remove every fault added here",
                "operationId": "deleteFaults",
                "responses": {"200": _json({"type": "object"}, "Removed; their ids under deleted.")},
            },
        },
        "/__mock/faults/{fault_id}": {
            "delete": {
                "summary": "Remove one fault added here",
                "operationId": "deleteFault",
                "parameters": [{"name": "fault_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "Removed."), "404": _error("NotFound")},
            }
        },
    }


def _resource_paths() -> dict[str, Any]:
    """/__mock/resources (SPEC section 11), generated from mockjobs.control_resources' marshmallow schemas."""
    from .control_resources import openapi_paths

    return openapi_paths()
