"""Scenario loading: every validation rule of SPEC section 2, and the defaults of a valid file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockjobs.errors import ScenarioErrors
from mockjobs.placeholders import Template, parse, render_value
from mockjobs.scenarios import (
    Scenario,
    field_path,
    load_file,
    load_object,
    load_text,
    scenario_files,
)
from tests.conftest import REPO

BAD = REPO / "tests" / "scenarios_bad"
GOOD = REPO / "tests" / "scenarios_good"

_KNOWN = "(known: jobId, type, username, params.NAME)"
_EVENT_KEYS = "at, message, code, status, steps, attributes"
_STATUSES = "SUBMITTED, EXECUTING, PROCESSING, CANCELLING, CANCELLED, FAILED, COMPLETED"

# One file per rule in tests/scenarios_bad: (file stem, line, field path, message).
# A message ending in "..." is matched as a prefix (PyYAML words the rest).
RULES: list[tuple[str, int, str, str]] = [
    # unknown keys, wherever they are
    ("unknown_key_top_level", 7, "retries", "unknown key (did you mean 'resources'?); allowed here: name, "
     "description, job, vars, trigger, "
     "timeline, on_cancel, jobs, faults, resources"),
    ("unknown_key_job", 4, "job.user", "unknown key (did you mean 'username'?); allowed here: type, username, "
     "totalSteps, status, customAttributes, pendingEndTime, pace"),
    ("unknown_key_event", 8, "timeline[1].mesage",
     f"unknown key (did you mean 'message'?); allowed here: {_EVENT_KEYS}"),
    ("unknown_key_on_cancel_event", 8, "on_cancel[0].note", f"unknown key; allowed here: {_EVENT_KEYS}"),
    ("unknown_key_trigger", 5, "trigger.verb", "unknown key; allowed here: method, path, response, params"),
    ("unknown_key_static_job", 8, "jobs[0].started",
     "unknown key (did you mean 'startTime'?); allowed here: jobId, startTime, vars, params, speed"),
    # required keys: the line is that of the mapping that lacks them
    ("missing_job", 2, "job", "required: a mapping with at least type"),
    ("missing_job_type", 2, "job.type", "required: the job document's type, e.g. addMission"),
    ("empty_job_type", 3, "job.type", "may not be empty"),
    ("job_not_a_mapping", 2, "job", "must be a mapping (key: value lines)"),
    ("missing_timeline", 2, "timeline", "required: the list of events (at least one)"),
    ("empty_timeline", 4, "timeline", "needs at least one event"),
    ("timeline_not_a_list", 4, "timeline", "must be a list (- item lines)"),
    ("event_without_at", 7, "timeline[1].at", "required: every event needs its offset, e.g. at: 0 or at: 12s"),
    # offsets
    ("negative_offset", 5, "timeline[0].at",
     "negative offset -1.5: offsets count from the start and cannot be negative"),
    ("negative_offset_text", 6, "timeline[1].at",
     "negative offset '-2s': offsets count from the start and cannot be negative"),
    ("unparsable_duration", 6, "timeline[1].at",
     "not a duration: '1min' (use seconds as a number, or a form like 250ms, 12s, 1m30s, 1h)"),
    # nothing after a terminal event, in time order (equal offsets keep file order)
    ("event_after_terminal", 7, "timeline[2].at",
     "comes after timeline[1], which ends the job with COMPLETED at 5s; no event may follow a terminal one"),
    ("event_after_terminal_in_time_order", 5, "timeline[0].at",
     "comes after timeline[2], which ends the job with FAILED at 5s; no event may follow a terminal one"),
    ("event_after_terminal_equal_at", 6, "timeline[1].at",
     "comes after timeline[0], which ends the job with COMPLETED at 5s; no event may follow a terminal one"),
    ("on_cancel_event_after_terminal", 8, "on_cancel[1].at",
     "comes after on_cancel[0], which ends the job with CANCELLED at 0s; no event may follow a terminal one"),
    # steps
    ("steps_above_total_steps", 14, "timeline[3].steps", "7 is more than totalSteps (5)"),
    ("relative_steps_above_total_steps", 7, "timeline[1].steps",
     "+2 brings stepsCompleted to 4, which is more than totalSteps (3)"),
    ("on_cancel_steps_above_highest", 7, "on_cancel[0].steps",
     "+1 brings stepsCompleted to 3, which is more than totalSteps "
     "(2, the highest the timeline reaches; set job.totalSteps for more)"),
    ("negative_total_steps", 4, "job.totalSteps", "may not be negative"),
    ("negative_steps", 5, "timeline[0].steps", "steps may not be negative (-1); use a whole number or '+N'"),
    ("bad_steps_value", 5, "timeline[0].steps", "steps must be a whole number or '+N' (quoted), not 1.5"),
    # placeholders, checked at load time wherever they may stand
    ("undeclared_placeholder_in_message", 6, "timeline[0].message", f"undeclared placeholder {{missionId}} {_KNOWN}"),
    ("undeclared_placeholder_in_custom_attributes", 5, "job.customAttributes.missionId",
     "undeclared placeholder {missionID} (known: jobId, missionId, type, username, params.NAME)"),
    ("undeclared_placeholder_in_attributes", 7, "timeline[0].attributes.layers[1]",
     f"undeclared placeholder {{layer}} {_KNOWN}"),
    ("undeclared_placeholder_in_trigger_response", 8, "trigger.response.mission",
     f"undeclared placeholder {{missionId}} {_KNOWN}"),
    ("lone_open_brace", 6, "timeline[0].message", "a { without its closing } (write {{ for a literal brace)"),
    ("lone_close_brace", 6, "timeline[0].message", "a lone } (write }} for a literal brace)"),
    ("empty_placeholder", 6, "timeline[0].message", "empty placeholder {} (write {{}} for literal braces)"),
    ("placeholder_with_format", 6, "timeline[0].message", "placeholder {jobId} may not carry a format or conversion"),
    # statuses and names
    ("bad_event_status", 6, "timeline[0].status", f"'RUNNING' is not allowed; use one of: {_STATUSES}"),
    ("bad_job_status", 4, "job.status", f"'queued' is not allowed; use one of: {_STATUSES}"),
    ("terminal_job_status", 4, "job.status",
     "COMPLETED is terminal; a job starts unfinished (set it with a timeline event at 0)"),
    ("bad_name", 2, "name", "'Add Mission' is not a valid name; use [a-z0-9][a-z0-9._-]*"),
    ("Bad_Stem_Without_Name", 2, "name",
     "no name given, and the file name 'Bad_Stem_Without_Name' is not a valid one; add name: [a-z0-9][a-z0-9._-]*"),
    # vars
    ("bad_generator", 5, "vars.missionId.generate", "unknown generator 'hex64'; use one of: hex32, uuid, jobid"),
    ("generated_var_extra_key", 7, "vars.missionId.length",
     "unknown key; a generated var is written {generate: hex32|uuid|jobid}"),
    ("var_not_scalar", 5, "vars.layers", "a var is text, a number, true/false, null or {generate: hex32|uuid|jobid}"),
    ("bad_var_name", 5, "vars.mission-id", "'mission-id' is not a usable key; use letters, digits and _"),
    ("var_shadows_builtin", 5, "vars.username", "username is a built-in placeholder; give the var another name"),
    # static jobs
    ("static_job_unknown_var", 10, "jobs[0].vars.missionID", "unknown var 'missionID' (declared in vars: missionId)"),
    ("static_job_duplicate_id", 9, "jobs[2].jobId", "duplicate job id jfixed-1 (also jobs[0])"),
    ("static_job_missing_id", 7, "jobs[0].jobId", "required: every static job needs its id"),
    ("static_job_bad_id", 7, "jobs[0].jobId", "'j 1/2' is not a usable job id (letters, digits, _ . -)"),
    ("static_job_bad_speed", 8, "jobs[0].speed", "must be between 0.001 and 1e+06, not 0.0"),
    # attributes, messages, codes, values
    ("reserved_custom_attribute", 6, "job.customAttributes.stepsCompleted",
     "stepsCompleted is computed by the mock; it cannot be set"),
    ("reserved_event_attribute", 6, "timeline[0].attributes.isCancelled",
     "isCancelled is computed by the mock; it cannot be set"),
    ("code_without_message", 6, "timeline[0].code", "a code needs a message (messageCodes run parallel to messages)"),
    ("code_not_integer", 7, "timeline[0].code", "must be a whole number"),
    ("message_null", 6, "timeline[0].message", "is empty (null); give it a value or remove it"),
    ("date_value", 5, "job.customAttributes.created", "a date is not a JSON value; quote it"),
    # triggers and the cancel story
    ("trigger_builtin_path", 5, "trigger.path", "/rest/jobs is a built-in ArcGIS route; pick another path"),
    ("trigger_bad_path", 5, "trigger.path",
     "'rest/create mission' is not a path; write one under the context, like /rest/x"),
    ("trigger_bad_method", 5, "trigger.method", "'FETCH' is not allowed; use one of: GET, POST, PUT, PATCH, DELETE"),
    ("empty_on_cancel", 6, "on_cancel", "needs at least one event (leave on_cancel out for the default story)"),
    # YAML that yaml.safe_load refuses, or that a scenario cannot be
    ("yaml_python_object_tag", 2, "",
     "YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'..."),
    ("yaml_syntax_error", 6, "", "YAML: while parsing a block collection; expected <block end>..."),
    ("yaml_two_documents", 6, "", "YAML: expected a single document in the stream..."),
    ("yaml_not_a_mapping", 2, "", "a scenario is a mapping (job:, timeline:, ...); this file is a list"),
    ("yaml_empty_file", 1, "", "a scenario is a mapping (job:, timeline:, ...); this file is empty"),
    ("yaml_only_comments", 1, "", "a scenario is a mapping (job:, timeline:, ...); this file is empty"),
    ("yaml_duplicate_key", 7, "timeline[0].message",
     "duplicate key (also on line 6); YAML would keep only the last one"),
    ("yaml_key_not_text", 6, "timeline[0].on", "key on is read as true/false; quote it: 'on'"),
    ("yaml_recursive_alias", 5, "", "YAML: a recursive alias (a value that contains itself) has no JSON form"),
]  # fmt: skip


def expected_line(label: str, line: int, field: str, message: str) -> str:
    """The one line `mockjobs check` prints for an error (message without a trailing ...)."""
    where = f"{label}:{line}:"
    text = message.removesuffix("...")
    return f"{where} {field}: {text}" if field else f"{where} {text}"


def errors_of(text: str, file: str = "t.yaml") -> list[str]:
    """The error lines load_text raises for text."""
    with pytest.raises(ScenarioErrors) as info:
        load_text(text, file)
    return [str(e) for e in info.value.errors]


# --------------------------------------------------------------------------- one file per rule


def test_every_bad_file_has_a_rule_and_every_rule_a_file() -> None:
    files = {p.stem for p in BAD.glob("*.yaml")}
    assert files == {stem for stem, *_ in RULES}
    assert len(RULES) == len(files)


@pytest.mark.parametrize(("stem", "line", "field", "message"), RULES, ids=[r[0] for r in RULES])
def test_bad_file_gives_one_error_at_file_line_field(stem: str, line: int, field: str, message: str) -> None:
    label = f"scenarios/{stem}.yaml"
    with pytest.raises(ScenarioErrors) as info:
        load_file(BAD / f"{stem}.yaml", label)
    assert len(info.value.errors) == 1, str(info.value)
    err = info.value.errors[0]
    assert (err.file, err.line, err.field) == (label, line, field)
    if message.endswith("..."):
        assert err.message.startswith(message[:-3])
    else:
        assert err.message == message
    assert str(err).startswith(expected_line(label, line, field, message))


def test_the_issue_example_reads_exactly_so() -> None:
    with pytest.raises(ScenarioErrors) as info:
        load_file(BAD / "steps_above_total_steps.yaml", "scenarios/bad.yaml")
    assert str(info.value) == "scenarios/bad.yaml:14: timeline[3].steps: 7 is more than totalSteps (5)"


# --------------------------------------------------------------------------- more rules, inline


TAIL = "timeline:\n  - at: 0\n"
BASE = "job:\n  type: t\n" + TAIL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(BASE + "    message: '{params.}'\n", "t.yaml:5: timeline[0].message: undeclared placeholder "
                     "{params.}", id="params-without-name"),
        pytest.param(BASE + "    message: '{jobId[0]}'\n", "t.yaml:5: timeline[0].message: undeclared placeholder "
                     "{jobId[0]}", id="indexing-is-not-a-placeholder"),
        pytest.param("job:\n  type: t\n  customAttributes:\n    a: [1, {b: 2020-01-01}]\n" + TAIL,
                     "t.yaml:4: job.customAttributes.a[1].b: a date is not a JSON value", id="deep-date"),
        pytest.param("job:\n  type: t\n  customAttributes:\n    1: x\n" + TAIL,
                     "t.yaml:4: job.customAttributes.1: key 1 is read as a number; quote it: '1'", id="number-key"),
        pytest.param("job:\n  type: t\n  username: 7\n" + TAIL, "t.yaml:3: job.username: must be text",
                     id="username-not-text"),
        pytest.param(BASE + "    at: 1\n", "t.yaml:5: timeline[0].at: duplicate key (also on line 4)", id="dup-at"),
        pytest.param(BASE + "    steps: '3'\n", "t.yaml:5: timeline[0].steps: steps must be a whole number or '+N'",
                     id="steps-quoted-number"),
        pytest.param(BASE + "    steps: true\n", "t.yaml:5: timeline[0].steps: steps must be a whole number",
                     id="steps-bool"),
        pytest.param(BASE + "    code: true\n    message: x\n", "t.yaml:5: timeline[0].code: must be a whole number",
                     id="code-bool"),
        pytest.param(BASE + "  - at: true\n", "t.yaml:5: timeline[1].at: not a duration: True", id="at-bool"),
        pytest.param(BASE + "  - at:\n", "t.yaml:5: timeline[1].at: is empty (null)", id="at-null"),
        pytest.param(BASE + "vars:\n  params: x\n", "t.yaml:6: vars.params: params is a built-in placeholder",
                     id="var-named-params"),
        pytest.param(BASE + "vars:\n  m: {}\n", "t.yaml:6: vars.m: a generated var is written {generate: ",
                     id="var-empty-mapping"),
        pytest.param(BASE + "vars:\n  m: {generate: [hex32]}\n", "t.yaml:6: vars.m.generate: unknown generator",
                     id="generator-not-text"),
        pytest.param(BASE + "jobs:\n  - jobId: j1\n    vars: {}\n    params: 3\n",
                     "t.yaml:8: jobs[0].params: must be a mapping", id="params-not-mapping"),
        pytest.param(BASE + "vars:\n  m: 1\njobs:\n  - jobId: j1\n    vars: {m: [1]}\n",
                     "t.yaml:9: jobs[0].vars.m: a var value is text, a number, true/false or null",
                     id="static-var-not-scalar"),
        pytest.param(BASE + "trigger:\n  path: /rest/info\n", "t.yaml:6: trigger.path: /rest/info is a built-in",
                     id="trigger-rest-info"),
        pytest.param(BASE + "trigger:\n  path: /tokens/generateToken\n", "t.yaml:6: trigger.path: /tokens/",
                     id="trigger-tokens"),
        pytest.param(BASE + "trigger:\n  method: POST\n", "t.yaml:5: trigger.path: required: the trigger's path",
                     id="trigger-without-path"),
        pytest.param(BASE + "trigger:\n  path: /x\n  response:\n", "t.yaml:7: trigger.response: is empty (null)",
                     id="trigger-response-null"),
        pytest.param("job:\n  type: t\n  status: CANCELLED\n" + TAIL, "t.yaml:3: job.status: CANCELLED is terminal",
                     id="job-status-cancelled"),
        pytest.param(BASE + "  - {at: 1s, status: FAILED}\n  - {at: 1s, status: COMPLETED}\n",
                     "t.yaml:6: timeline[2].at: comes after timeline[1], which ends the job with FAILED at 1s",
                     id="two-terminal-events"),
        pytest.param("job:\n  type: t\n  totalSteps: 0\n" + TAIL + "    steps: 1\n",
                     "t.yaml:6: timeline[0].steps: 1 is more than totalSteps (0)", id="total-steps-zero"),
        pytest.param("job:\n  type: t\n  totalSteps: 4\ntimeline:\n  - {at: 0, steps: 4}\non_cancel:\n"
                     "  - {at: 0, steps: '+1', status: CANCELLED}\n",
                     "t.yaml:7: on_cancel[0].steps: +1 brings stepsCompleted to 5, which is more than totalSteps (4)",
                     id="on-cancel-steps-from-the-highest"),
        pytest.param("name: ''\n" + BASE, "t.yaml:1: name: '' is not a valid name", id="empty-name"),
        pytest.param("name: -x\n" + BASE, "t.yaml:1: name: '-x' is not a valid name", id="name-leading-dash"),
        pytest.param("description: [a]\n" + BASE, "t.yaml:1: description: must be text", id="description-list"),
        pytest.param(BASE + "jobs:\n  - jobId: j1\n    startTime: -5\n", "t.yaml:7: jobs[0].startTime: must be epoch "
                     "ms between 0 and 253402300799999", id="negative-start-time"),
        pytest.param(BASE + "jobs: {jobId: j1}\n", "t.yaml:5: jobs: must be a list", id="jobs-not-list"),
        pytest.param("a: &a [*a]\n" + BASE, "t.yaml:1: YAML: a recursive alias", id="recursive-list"),
        pytest.param("job: !custom {type: t}\n" + TAIL, "t.yaml:1: YAML: could not determine a constructor",
                     id="local-tag"),
        pytest.param(BASE + "jobs:\n  - {jobId: j1, speed: .inf}\n", "t.yaml:6: jobs[0].speed: must be a finite number",
                     id="infinite-speed"),
        pytest.param(BASE + '"a\\nb": 1\n', "t.yaml:5: a\\nb: unknown key;", id="line-break-in-key-stays-one-line"),
        pytest.param(BASE + '"a\\nb": 1\n"a\\nb": 2\n', "t.yaml:6: a\\nb: duplicate key", id="line-break-in-duplicate"),
        pytest.param("42\n", "t.yaml:1: a scenario is a mapping (job:, timeline:, ...); this file is a number",
                     id="number-document"),
        pytest.param("just text\n", "t.yaml:1: a scenario is a mapping (job:, timeline:, ...); this file is text",
                     id="text-document"),
    ],
)  # fmt: skip
def test_more_rules_name_their_line_and_field(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected)


def test_every_problem_of_a_file_is_reported_in_line_order() -> None:
    text = (
        "name: Bad\n"  # 1
        "job:\n"  # 2
        "  type: t\n"  # 3
        "  colour: red\n"  # 4
        "timeline:\n"  # 5
        "  - {at: -1}\n"  # 6
        "  - {message: x}\n"  # 7
        "extra: 1\n"  # 8
    )
    assert errors_of(text) == [
        "t.yaml:1: name: 'Bad' is not a valid name; use [a-z0-9][a-z0-9._-]*",
        "t.yaml:4: job.colour: unknown key; allowed here: type, username, totalSteps, status, customAttributes, "
        "pendingEndTime, pace",
        "t.yaml:6: timeline[0].at: negative offset -1: offsets count from the start and cannot be negative",
        "t.yaml:7: timeline[1].at: required: every event needs its offset, e.g. at: 0 or at: 12s",
        "t.yaml:8: extra: unknown key; allowed here: name, description, job, vars, trigger, timeline, on_cancel, jobs, "
        "faults, resources",
    ]


def test_cross_field_problems_are_all_reported_too() -> None:
    text = (
        "job:\n  type: t\n  totalSteps: 1\n  customAttributes: {totalSteps: 1}\n"  # 1-4
        "timeline:\n  - {at: 0, message: '{a}', code: 1}\n  - {at: 1, steps: 2, status: FAILED}\n"  # 5-7
        "  - {at: 2, code: 2}\n"  # 8
    )
    assert errors_of(text) == [
        "t.yaml:4: job.customAttributes.totalSteps: totalSteps is computed by the mock; it cannot be set",
        f"t.yaml:6: timeline[0].message: undeclared placeholder {{a}} {_KNOWN}",
        "t.yaml:7: timeline[1].steps: 2 is more than totalSteps (1)",
        "t.yaml:8: timeline[2].code: a code needs a message (messageCodes run parallel to messages)",
        "t.yaml:8: timeline[2].at: comes after timeline[1], which ends the job with FAILED at 1s; "
        "no event may follow a terminal one",
    ]


# --------------------------------------------------------------------------- valid scenarios


def test_defaults_of_a_minimal_scenario() -> None:
    sc = load_file(GOOD / "minimal.yaml")
    assert sc.name == "minimal"
    assert sc.description == ""
    assert sc.job.type == "exportData"
    assert sc.job.username == "admin"
    assert sc.job.total_steps == 0
    assert sc.job.status == "SUBMITTED"
    assert dict(sc.job.custom_attributes) == {}
    assert sc.job.pending_end_time == 0
    assert sc.vars == ()
    assert sc.trigger is None
    assert sc.jobs == ()
    assert [(e.at_ms, e.status, e.message) for e in sc.timeline] == [(0.0, None, None)]
    assert [(e.at_ms, e.status, e.message, e.code, e.steps) for e in sc.on_cancel] == [
        (0.0, "CANCELLING", None, None, None),
        (1000.0, "CANCELLED", None, None, None),
    ]


@pytest.mark.parametrize(
    ("steps", "total"),
    [([], 0), ([2, "'+3'"], 5), ([4, 1], 4), (["'+1'", "'+1'", 1, "'+4'"], 5)],
)
def test_total_steps_defaults_to_the_highest_steps_reached(steps: list, total: int) -> None:
    events = "".join(f"  - {{at: {i}, steps: {s}}}\n" for i, s in enumerate(steps))
    sc = load_text("job:\n  type: t\ntimeline:\n  - at: 0\n" + events, "t.yaml")
    assert sc.job.total_steps == total


def test_declared_total_steps_wins_over_the_highest_reached() -> None:
    sc = load_text("job:\n  type: t\n  totalSteps: 9\ntimeline:\n  - {at: 0, steps: 2}\n", "t.yaml")
    assert sc.job.total_steps == 9


def test_everything_file_loads_with_every_key() -> None:
    sc = load_file(GOOD / "everything.yaml")
    assert sc.name == "everything.v2"
    assert sc.description == "Uses {{braces}} freely: descriptions are not templates."
    assert (sc.job.type, sc.job.username, sc.job.total_steps, sc.job.status) == (
        "addMission",
        "publisher",
        4,
        "EXECUTING",
    )
    assert sc.job.pending_end_time == -1
    assert list(sc.job.custom_attributes) == ["missionId", "title", "tags", "count", "on"]
    assert [v.name for v in sc.vars] == [
        "missionId",
        "trace",
        "other",
        "kind",
        "retries",
        "ratio",
        "enabled",
        "nothing",
    ]
    assert sc.trigger is not None
    assert (sc.trigger.method, sc.trigger.path) == ("PUT", "/rest/services/createMission")
    assert [e.at_ms for e in sc.timeline] == [0, 250, 500, 500, 12_000, 90_000, 3_600_000]
    merged = sc.timeline[1]  # <<: *started, with its own at, message and steps
    assert (merged.code, merged.status, merged.steps, merged.steps_relative) == (1500, "EXECUTING", 1, True)
    assert [e.at_ms for e in sc.on_cancel] == [0, 66_311]
    static = sc.jobs[1]
    assert (static.job_id, static.start_time, static.speed) == ("jeverything-2", 1590523221196, 2.5)
    assert dict(static.vars) == {"missionId": "d942d2bdb70c4104bcd1a76d4cf8a6b7", "kind": "audit", "nothing": 7}
    assert dict(static.params) == {"title": "Harbor", "depth": [1, 2]}
    assert sc.jobs[0].start_time is None and sc.jobs[0].speed is None


def test_placeholders_are_compiled_and_render_per_job() -> None:
    sc = load_file(GOOD / "everything.yaml")
    values = {"jobId": "j1", "username": "u", "type": "addMission", "params.title": "Harbor", **sc.resolve_vars()}
    values.update(missionId=42, kind="survey", retries=2)
    attrs = render_value(dict(sc.job.custom_attributes), values)
    assert attrs == {
        "missionId": 42,
        "title": "Mission Harbor ({draft})",
        "tags": ["a", "survey", {"nested": "j1"}],
        "count": 3,
        "on": True,
    }
    assert isinstance(sc.timeline[-1].message, Template)
    assert sc.timeline[-1].message.render(values) == "Done {at last}."
    assert render_value(sc.timeline[3].attributes["retries"], values) == 2
    assert sc.trigger is not None
    assert render_value(sc.trigger.response, values) == {
        "jobId": "j1",
        "mission": 42,
        "user": "u",
        "type": "addMission",
    }


def test_events_run_in_time_order_and_equal_offsets_keep_file_order() -> None:
    sc = load_text(
        "job:\n  type: t\ntimeline:\n"
        "  - {at: 3s, message: c}\n  - {at: 1s, message: a1}\n  - {at: 1000ms, message: a2}\n"
        "  - {at: 2, message: b}\n  - {at: 1, message: a3}\n",
        "t.yaml",
    )
    assert [e.message.source for e in sc.timeline if e.message] == ["a1", "a2", "a3", "b", "c"]


def test_an_event_at_the_terminal_offset_before_it_in_the_file_is_allowed() -> None:
    sc = load_text("job:\n  type: t\ntimeline:\n  - {at: 1, message: last}\n  - {at: 1, status: COMPLETED}\n", "t.yaml")
    assert [e.status for e in sc.timeline] == [None, "COMPLETED"]


def test_on_cancel_may_continue_steps_up_to_the_total() -> None:
    sc = load_text(
        "job:\n  type: t\n  totalSteps: 5\ntimeline:\n  - {at: 0, steps: 3}\n"
        "on_cancel:\n  - {at: 0, status: CANCELLING, steps: '+2'}\n  - {at: 1s, status: CANCELLED}\n",
        "t.yaml",
    )
    assert [(e.steps, e.steps_relative) for e in sc.on_cancel] == [(2, True), (None, False)]


def test_resolve_vars_generates_overrides_and_refuses_unknown_names() -> None:
    sc = load_file(GOOD / "everything.yaml")
    first, second = sc.resolve_vars(), sc.resolve_vars()
    assert re.fullmatch(r"[0-9a-f]{32}", first["missionId"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first["trace"])
    assert re.fullmatch(r"j[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first["other"])
    assert first["missionId"] != second["missionId"]
    assert (first["kind"], first["retries"], first["ratio"], first["enabled"], first["nothing"]) == (
        "survey",
        2,
        0.5,
        True,
        None,
    )
    assert sc.resolve_vars({"missionId": "abc"})["missionId"] == "abc"
    with pytest.raises(ValueError, match="unknown var 'nope'"):
        sc.resolve_vars({"nope": 1})


def test_lines_of_a_valid_scenario_are_kept_for_later_errors() -> None:
    sc = load_file(GOOD / "everything.yaml")
    assert sc.lines[("name",)] == 2
    assert sc.lines[("timeline",)] == 29
    assert sc.lines[("timeline", 1, "at")] == 31
    assert sc.lines[("timeline", 1, "code")] == 30  # merged in from the anchored event
    assert sc.lines[("jobs", 1, "jobId")] == 42


def test_version_hash_follows_the_text() -> None:
    a = load_text(BASE, "a.yaml")
    assert a.version == load_text(BASE, "a.yaml").version
    assert a.version != load_text(BASE + "    message: x\n", "a.yaml").version


def test_name_defaults_to_the_stem_given() -> None:
    assert load_text(BASE, "<api>", "from-api").name == "from-api"
    assert load_text("name: given\n" + BASE, "<api>", "ignored").name == "given"


def test_load_object_validates_a_mapping_like_a_file() -> None:
    sc = load_object({"name": "obj", "job": {"type": "t"}, "timeline": [{"at": "1s", "message": "m"}]})
    assert (sc.name, sc.timeline[0].at_ms, sc.source.file) == ("obj", 1000.0, "<api>")
    with pytest.raises(ScenarioErrors) as info:
        load_object({"job": {"type": "t"}, "timeline": [{"at": -1}]})
    assert str(info.value).startswith("<api>:")
    assert "timeline[0].at: negative offset -1" in str(info.value)


def test_load_object_keeps_numbers_and_text_apart() -> None:
    sc = load_object(
        {"job": {"type": "t", "customAttributes": {"big": 1e16, "tiny": 1e-05, "on": "on", "n": "1"}},
         "timeline": [{"at": 1e-05}]}
    )  # fmt: skip
    assert dict(sc.job.custom_attributes) == {"big": 1e16, "tiny": 1e-05, "on": parse("on"), "n": parse("1")}
    assert sc.timeline[0].at_ms == 0.01


def test_unreadable_file_is_one_error() -> None:
    with pytest.raises(ScenarioErrors) as info:
        load_file(REPO / "tests" / "no-such-scenario.yaml", "x.yaml")
    assert str(info.value).startswith("x.yaml:1: cannot read:")


def test_every_bundled_scenario_loads() -> None:
    files = scenario_files(REPO / "scenarios")
    assert files
    loaded: list[Scenario] = [load_file(p) for p in files]
    assert "add-mission" in {sc.name for sc in loaded}


def test_scenario_files_takes_yaml_and_yml_below_a_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.yaml", "a.yml", "sub/c.yaml", "notes.txt", "d.YAML.bak"):
        (tmp_path / name).write_text(BASE)
    assert [p.relative_to(tmp_path).as_posix() for p in scenario_files(tmp_path)] == ["a.yml", "b.yaml", "sub/c.yaml"]
    assert scenario_files(tmp_path / "b.yaml") == [tmp_path / "b.yaml"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("timeline", 3, "steps"), "timeline[3].steps"),
        (("job", "customAttributes", "a", 0, "b"), "job.customAttributes.a[0].b"),
        (("jobs", 0), "jobs[0]"),
    ],
)
def test_field_path(path: tuple, text: str) -> None:
    assert field_path(path) == text
